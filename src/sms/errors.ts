import { TransportError } from "./transport/types.ts";

/**
 * What to do after a send attempt failed, decided from Twilio's code and the HTTP status together
 * (a rate limit may come as either 429 or 20429).
 */
export type SendFailure =
  /** Try again after `delayMs`. `pauseAll`: stop every send for that long (rate limit).
   * `outcomeUnknown`: the message may have gone out, so ask Twilio before sending again.
   * `countsAsAttempt`: false when nothing can have been sent (a rate limit).
   * `outage`: Twilio is down or unreachable (5xx, no answer): counts towards the circuit. */
  | {
      action: "retry";
      delayMs: number;
      reason: string;
      code: number | null;
      pauseAll: boolean;
      outcomeUnknown: boolean;
      countsAsAttempt: boolean;
      outage: boolean;
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
  /** Longest backoff (SMS_RETRY_MAX_DELAY_SECONDS), in ms. */
  maxDelayMs?: number;
  /** 0..1, so that many workers retrying at once do not retry in step. */
  random?: () => number;
}

/*
 * Answers to a create request and delivery reports are different things: a create is answered
 * with 2xxxx codes (the request), a delivery report (status callback, `undelivered`/`failed`)
 * carries 3xxxx codes (the carrier). Each has its own table below.
 */

/** Create errors that clear by themselves: the sender's queue is full. */
export const TRANSIENT_CODES = new Set([21611]);

/** Delivery-report codes after which sending the same text again later may reach the phone. */
export const RESENDABLE_DELIVERY_CODES = new Set([
  30003, // handset unreachable (off, out of coverage)
  30008, // unknown delivery error
]);

/**
 * What a delivery report's error code means for the message: worth one more try later
 * (`resend`, when SMS_RESEND_UNDELIVERED_SECONDS allows), or final.
 */
export function classifyDeliveryError(code: number | null): "resend" | "final" {
  return code !== null && RESENDABLE_DELIVERY_CODES.has(code) ? "resend" : "final";
}

/** Exponential backoff from the base, ±20 % jitter: attempt 1 waits ~base, 2 ~2x, 3 ~4x. */
export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const jitter = 0.8 + 0.4 * (policy.random ?? Math.random)();
  const exponential = policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempt - 1));
  return Math.round(Math.min(exponential, policy.maxDelayMs ?? Number.POSITIVE_INFINITY) * jitter);
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
      outage: false,
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
      outage: false,
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
      outage: false,
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
      outage: true,
    };
  }
  // Every other answer (any other 4xx: 21211 an invalid number, 21614 not a mobile, 21617 a body
  // too long, ...) will not change on its own.
  return { action: "fail", code: code ?? status, reason: error.message };
}
