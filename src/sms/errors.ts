import { TransportError } from "./transport/types.ts";

/**
 * What to do after a send attempt failed. One function, one table: the original portal compared
 * Twilio's `code` with HTTP numbers, so its retry never ran; this looks at both.
 */
export type SendFailure =
  /** Try again after `delayMs`. `pauseAll`: stop every send for that long (rate limit).
   * `outcomeUnknown`: the message may have gone out, so ask Twilio before sending again.
   * `countsAsAttempt`: false when nothing can have been sent (a rate limit). */
  | {
      action: "retry";
      delayMs: number;
      reason: string;
      code: number | null;
      pauseAll: boolean;
      outcomeUnknown: boolean;
      countsAsAttempt: boolean;
    }
  /** Never going to work for this message: mark it failed with the code. */
  | { action: "fail"; code: number | null; reason: string }
  /** The recipient replied STOP: fail it and mark the student opted out. */
  | { action: "opted_out"; code: number; reason: string }
  /** Our credentials were refused: pause all sending, keep the message queued. */
  | { action: "credentials"; code: number; reason: string };

export interface RetryPolicy {
  /** First backoff (SMS_RETRY_DELAY_SECONDS), in ms. */
  baseDelayMs: number;
  /** 0..1, so that many workers retrying at once do not retry in step. */
  random?: () => number;
}

/** Permanent Twilio errors: the number, the route or the text will not work by waiting. */
export const PERMANENT_CODES = new Set([
  21211, // invalid To
  21408, // region not enabled on the account
  21602, // body missing
  21603, // From or MessagingServiceSid missing
  21604, // To missing
  21606, // From is not a valid sender
  21612, // To/From pair cannot be routed
  21614, // To is not a mobile number
  21617, // body too long
  30005, // unknown handset
  30006, // landline or unreachable carrier
  30007, // carrier filtered the content
]);

/** Twilio errors that clear by themselves: the sender's queue is full. */
export const TRANSIENT_CODES = new Set([21611, 30001, 30008]);

/** Exponential backoff from the base, ±20 % jitter: attempt 1 waits ~base, 2 ~2x, 3 ~4x. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const jitter = 0.8 + 0.4 * (policy.random ?? Math.random)();
  return Math.round(policy.baseDelayMs * 2 ** Math.max(0, attempt - 1) * jitter);
}

export function classifySendError(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
): SendFailure {
  if (!(error instanceof TransportError)) {
    // A bug or an unexpected SDK error: we cannot know whether the request went out.
    return {
      action: "retry",
      delayMs: backoffMs(attempt, policy),
      reason: error instanceof Error ? error.message : String(error),
      code: null,
      pauseAll: false,
      outcomeUnknown: true,
      countsAsAttempt: true,
    };
  }
  const { status, code } = error;
  if (status === 429 || code === 20429) {
    const delayMs =
      error.retryAfterSeconds !== null
        ? Math.ceil(error.retryAfterSeconds * 1000)
        : backoffMs(attempt, policy);
    return {
      action: "retry",
      delayMs,
      reason: `rate limited by Twilio (${code ?? status})`,
      code: code ?? status,
      pauseAll: true,
      outcomeUnknown: false,
      countsAsAttempt: false,
    };
  }
  if (code === 20003 || status === 401) {
    return {
      action: "credentials",
      code: code ?? 20003,
      reason: `credentials rejected: ${error.message}`,
    };
  }
  if (code === 21610)
    return { action: "opted_out", code, reason: "the recipient has opted out (replied STOP)" };
  if (code !== null && TRANSIENT_CODES.has(code)) {
    return {
      action: "retry",
      delayMs: backoffMs(attempt, policy),
      reason: `Twilio ${code}: ${error.message}`,
      code,
      pauseAll: false,
      outcomeUnknown: false,
      countsAsAttempt: true,
    };
  }
  if (error.network || (status !== null && status >= 500)) {
    return {
      action: "retry",
      delayMs: backoffMs(attempt, policy),
      reason: error.network
        ? error.message
        : `Twilio answered HTTP ${status}${code ? ` (${code})` : ""}`,
      code: code ?? status,
      pauseAll: false,
      // A 5xx or a lost answer may come after Twilio accepted the message.
      outcomeUnknown: !error.connectFailed,
      countsAsAttempt: true,
    };
  }
  // Every other answer (a 4xx, including the permanent codes above) will not change on its own.
  return { action: "fail", code: code ?? status, reason: error.message };
}
