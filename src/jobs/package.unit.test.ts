import { describe, expect, it } from "vitest";
import { packageLakhs } from "./package.ts";

describe("a job's package in lakhs a year", () => {
  it("reads the top of the range in the ways the office writes it", () => {
    const cases: [string | null, number | null][] = [
      ["6-8 LPA", 8],
      ["3-12 LPA", 12],
      ["6.5 LPA", 6.5],
      ["12 lakh", 12],
      ["Up to 10 Lacs", 10],
      ["6,50,000 CTC", 6.5],
      ["INR 25,000 a month", 3],
      ["₹30,000 per month stipend", 3.6],
      ["20000/month", 2.4],
      ["1.2 crore", 120],
      ["6-8", 8],
      ["Best in industry", null],
      ["", null],
      [null, null],
    ];
    for (const [text, lakhs] of cases) expect(packageLakhs(text), String(text)).toBe(lakhs);
  });
});
