import { describe, expect, it } from "vitest";
import { csvCell, csvFilename } from "./csv.ts";

describe("CSV cells", () => {
  it("keeps a cell a spreadsheet would run as a formula as text", () => {
    for (const cell of ["=1+1", "+SUM(A1)", "-2+3", "@SUM(1)", "\tx", "\rx", '=HYPERLINK("x")'])
      expect(csvCell(cell)).toBe(`'${cell}`);
  });

  it("leaves plain text, plain numbers and phone numbers as they are", () => {
    expect(csvCell("Asha Rao")).toBe("Asha Rao");
    expect(csvCell("+919876543210")).toBe("+919876543210");
    expect(csvCell("-2")).toBe("-2");
    expect(csvCell("8.20")).toBe("8.20");
    expect(csvCell(7)).toBe("7");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });

  it("names a file with the day in India time", () => {
    // 20:00 UTC on 5 Dec is already 6 Dec in India.
    expect(csvFilename("students", new Date("2026-12-05T20:00:00Z"))).toBe(
      "students-2026-12-06.csv",
    );
  });
});
