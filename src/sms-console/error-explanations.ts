/**
 * Twilio's error codes in plain words for a placement officer: what happened, and what to do about
 * it. `short` goes in list rows, `long` and `action` on the message page. The codes are the ones
 * the portal relies on (shared Twilio notes; errors.ts decides retry vs final); others are named
 * by number with Twilio's own page for them.
 */
export interface ErrorExplanation {
  code: number;
  short: string;
  /** What to do; absent when nothing needs doing (it clears by itself). */
  action?: string;
  /** Twilio's page for the code (shown as text, not followed by the portal). */
  moreInfoUrl: string;
  known: boolean;
}

const EXPLANATIONS: Record<number, { short: string; action?: string }> = {
  20003: {
    short: "Twilio refused the portal's credentials",
    action:
      "Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key) in the server's settings; messages stay queued until they work.",
  },
  20429: {
    short: "Twilio's rate limit: too many requests at once",
    action: "Nothing: the portal waits and tries again by itself; nothing was sent.",
  },
  429: {
    short: "Twilio's rate limit: too many requests at once",
    action: "Nothing: the portal waits and tries again by itself; nothing was sent.",
  },
  21211: {
    short: "Not a valid mobile number",
    action: "Correct the student's phone number, then resend.",
  },
  21408: {
    short: "Sending to this country is not enabled on the Twilio account",
    action: "Enable the region in Twilio's geo permissions (Messaging), then resend.",
  },
  21610: {
    short: "The student replied STOP",
    action:
      "The student has opted out; nothing is sent to them until they reply START. Reach them another way.",
  },
  21611: {
    short: "The sender's queue at Twilio is full",
    action: "Nothing: the portal tries again later by itself.",
  },
  21612: {
    short: "Twilio cannot route a message from our sender to this number",
    action: "Check the sender (number or sender ID) can reach Indian mobiles; then resend.",
  },
  21614: {
    short: "The number is not a mobile number (a landline?)",
    action: "Ask the student for a mobile number and correct their phone, then resend.",
  },
  30001: {
    short: "The sender's queue at Twilio overflowed",
    action: "Resend later; send large announcements in smaller groups.",
  },
  30003: {
    short: "The phone is switched off or out of coverage",
    action: "Resend later (the portal may resend once by itself).",
  },
  30005: {
    short: "The number does not exist or is no longer in use",
    action: "Ask the student for their current number and correct their phone.",
  },
  30006: {
    short: "A landline, or a network that cannot take SMS",
    action: "Ask the student for a mobile number and correct their phone.",
  },
  30007: {
    short: "Blocked by the carrier's content filter",
    action:
      "Check the DLT template: the text must match a registered template (and the sender ID its header) exactly.",
  },
  30008: {
    short: "Not delivered, for a reason the carrier did not give",
    action: "Resend later; if it keeps failing, check the number with the student.",
  },
};

export function twilioErrorUrl(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

export function explainError(code: number): ErrorExplanation {
  const known = EXPLANATIONS[code];
  if (known) return { code, ...known, moreInfoUrl: twilioErrorUrl(code), known: true };
  return { code, short: `Twilio error ${code}`, moreInfoUrl: twilioErrorUrl(code), known: false };
}
