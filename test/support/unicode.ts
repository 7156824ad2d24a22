import fc from "fast-check";

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
