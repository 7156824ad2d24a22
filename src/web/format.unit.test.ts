import { describe, expect, it } from "vitest";
import { formatCgpa, plural } from "./format.ts";

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
});
