import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, LONE_SURROGATE } from "#test/support/unicode.ts";
import {
  CUT_MARK,
  countSegments,
  fitToSegments,
  fitVariablesToSegments,
  normaliseForSms,
} from "./encoding.ts";

describe("normaliseForSms", () => {
  it("replaces look-alikes with GSM-7 characters", () => {
    expect(
      normaliseForSms("“Offer” – Bosch’s ₹6 LPA… apply\u00A0now • ‘today’ — ½ day `x` −1"),
    ).toBe(`"Offer" - Bosch's Rs.6 LPA... apply now - 'today' - 1/2 day 'x' -1`);
  });

  it("keeps a text with curly quotes, a dash and ₹ in GSM-7 and one segment", () => {
    const body = normaliseForSms(
      "Dear Asha, your status for “Tata Consultancy Services” – Systems Engineer (₹3.6 LPA) has been updated to ‘Selected’.",
    );
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it("leaves Hindi, emoji and GSM-7 text alone, and turns a lone surrogate into ?", () => {
    expect(normaliseForSms("नमस्ते 😀 €{}")).toBe("नमस्ते 😀 €{}");
    expect(normaliseForSms("a\uD83Db")).toBe("a?b");
    expect(normaliseForSms("\uDE00")).toBe("?");
  });

  it("is idempotent and never leaves a lone surrogate", () => {
    fc.assert(
      fc.property(anyText(), (text) => {
        const once = normaliseForSms(text);
        expect(normaliseForSms(once)).toBe(once);
        expect(once).not.toMatch(LONE_SURROGATE);
      }),
    );
  });
});

describe("fitToSegments", () => {
  const hello = (v: string) => `Hello ${v}, welcome.`;

  it("leaves a value that fits alone", () => {
    expect(fitToSegments(hello, "Asha", 1)).toBe("Hello Asha, welcome.");
  });

  it("cuts a GSM-7 value just enough, ending it with ...", () => {
    const body = fitToSegments(hello, "a".repeat(500), 1);
    expect(body).toHaveLength(160);
    expect(body).toMatch(/^Hello a+\.\.\., welcome\.$/);
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
    expect(countSegments(fitToSegments(hello, "a".repeat(500), 2))).toMatchObject({
      segments: 2,
    });
    expect(fitToSegments(hello, "a".repeat(500), 2)).toHaveLength(306);
  });

  it("counts a Hindi or emoji value in UCS-2: 70 units for one segment, 67 each when split", () => {
    const hindi = fitToSegments(hello, "अ".repeat(200), 1);
    expect(countSegments(hindi)).toMatchObject({ encoding: "UCS-2", segments: 1 });
    expect(hindi).toHaveLength(70);
    const twoHindi = fitToSegments(hello, "अ".repeat(200), 2);
    expect(twoHindi).toHaveLength(134);
    const emoji = fitToSegments(hello, "😀".repeat(100), 1);
    expect(countSegments(emoji)).toMatchObject({ encoding: "UCS-2", segments: 1 });
    expect(emoji).toMatch(/^Hello (😀)+\.\.\., welcome\.$/u);
  });

  it("counts extension characters twice and never splits one", () => {
    const body = fitToSegments(hello, "€".repeat(200), 1);
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
    // "Hello " + n € (2 each) + "..." + ", welcome." must fit 160 units: n = 70.
    expect(body).toBe(`Hello ${"€".repeat(70)}..., welcome.`);
  });

  it("cuts between user-perceived characters, not inside a letter with its signs", () => {
    const name = "स्नेहा ".repeat(40);
    const body = fitToSegments(hello, name, 1);
    const kept = body.slice("Hello ".length, body.indexOf(CUT_MARK));
    expect(name.startsWith(kept)).toBe(true);
    const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
    const boundaries = new Set(Array.from(segmenter.segment(name), (s) => s.index));
    expect(boundaries.has(kept.length) || name[kept.length] === " ").toBe(true);
  });

  it("normalises the value and collapses its whitespace", () => {
    expect(fitToSegments(hello, "  “Asha”\n\tRao  ", 1)).toBe('Hello "Asha" Rao, welcome.');
  });

  it("tells render whether the value was cut", () => {
    const render = (v: string, cut: boolean) => `${v}${cut ? " (more online)" : ""}`;
    expect(fitToSegments(render, "short", 1)).toBe("short");
    expect(fitToSegments(render, "x".repeat(400), 1)).toMatch(/x\.\.\. \(more online\)$/);
  });

  it("for any value and any fixed text that fits, stays in budget with no lone surrogate", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme-ascii", maxLength: 120 }),
        fc.string({ unit: "grapheme-ascii", maxLength: 120 }),
        anyText(),
        fc.integer({ min: 1, max: 4 }),
        (before, after, value, maxSegments) => {
          const fixed = normaliseForSms(`${before}${CUT_MARK}${after}`);
          fc.pre(countSegments(fixed).segments <= maxSegments);
          const body = fitToSegments((v) => `${before}${v}${after}`, value, maxSegments);
          expect(countSegments(body).segments).toBeLessThanOrEqual(maxSegments);
          expect(body).not.toMatch(LONE_SURROGATE);
          expect(normaliseForSms(body)).toBe(body);
        },
      ),
    );
  });

  it("cuts a huge pasted value quickly, marking it cut, without breaking an emoji", () => {
    const render = (v: string, cut: boolean) => `Note: ${v}${cut ? " (more online)" : ""}`;
    const started = performance.now();
    const body = fitToSegments(render, `a${"😀".repeat(100_000)}`, 2);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(body).toMatch(/^Note: a(😀)+\.\.\. \(more online\)$/u);
    expect(countSegments(body)).toMatchObject({ encoding: "UCS-2", segments: 2 });
    // 3,203 units: just past the part that is split into characters; still counts as cut.
    expect(fitToSegments(render, "x".repeat(3203), 20)).toMatch(/x\.\.\. \(more online\)$/);
  });

  it("cuts the longest variables first and keeps short ones whole", () => {
    const body = fitVariablesToSegments(
      (v) => `${v.title}: ${v.message}`,
      { title: "Drive", message: "word ".repeat(100) },
      1,
    );
    expect(body.startsWith("Drive: word word")).toBe(true);
    expect(body.endsWith("...")).toBe(true);
    expect(countSegments(body).segments).toBe(1);
  });
});
