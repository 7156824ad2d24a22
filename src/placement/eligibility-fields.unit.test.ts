import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EligibilityCheckboxes, eligibilityListFields } from "./eligibility-fields.tsx";

const now = new Date("2026-07-01T00:00:00Z");

async function render(values: Record<string, string>): Promise<string> {
  return String(await EligibilityCheckboxes({ form: { values, errors: {} }, now }));
}

function offered(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`name="${name}" value="([^"]*)"`, "g"))].map((m) => m[1]!);
}

function ticked(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`name="${name}" value="([^"]*)" checked`, "g"))].map(
    (m) => m[1]!,
  );
}

describe("the eligibility checkboxes (job form and announcement form alike)", () => {
  it("offer the usual years and semesters, and keep a value the form holds ticked", async () => {
    const html = await render({ departments: "CSE,ECE", graduation_years: "2024", semesters: "9" });
    expect(offered(html, "graduation_years")).toEqual([
      "2024",
      "2025",
      "2026",
      "2027",
      "2028",
      "2029",
      "2030",
    ]);
    expect(offered(html, "semesters")).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(ticked(html, "departments")).toEqual(["CSE", "ECE"]);
    expect(ticked(html, "graduation_years")).toEqual(["2024"]);
    expect(ticked(html, "semesters")).toEqual(["9"]);
  });

  it("offer no checkbox for a value the parser refuses", async () => {
    const html = await render({ graduation_years: "1e3,0x7eb", semesters: "7e0" });
    expect(offered(html, "graduation_years")).not.toContain("1e3");
    expect(offered(html, "graduation_years")).not.toContain("0x7eb");
    expect(offered(html, "semesters")).not.toContain("7e0");
  });
});

describe("the eligibility lists' parser", () => {
  const schema = z.object(eligibilityListFields(now));

  it("takes nothing, one value or several, each once and in order", () => {
    expect(schema.parse({})).toEqual({ departments: [], graduation_years: [], semesters: [] });
    expect(
      schema.parse({
        departments: ["CSE", "CSE"],
        graduation_years: "2027",
        semesters: ["7", "3"],
      }),
    ).toEqual({ departments: ["CSE"], graduation_years: [2027], semesters: [3, 7] });
  });

  it("refuses unknown departments and numbers not written plainly or out of range", () => {
    for (const bad of [
      { departments: "XYZ" },
      { graduation_years: "1e3" },
      { graduation_years: "2027.0" },
      { graduation_years: "2040" },
      { semesters: ["7", "99"] },
      { semesters: "0" },
    ])
      expect(schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
