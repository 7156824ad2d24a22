/** How numbers read on every page and export: one plural rule, one CGPA style. */

/**
 * "1 student", "2 students", "0 students". `many` for words whose plural is not word + "s"
 * ("batch" -> "batches").
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The word alone, for sentences that put the number elsewhere ("were" / "was" aside). */
export function pluralWord(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** A CGPA always with two decimals ("8.20"), on every page and in every CSV. */
export function formatCgpa(cgpa: number): string {
  return cgpa.toFixed(2);
}
