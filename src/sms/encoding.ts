/**
 * SMS encoding and segment counting (GSM 03.38). A message in GSM-7 takes 160 characters in one
 * segment or 153 per segment when split; the extension characters cost two. Anything outside
 * GSM-7 makes the whole message UCS-2: 70 UTF-16 units in one segment, 67 per segment when split.
 */

export const MAX_BODY_CHARACTERS = 1600;

const GSM7_BASIC = new Set(
  Array.from(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
  ),
);
const GSM7_EXTENSION = new Set(Array.from("\f^{}\\[~]|€"));

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SegmentCount {
  encoding: SmsEncoding;
  segments: number;
  /** Characters as Twilio counts them for the 1,600 limit. */
  characters: number;
}

export class MessageTooLongError extends Error {
  override name = "MessageTooLongError";
  constructor(readonly characters: number) {
    super(`An SMS can have at most ${MAX_BODY_CHARACTERS} characters; this one has ${characters}.`);
  }
}

export function detectEncoding(body: string): SmsEncoding {
  for (const ch of body) {
    if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return "UCS-2";
  }
  return "GSM-7";
}

/** Packs units into segments without splitting a unit that cannot be split (escape pair, surrogate pair). */
function pack(unitSizes: number[], single: number, multi: number): number {
  const total = unitSizes.reduce((a, b) => a + b, 0);
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const size of unitSizes) {
    if (used + size > multi) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}

export function countSegments(body: string): SegmentCount {
  const characters = Array.from(body).length;
  if (characters > MAX_BODY_CHARACTERS) throw new MessageTooLongError(characters);
  const encoding = detectEncoding(body);
  if (body.length === 0) return { encoding, segments: 1, characters };
  const units =
    encoding === "GSM-7"
      ? Array.from(body, (ch) => (GSM7_EXTENSION.has(ch) ? 2 : 1))
      : Array.from(body, (ch) => ch.length); // UTF-16 code units: 2 for a surrogate pair
  const segments = encoding === "GSM-7" ? pack(units, 160, 153) : pack(units, 70, 67);
  return { encoding, segments, characters };
}

/**
 * Look-alikes replaced before a text is counted and sent, as Twilio's Smart Encoding does: one
 * curly quote or long dash would otherwise make the whole message UCS-2 (70 characters a segment
 * instead of 160). Every replacement is GSM-7.
 */
const LOOK_ALIKES: Record<string, string> = {
  // Double quotes and their kin.
  "\u00AB": '"', // «
  "\u00BB": '"', // »
  "\u201C": '"', // “
  "\u201D": '"', // ”
  "\u201E": '"', // „
  "\u201F": '"', // ‟
  "\u2033": '"', // ″ double prime
  "\u02BA": '"', // ʺ
  "\u02EE": '"', // ˮ
  "\u275D": '"', // ❝
  "\u275E": '"', // ❞
  "\u301D": '"', // 〝
  "\u301E": '"', // 〞
  "\uFF02": '"', // fullwidth "
  // Single quotes, apostrophes and accents used as apostrophes.
  "\u2018": "'", // ‘
  "\u2019": "'", // ’
  "\u201A": "'", // ‚
  "\u201B": "'", // ‛
  "\u2032": "'", // ′ prime
  "\u2039": "'", // ‹
  "\u203A": "'", // ›
  "\u02B9": "'", // ʹ
  "\u02BB": "'", // ʻ
  "\u02BC": "'", // ʼ
  "\u02BD": "'", // ʽ
  "\u02C8": "'", // ˈ
  "\u02CA": "'", // ˊ
  "\u02CB": "'", // ˋ
  "\u00B4": "'", // ´
  "`": "'", // ASCII, but not GSM-7
  "\u275B": "'", // ❛
  "\u275C": "'", // ❜
  "\uFF07": "'", // fullwidth '
  // Dashes, hyphens and minus signs.
  "\u2010": "-", // ‐ hyphen
  "\u2011": "-", // ‑ non-breaking hyphen
  "\u2012": "-", // ‒ figure dash
  "\u2013": "-", // – en dash
  "\u2014": "-", // — em dash
  "\u2015": "-", // ― horizontal bar
  "\u2043": "-", // ⁃ hyphen bullet
  "\u2212": "-", // − minus
  "\uFE58": "-", // ﹘
  "\uFE63": "-", // ﹣
  "\uFF0D": "-", // fullwidth -
  // Bullets and dots used as separators.
  "\u2022": "-", // •
  "\u2023": "-", // ‣
  "\u2219": "-", // ∙
  "\u00B7": "-", // ·
  "\u2026": "...", // …
  // Spaces: no-break, typographic and ideographic ones become a plain space; invisible ones go.
  "\t": " ",
  "\u00A0": " ",
  "\u1680": " ",
  "\u2000": " ",
  "\u2001": " ",
  "\u2002": " ",
  "\u2003": " ",
  "\u2004": " ",
  "\u2005": " ",
  "\u2006": " ",
  "\u2007": " ",
  "\u2008": " ",
  "\u2009": " ",
  "\u200A": " ",
  "\u202F": " ",
  "\u205F": " ",
  "\u3000": " ",
  "\u2028": "\n", // line separator
  "\u2029": "\n", // paragraph separator
  "\u00AD": "", // soft hyphen
  "\u200B": "", // zero-width space
  "\u2060": "", // word joiner
  "\uFEFF": "", // zero-width no-break space (BOM)
  // Slashes, fractions and maths.
  "\u00F7": "/", // ÷
  "\u2044": "/", // ⁄
  "\u2215": "/", // ∕
  "\u29F8": "/", // ⧸
  "\uFF0F": "/", // fullwidth /
  "\u29F5": "\\", // ⧵
  "\u29F9": "\\", // ⧹
  "\uFE68": "\\", // ﹨
  "\uFF3C": "\\", // fullwidth \
  "\u00BC": "1/4", // ¼
  "\u00BD": "1/2", // ½
  "\u00BE": "3/4", // ¾
  "\u00D7": "x", // ×
  "\u2264": "<=", // ≤
  "\u2265": ">=", // ≥
  // Fullwidth punctuation (typed with some Indian-language keyboards).
  "\uFF01": "!",
  "\uFF08": "(",
  "\uFF09": ")",
  "\uFF0C": ",",
  "\uFF0E": ".",
  "\uFF1A": ":",
  "\uFF1B": ";",
  "\uFF1F": "?",
  // Currency.
  "\u20B9": "Rs.", // ₹
};

