import { normaliseForSms } from "./encoding.ts";

/**
 * Whether a message in Twilio's list is the one we sent, by its text (decision 009). Twilio may
 * store a text differently from how we sent it:
 * - a trial account prefixes every body with "Sent from your Twilio trial account - ";
 * - Smart Encoding (a Messaging Service setting) replaces Unicode look-alikes (curly quotes,
 *   dashes, odd spaces) with GSM-7 characters: the same replacements our own texts get
 *   (normaliseForSms), applied to both sides;
 * - line endings may come back as \r\n, and surrounding white space may be trimmed.
 * Nothing else is forgiven, so two different notices never match.
 */

export const TRIAL_PREFIX = "Sent from your Twilio trial account - ";

function canonical(text: string): string {
  const body = text.startsWith(TRIAL_PREFIX) ? text.slice(TRIAL_PREFIX.length) : text;
  return normaliseForSms(body.replace(/\r\n/g, "\n")).trim();
}

export function sameText(ours: string, theirs: string): boolean {
  return ours === theirs || canonical(ours) === canonical(theirs);
}

/**
 * The entries of Twilio's list (to our number, created since our attempt, newest first) that may
 * be the message we sent, best first: those with the same text, then those whose body Twilio
 * returns as null (a redacted message, decision 027) with our segment count. A null body can only
 * be matched by what is left: the number, the time, the segment count and a SID none of our rows
 * carries (the caller checks that).
 */
export function candidatesFor<M extends { body: string | null; segments: number | null }>(
  ours: { body: string; segments: number },
  entries: readonly M[],
): M[] {
  const byText = entries.filter((m) => m.body !== null && sameText(ours.body, m.body));
  const withoutText = entries.filter(
    (m) => m.body === null && (m.segments === null || m.segments === ours.segments),
  );
  return [...byText, ...withoutText];
}
