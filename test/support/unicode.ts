import fc from "fast-check";
import { expect } from "vitest";
import { countSegments, normaliseForSms } from "#src/sms/encoding.ts";

export const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Any text a form could send and more: every code point, printable graphemes (emoji sequences,
 * Indic letters with their signs), GSM-7 extension characters, look-alikes and lone surrogates.
 */
export const anyText = (maxLength = 400) =>
  fc.string({
    maxLength,
    unit: fc.oneof(
      { arbitrary: fc.constantFrom("a", "Z", " ", "7", ".", "\n"), weight: 4 },
      { arbitrary: fc.constantFrom("€", "^", "{", "}", "\\", "[", "~", "]", "|"), weight: 2 },
      { arbitrary: fc.constantFrom("“", "”", "’", "–", "—", "…", "₹", "\u00A0", "•"), weight: 2 },
      { arbitrary: fc.constantFrom("अ", "न", "्", "ि", "ம", "😀", "👍🏽", "👩‍👩‍👧"), weight: 2 },
      { arbitrary: fc.string({ unit: "grapheme", maxLength: 1 }), weight: 2 },
      { arbitrary: fc.string({ unit: "binary", maxLength: 1 }), weight: 2 },
      {
        arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
        weight: 1,
      },
    ),
  });

/**
 * Every text `bodies` renders stays within `maxSegments` in its real encoding, is already
 * normalised (normaliseForSms changes nothing) and holds no lone surrogate.
 */
export function assertWithinBudget(bodies: fc.Arbitrary<string>, maxSegments: number): void {
  fc.assert(
    fc.property(bodies, (body) => {
      expect(countSegments(body).segments).toBeLessThanOrEqual(maxSegments);
      expect(body).not.toMatch(LONE_SURROGATE);
      expect(normaliseForSms(body)).toBe(body);
    }),
    { numRuns: 200 },
  );
}
