/** How numbers and counts read on every page, so one page never says "8.2" and another "8.20". */

/** A CGPA as the portal writes it everywhere: two decimals, "8.20". */
export function formatCgpa(cgpa: number): string {
  return cgpa.toFixed(2);
}

/** "1 application", "2 applications"; `pluralWord` for the irregular ones ("1 batch", "2 batches"). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n.toLocaleString("en-IN")} ${n === 1 ? word : pluralWord}`;
}

/** The word alone, for sentences that put the number elsewhere ("were" / "was" aside). */
export function pluralWord(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}