const LOOK_ALIKE = new RegExp(`[${Object.keys(LOOK_ALIKES).join("")}]`, "g");
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Replaces common Unicode look-alikes (curly quotes, long dashes, the ellipsis, unusual spaces, the
 * bullet, ₹) with GSM-7 equivalents, so a text typed in a word processor still goes out as GSM-7.
 * A lone surrogate (half an emoji, from a broken copy) becomes "?". Running it twice changes nothing.
 */
export function normaliseForSms(text: string): string {
  return text.replace(LONE_SURROGATE, "?").replace(LOOK_ALIKE, (ch) => LOOK_ALIKES[ch] ?? ch);
}

/** Ends a value that was cut short (three dots: "…" is not GSM-7). */
export const CUT_MARK = "...";

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** User-perceived characters: an emoji with its modifiers, a Devanagari letter with its signs. */
function graphemes(text: string): string[] {
  return Array.from(graphemeSegmenter.segment(text), (s) => s.segment);
}

function segmentsOf(body: string): number {
  try {
    return countSegments(body).segments;
  } catch (error) {
    if (error instanceof MessageTooLongError) return Number.POSITIVE_INFINITY;
    throw error;
  }
}

/**
 * Renders a template whose free-text variables are cut so that the whole message, normalised
 * (normaliseForSms), takes at most `maxSegments` segments in the encoding it will be sent in
 * (a Hindi name or an emoji makes it UCS-2; a GSM-7 extension character counts twice).
 *
 * Variables are normalised and their whitespace collapsed. When they do not all fit, the longest
 * are cut first, each to the same number of characters, so a short variable (a name, a roll number)
 * stays whole while a long one (a reason, a message) gives way. A cut value ends with "..." and is
 * cut between user-perceived characters, so never inside a surrogate pair (an emoji), an emoji
 * sequence or a letter with its combining signs; GSM-7 escape pairs are single characters here and
 * are never split either. `render` is told whether anything was cut (to add "read it all" text).
 *
 * Only when the template's fixed text alone does not fit can the result exceed the budget.
 */
export function fitVariablesToSegments<V extends Record<string, string>>(
  render: (vars: V, cut: boolean) => string,
  vars: V,
  maxSegments: number,
): string {
  const names = Object.keys(vars) as (keyof V)[];
  // Only a body's first 1,600 characters can be sent, so a huge value (a pasted document) is
  // split into characters only that far: its last, perhaps broken, character is dropped and the
  // value counts as cut.
  const reach = (MAX_BODY_CHARACTERS + 1) * 2;
  const parts = new Map(
    names.map((name) => {
      const text = normaliseForSms(vars[name] ?? "")
        .replace(/\s+/g, " ")
        .trim();
      const whole = text.length <= reach;
      const chars = graphemes(whole ? text : text.slice(0, reach));
      if (!whole) chars.pop();
      return [name, { chars, whole }];
    }),
  );
  const attempt = (cap: number): string => {
    let cut = false;
    const fitted = { ...vars };
    for (const name of names) {
      const { chars, whole } = parts.get(name)!;
      if (whole && chars.length <= cap) {
        fitted[name] = chars.join("") as V[keyof V];
      } else {
        cut = true;
        fitted[name] = `${chars.slice(0, cap).join("").trimEnd()}${CUT_MARK}` as V[keyof V];
      }
    }
    return normaliseForSms(render(fitted, cut));
  };

  const whole = attempt(Number.POSITIVE_INFINITY);
  if (segmentsOf(whole) <= maxSegments) return whole;
  // The largest per-variable length that fits, by bisection; attempt(0) is the last resort.
  let best = attempt(0);
  let low = 1;
  let high = Math.max(
    0,
    ...Array.from(parts.values(), ({ chars, whole }) => (whole ? chars.length - 1 : chars.length)),
  );
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    const body = attempt(mid);
    if (segmentsOf(body) <= maxSegments) {
      best = body;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best;
}

/**
 * One free-text variable: `fitToSegments((v) => \`Dear ${v}, ...\`, name, 2)` renders the text
 * with `name` cut (ending "...") just enough for the message to fit in 2 segments.
 */
export function fitToSegments(
  render: (value: string, cut: boolean) => string,
  value: string,
  maxSegments: number,
): string {
  return fitVariablesToSegments(({ value: v }, cut) => render(v, cut), { value }, maxSegments);
}
