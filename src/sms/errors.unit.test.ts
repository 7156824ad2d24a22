import { describe, expect, it } from "vitest";
import { backoffMs, classifyDeliveryError, classifySendError } from "./errors.ts";
import { TransportError } from "./transport/types.ts";

const policy = { baseDelayMs: 1000, random: () => 0.5 }; // jitter factor 1.0

const answer = (status: number, code: number | null, retryAfterSeconds: number | null = null) =>
  new TransportError("from Twilio", { status, code, retryAfterSeconds });

describe("classifySendError", () => {
  it.each([
    // [what happened, expected action, extra expectations]
    [
      "HTTP 429 with Retry-After 2",
      answer(429, 20429, 2),
      { action: "retry", delayMs: 2000, pauseAll: true, countsAsAttempt: false, outage: false },
    ],
    [
      "HTTP 429 without Retry-After",
      answer(429, null),
      { action: "retry", delayMs: 1000, pauseAll: true },
    ],
    [
      "code 20429 on another status",
      answer(400, 20429, 3),
      { action: "retry", delayMs: 3000, pauseAll: true },
    ],
    [
      "HTTP 500",
      answer(500, 20500),
      { action: "retry", delayMs: 1000, pauseAll: false, outcomeUnknown: true, outage: true },
    ],
    [
      "HTTP 503",
      answer(503, null),
      { action: "retry", outcomeUnknown: true, countsAsAttempt: true },
    ],
    ["21611 sender queue full", answer(400, 21611), { action: "retry", outcomeUnknown: false }],
    // 30xxx are delivery-report codes: as the answer to a create they mean nothing known.
    ["30001 as a create answer", answer(400, 30001), { action: "fail" }],
    ["20003 authentication", answer(401, 20003), { action: "credentials", code: 20003 }],
    ["plain 401", answer(401, null), { action: "credentials" }],
    ["21610 unsubscribed", answer(400, 21610), { action: "opted_out", code: 21610 }],
    ["21211 invalid number", answer(400, 21211), { action: "fail", code: 21211 }],
    ["21614 not mobile", answer(400, 21614), { action: "fail", code: 21614 }],
    ["21408 region", answer(400, 21408), { action: "fail", code: 21408 }],
    ["21612 unroutable", answer(400, 21612), { action: "fail", code: 21612 }],
    ["30007 filtered", answer(400, 30007), { action: "fail", code: 30007 }],
    ["unknown 4xx", answer(400, 12345), { action: "fail", code: 12345 }],
    [
      "connection reset",
      new TransportError("reset", { network: true }),
      { action: "retry", outcomeUnknown: true, pauseAll: false, outage: true },
    ],
    [
      "connection refused",
      new TransportError("refused", { network: true, connectFailed: true }),
      { action: "retry", outcomeUnknown: false, outage: true },
    ],
    ["a bug", new Error("boom"), { action: "retry", outcomeUnknown: true, outage: false }],
  ])("%s", (_what, error, expected) => {
    expect(classifySendError(error, 1, policy)).toMatchObject(expected);
  });
});

describe("backoffMs", () => {
  it("doubles from the base with ±20% jitter", () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, policy))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(3, { baseDelayMs: 1000, random: () => 0 })).toBe(3200);
    expect(backoffMs(3, { baseDelayMs: 1000, random: () => 1 })).toBe(4800);
  });
});

describe("backoffMs cap", () => {
  it("never waits longer than SMS_RETRY_MAX_DELAY_SECONDS", () => {
    expect(backoffMs(40, { baseDelayMs: 1000, maxDelayMs: 600_000, random: () => 0.5 })).toBe(
      600_000,
    );
  });
});

describe("classifyDeliveryError", () => {
  it.each([
    [30003, "resend"],
    [30008, "resend"],
    [30005, "final"],
    [30006, "final"],
    [30007, "final"],
    [null, "final"],
  ] as const)("delivery code %s: %s", (code, expected) => {
    expect(classifyDeliveryError(code)).toBe(expected);
  });
});
