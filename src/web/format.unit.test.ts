import { describe, expect, it } from "vitest";
import { formatCgpa, formatNumber, jobName, plural } from "./format.ts";

describe("the words for numbers", () => {
  it("writes a CGPA with two decimals", () => {
    expect(formatCgpa(8.2)).toBe("8.20");
    expect(formatCgpa(7)).toBe("7.00");
    expect(formatCgpa(9.456)).toBe("9.46");
  });

  it("puts a count and its word in the singular only for one", () => {
    expect(plural(1, "application")).toBe("1 application");
    expect(plural(0, "application")).toBe("0 applications");
    expect(plural(2, "batch", "batches")).toBe("2 batches");
    expect(plural(1200, "job")).toBe("1,200 jobs");
  });

  it("writes every count with separators, as people read them", () => {
    expect(formatNumber(7)).toBe("7");
    expect(formatNumber(1889)).toBe("1,889");
    expect(formatNumber(20000)).toBe("20,000");
    expect(formatNumber(100000)).toBe("1,00,000");
  });

  it("names a job one way: company, en dash, title", () => {
    expect(jobName({ company: "Infosys", title: "Systems Engineer" })).toBe(
      "Infosys \u2013 Systems Engineer",
    );
  });
});
