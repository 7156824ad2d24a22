/**
 * How numbers, counts and jobs read on every page, so one page never says "8.2" and another
 * "8.20", "20000" next to "1,889", or "Infosys - SE" next to "Infosys — SE".
 *
 * Dashes: an en dash (–) joins a company and its title and marks a range; an em dash (—) stands
 * alone for "no value" in a table cell or a field; a hyphen only inside words and in what people
 * typed (a package "6-8 LPA") and in SMS texts (the DLT templates are registered with "-").
 */

/** A count or amount as the portal writes it everywhere: "1,889", "20,000", "1,00,000" (en-IN). */
export function formatNumber(n: number): string {
  return n.toLocaleString("en-IN");
}

/** A CGPA as the portal writes it everywhere: two decimals, "8.20". */
export function formatCgpa(cgpa: number): string {
  return cgpa.toFixed(2);
}

/** The job as people name it, on every page: "Infosys – Systems Engineer". */
export function jobName(job: { company: string; title: string }): string {
  return `${job.company} – ${job.title}`;
}

/** "1 application", "2 applications"; `pluralWord` for the irregular ones ("1 batch", "2 batches"). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${formatNumber(n)} ${n === 1 ? word : pluralWord}`;
}

/** The word alone, for sentences that put the number elsewhere ("were" / "was" aside). */
export function pluralWord(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}
