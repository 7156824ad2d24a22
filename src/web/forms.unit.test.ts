import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  blankAsNull,
  checkedForm,
  decimalField,
  multilineTextField,
  parseForm,
  textField,
  wholeNumberField,
  withFileToChooseAgain,
} from "./forms.ts";
import { parseLocalDateTime } from "./time.ts";

describe("shared field schemas", () => {
  it("refuse lone surrogates and non-characters, which a form post turns into U+FFFD on the wire", () => {
    const line = textField({ label: "a name", max: 100 });
    const text = multilineTextField({ label: "a message", max: 100 });
    for (const bad of [
      "a\ud800b",
      "a\udc00",
      "\ufffe",
      "\uffff",
      "\ufdd0",
      "\u{10ffff}",
      "\u0000",
    ]) {
      expect(line.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
      expect(text.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    // Real text of every script, emoji included, is fine.
    for (const good of ["Priya Sharma", "ಕನ್ನಡ", "देवनागरी", "😀 👩🏽‍💻", "O'Brien-Smith"]) {
      expect(line.parse(good)).toBe(good);
    }
    expect(text.parse("one\r\ntwo\tthree")).toBe("one\r\ntwo\tthree");
    expect(line.safeParse("one\ntwo").success).toBe(false);
  });

  it("read numbers only when written plainly", () => {
    const cgpa = decimalField({ label: "the CGPA", min: 0, max: 10 });
    expect(["8", "8.2", "8.25", "0", "10", "07.5"].map((v) => cgpa.parse(v))).toEqual([
      8, 8.2, 8.25, 0, 10, 7.5,
    ]);
    for (const bad of ["0x0A", "1e1", " 8", "8.", ".5", "Infinity", "NaN", "8.255", "", "-0.5"])
      expect(cgpa.safeParse(bad).success, bad).toBe(false);
    const backlogs = wholeNumberField({ label: "backlogs", min: 0, max: 60 });
    expect(backlogs.parse("3")).toBe(3);
    for (const bad of ["3.0", "1e1", "0x3", "-1", "61", "9".repeat(400)])
      expect(backlogs.safeParse(bad).success, bad).toBe(false);
    const optional = blankAsNull(backlogs);
    expect(optional.parse("")).toBeNull();
    expect(optional.parse(undefined)).toBeNull();
    expect(optional.safeParse(" ").success).toBe(false);
  });

  it("read a local date-time only when it is on the calendar", () => {
    expect(parseLocalDateTime("2028-02-29T10:00")?.toISOString()).toBe("2028-02-29T04:30:00.000Z");
    expect(parseLocalDateTime("2027-02-01T23:59:59")?.toISOString()).toBe(
      "2027-02-01T18:29:59.000Z",
    );
    for (const bad of [
      "2027-02-29T10:00",
      "2027-02-30T10:00",
      "2027-04-31T10:00",
      "2027-13-01T10:00",
      "2027-01-01T24:00",
      "2027-01-01T10:60",
      "2027-01-01T10:00:60",
      "0000-01-01T10:00",
      "2027-01-01",
      " 2027-01-01T10:00",
    ])
      expect(parseLocalDateTime(bad), bad).toBeNull();
  });
});

describe("a form's errors", () => {
  const schema = checkedForm(
    z.object({
      name: textField({ label: "your name", max: 10 }),
      password: z.string(),
      password_confirm: z.string(),
    }),
    {
      fields: ["password", "password_confirm"],
      path: "password_confirm",
      message: "The two passwords do not match.",
      holds: (f) => f.password === f.password_confirm,
    },
  );

  it("come in one round: a check across fields beside a field that failed", () => {
    const result = parseForm(schema, { name: "", password: "a", password_confirm: "b" });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual({
      name: "Enter your name.",
      password_confirm: "The two passwords do not match.",
    });
    const valid = { name: "Asha", password: "a", password_confirm: "a" };
    expect(parseForm(schema, valid)).toEqual({ ok: true, data: valid });
    expect(parseForm(schema, { ...valid, password_confirm: "b" })).toMatchObject({
      ok: false,
      errors: { password_confirm: "The two passwords do not match." },
    });
  });

  it("ask again for a chosen file, beside its field, unless the file has its own error", () => {
    const file = { filename: "cv.pdf", data: Buffer.from("%PDF"), truncated: false };
    expect(withFileToChooseAgain({ name: "Enter your name." }, { resume: file }, "resume")).toEqual(
      {
        name: "Enter your name.",
        resume: "Choose the file (cv.pdf) again: a form sent back cannot keep it.",
      },
    );
    const empty = { filename: "", data: Buffer.alloc(0), truncated: false };
    expect(withFileToChooseAgain({}, { resume: empty }, "resume")).toEqual({});
    expect(withFileToChooseAgain({ resume: "Too big." }, { resume: file }, "resume")).toEqual({
      resume: "Too big.",
    });
  });
});
