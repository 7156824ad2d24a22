/**
 * Whether a message in Twilio's list is the one we sent, by its text (decision 009). Twilio may
 * store a text differently from how we sent it:
 * - a trial account prefixes every body with "Sent from your Twilio trial account - ";
 * - Smart Encoding (a Messaging Service setting) replaces Unicode look-alikes (curly quotes,
 *   dashes, odd spaces) with GSM-7 characters;
 * - line endings may come back as \r\n.
 * Both sides are brought to one form before they are compared; nothing else is forgiven, so two
 * different notices never match.
 */

const TRIAL_PREFIX = "Sent from your Twilio trial account - ";

/** Look-alikes Smart Encoding replaces, and what it puts instead. */
const LOOK_ALIKES: [RegExp, string][] = [
  [/[\u2018\u2019\u201A\u201B\u2032\u00B4\u0060]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/g, '"'],
  [/[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g, "-"],
  [/\u2026/g, "..."],
  [/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, " "],
  [/\u200B|\u200C|\u200D|\u2060|\uFEFF/g, ""],
  [/\u2022/g, "-"],
];

function canonical(text: string): string {
  let out = text.startsWith(TRIAL_PREFIX) ? text.slice(TRIAL_PREFIX.length) : text;
  out = out.replace(/\r\n/g, "\n");
  for (const [pattern, replacement] of LOOK_ALIKES) out = out.replace(pattern, replacement);
  return out.trim();
}

export function sameText(ours: string, theirs: string): boolean {
  return ours === theirs || canonical(ours) === canonical(theirs);
}
