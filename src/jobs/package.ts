/**
 * A job's package is free text the office types ("6-8 LPA", "12 lakh", "INR 25,000 a month",
 * "6,50,000 CTC"). The student's filter "at least N LPA" and the sort "package, highest first" read
 * it as the top of its range in lakhs a year; text with no figure reads as unknown (null), which a
 * package filter leaves out and the package sort puts last.
 */
export function packageLakhs(text: string | null | undefined): number | null {
  if (!text) return null;
  const figures = [...text.matchAll(/\d[\d,]*(?:\.\d+)?/g)]
    .map((m) => Number(m[0].replace(/,/g, "")))
    .filter((n) => Number.isFinite(n) && n > 0);
  if (figures.length === 0) return null;
  const top = Math.max(...figures);
  const words = text.toLowerCase();
  let lakhs: number;
  if (/\b(crore|cr)\b/.test(words)) lakhs = top * 100;
  else if (/lpa|lakh|\blac|\bl\b/.test(words)) lakhs = top;
  else if (/month|\bpm\b|\/\s*m\b|p\.m\./.test(words)) lakhs = (top * 12) / 100_000;
  else if (top >= 1000) lakhs = top / 100_000;
  // A bare "6-8" or "12": written in lakhs, as packages are in India.
  else if (top <= 200) lakhs = top;
  else return null;
  return Math.round(lakhs * 100) / 100;
}

/** The choices of the student's "Package" filter, in lakhs a year. */
export const PACKAGE_FLOORS = [3, 5, 8, 10, 15, 20] as const;
