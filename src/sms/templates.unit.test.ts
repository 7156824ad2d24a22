import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countSegments } from "./encoding.ts";
import {
  checkTemplateText,
  defineTemplate,
  firstName,
  parseTemplateText,
  testSms,
} from "./templates.ts";

// The features' own texts are tested beside them (students, jobs, applications, announcements:
// notices.unit.test.ts), within their budgets for any unicode input.

describe("SMS template helpers", () => {
  it("render the test message", () => {
    expect(testSms.render({ time: "T" })).toBe("Test message from Placement Portal. Time: T");
    expect(firstName("  Asha Rao ")).toBe("Asha");
  });

  it("keep the test message within its one-segment budget, in GSM-7, for any time", () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        const body = testSms.render({ time: date.toISOString() });
        expect(countSegments(body)).toMatchObject({ encoding: "GSM-7" });
        expect(countSegments(body).segments).toBeLessThanOrEqual(testSms.maxSegments);
      }),
    );
  });
});

describe("template texts", () => {
  const names = ["name", "roll_number"];

  it("parse into fixed text and variables", () => {
    expect(parseTemplateText("Dear {name} ({roll_number}).", names)).toEqual({
      ok: true,
      parts: [
        { literal: "Dear " },
        { variable: "name" },
        { literal: " (" },
        { variable: "roll_number" },
        { literal: ")." },
      ],
    });
    expect(parseTemplateText("No variables at all.", names)).toEqual({
      ok: true,
      parts: [{ literal: "No variables at all." }],
    });
  });

  it.each([
    [
      "Dear {nmae}.",
      "{nmae} is not a variable of this template; it can use {name}, {roll_number}.",
    ],
    ["Dear {Name}.", "{Name} is not a variable of this template"],
    ["Dear {}.", "{} is not a variable of this template"],
    ["Dear {name.", 'A "{" has no "}" after it'],
    ["Dear {na{me}.", 'A "{" has no "}" after it'],
    ["Dear name}.", 'A "}" has no "{" before it'],
    ["Dear {name}}.", 'A "}" has no "{" before it'],
  ])("refuse %j", (text, error) => {
    const parsed = parseTemplateText(text, names);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.error).toContain(error);
  });

  const greeting = defineTemplate({
    id: "greeting",
    title: "Greeting",
    variables: {
      name: { about: "a name", sample: "Asha", cut: true },
      roll_number: { about: "a roll number", sample: "R1", longest: "R".repeat(20) },
    },
    defaultText: "Dear {name} ({roll_number}).",
    maxSegments: 1,
    whenCut: " More online.",
  });

  it("render a saved text, cutting only free text, and add the note when cut", () => {
    expect(greeting.render({ name: "Asha", roll_number: "R1" })).toBe("Dear Asha (R1).");
    expect(greeting.render({ name: "Asha", roll_number: "R1" }, "{roll_number}: hi {name}")).toBe(
      "R1: hi Asha",
    );
    const long = greeting.render({ name: "x".repeat(400), roll_number: "R1" });
    expect(long).toMatch(/^Dear x+\.\.\. \(R1\)\. More online\.$/);
    expect(countSegments(long).segments).toBe(1);
  });

  it("check that an edited text fits its budget with free text cut and fixed text at its longest", () => {
    expect(checkTemplateText(greeting, "Hi {name} {roll_number}")).toEqual({ ok: true });
    // Fits one segment with "R1" and the name whole; not with the name cut (so the note is
    // added) and the 20-character roll number.
    const tight = `${"a".repeat(130)} {roll_number} {name}`;
    expect(countSegments(greeting.render({ name: "", roll_number: "R1" }, tight)).segments).toBe(1);
    expect(checkTemplateText(greeting, tight)).toMatchObject({
      ok: false,
      error: expect.stringContaining("takes 2 segments in GSM-7 even with {name} cut"),
    });
    expect(checkTemplateText(greeting, "Hi {nmae}")).toMatchObject({ ok: false });
    // Unicode fixed text: UCS-2 budgets.
    expect(checkTemplateText(greeting, `${"अ".repeat(60)} {name}`)).toMatchObject({
      ok: false,
      error: expect.stringContaining("in UCS-2"),
    });
    expect(checkTemplateText(greeting, `${"अ".repeat(30)} {name}`)).toEqual({ ok: true });
  });

  it("refuse to define a template whose default text is not valid", () => {
    expect(() =>
      defineTemplate({
        id: "broken",
        title: "Broken",
        variables: { name: { about: "a name", sample: "A" } },
        defaultText: "Dear {nme}",
        maxSegments: 1,
      }),
    ).toThrow("{nme} is not a variable");
  });
});
