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
