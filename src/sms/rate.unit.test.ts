import { describe, expect, it } from "vitest";
import { AdaptiveRate } from "./rate.ts";

/**
 * A simulated Twilio that allows `allowed` requests in any sliding second (counted on arrival) and
 * answers 429 with Retry-After 1 beyond it, each answer `latencyMs` after the request, driven by a
 * fake clock: the dispatcher's pacing rules alone, without timers or sockets.
 */
function simulate(options: {
  configured: number;
  allowed: number;
  messages: number;
  segments?: number;
  latencyMs?: number;
}) {
  const latency = options.latencyMs ?? 50;
  const segments = options.segments ?? 1;
  let now = 0;
  const rate = new AdaptiveRate({ maxPerSecond: options.configured, now: () => now });
  const arrivals: number[] = [];
  const answers: { at: number; startedAt: number; ok: boolean }[] = [];
  let limited = 0;
  let sent = 0;
  let pausedUntil = 0;
  const deliver = (until: number) => {
    answers.sort((a, b) => a.at - b.at);
    while (answers.length > 0 && answers[0]!.at <= until) {
      const answer = answers.shift()!;
      now = Math.max(now, answer.at);
      if (answer.ok) {
        rate.recordAccepted(segments, answer.startedAt);
        sent += 1;
      } else {
        limited += 1;
        rate.rateLimited(answer.startedAt);
        nextFree = Math.min(nextFree, now + 1000 / rate.perSecond);
        pausedUntil = Math.max(pausedUntil, now + 1000); // Retry-After: every sender waits
      }
    }
  };
  let started = 0;
  // Starts spaced by their segments at the pace (send-budget.ts books the same spacing).
  let nextFree = 0;
  const reserve = () => {
    const start = Math.max(now, nextFree);
    nextFree = start + (segments * 1000) / rate.perSecond;
    return start - now;
  };
  while (sent < options.messages) {
    // Every message is sent or on its way: wait for answers (a 429 means one more start).
    if (started >= options.messages + limited) {
      deliver(Number.POSITIVE_INFINITY);
      continue;
    }
    const wait = reserve();
    const startAt = now + wait;
    deliver(startAt);
    now = Math.max(now, startAt);
    if (now < pausedUntil) {
      deliver(pausedUntil);
      now = pausedUntil;
      continue;
    }
    const inWindow = arrivals.filter((at) => at > now - 1000).length;
    const ok = inWindow < options.allowed;
    if (ok) arrivals.push(now);
    answers.push({ at: now + latency, startedAt: now, ok });
    started += 1;
  }
  deliver(Number.POSITIVE_INFINITY);
  // Over the whole run, the first 429 and its Retry-After pause included.
  return { limited, perSecondOverall: options.messages / (now / 1000), rate };
}

describe("AdaptiveRate", () => {
  it("sends at the configured rate while Twilio accepts it", () => {
    const { limited, rate } = simulate({ configured: 50, allowed: 100, messages: 1000 });
    expect(limited).toBe(0);
    expect(rate.perSecond).toBe(50);
  });

  it("settles at >= 95 % of what Twilio allows when that is half the configured rate, with few 429s, in a short run too", () => {
    for (const messages of [1000, 2000]) {
      const { limited, perSecondOverall } = simulate({ configured: 100, allowed: 50, messages });
      expect(perSecondOverall).toBeGreaterThanOrEqual(0.95 * 50);
      expect(limited).toBeLessThanOrEqual(messages * 0.02);
    }
  });

  it("counts the answers still on their way when the 429 came (slow answers)", () => {
    const { limited, perSecondOverall } = simulate({
      configured: 100,
      allowed: 50,
      messages: 2000,
      latencyMs: 200,
    });
    expect(perSecondOverall).toBeGreaterThanOrEqual(0.95 * 50);
    expect(limited).toBeLessThanOrEqual(2000 * 0.02);
  });

  it("stays near the ceiling over a long run (the ceiling is probed again only after minutes)", () => {
    const { limited, perSecondOverall } = simulate({
      configured: 100,
      allowed: 30,
      messages: 30 * 900,
    });
    expect(perSecondOverall).toBeGreaterThanOrEqual(0.95 * 30);
    expect(limited).toBeLessThanOrEqual(10);
  });

  it("climbs back to the configured rate once the remembered ceiling is forgotten", () => {
    let now = 0;
    const rate = new AdaptiveRate({ maxPerSecond: 100, now: () => now });
    for (let i = 0; i < 40; i++) {
      now += 10;
      rate.recordAccepted(1, now - 5);
    }
    rate.rateLimited(now);
    expect(rate.perSecond).toBeLessThan(40);
    now += 10 * 60_000;
    expect(rate.perSecond).toBe(100);
  });

  it("admits no more segments in any second than the pace, however late the timers fired", () => {
    let now = 0;
    const rate = new AdaptiveRate({ maxPerSecond: 10, now: () => now });
    // Ten sends released together (their timers were late): the window is full.
    for (let i = 0; i < 10; i++) expect(rate.admit(1)).toBe(0);
    expect(rate.admit(1)).toBe(1000);
    now = 600;
    expect(rate.admit(1)).toBe(400);
    now = 1000;
    // A second later the first ten have left; a two-segment message counts twice.
    expect(rate.admit(2)).toBe(0);
    for (let i = 0; i < 8; i++) expect(rate.admit(1)).toBe(0);
    expect(rate.admit(1)).toBe(1000);
  });

  it("counts the portal's sends after a 429: what one dispatcher saw, divided by its share", () => {
    let now = 0;
    const rate = new AdaptiveRate({ maxPerSecond: 30, now: () => now });
    // A third of the portal's sending: 8 accepted here stand for 24 in all.
    for (let i = 0; i < 8; i++) {
      now += 100;
      rate.recordAccepted(1, now - 5);
    }
    rate.rateLimited(now, 1 / 3);
    expect(rate.ceilingFound?.perSecond).toBeCloseTo(24);
    expect(rate.perSecond).toBeCloseTo(24 * 0.98);
    // Alone (share 1) the same answers make a ceiling of 8.
    const alone = new AdaptiveRate({ maxPerSecond: 30, now: () => now });
    for (let i = 0; i < 8; i++) alone.recordAccepted(1, now - 500 + i * 10);
    alone.rateLimited(now);
    expect(alone.ceilingFound?.perSecond).toBeCloseTo(8);
  });

  it("takes a ceiling another dispatcher found, unless it knows a newer one", () => {
    let now = 0;
    const rate = new AdaptiveRate({ maxPerSecond: 30, now: () => now });
    rate.adoptCeiling(20, now + 300_000);
    expect(rate.perSecond).toBeCloseTo(20 * 0.98);
    // The same ceiling read back again (or an echo found within the second) changes nothing.
    rate.adoptCeiling(25, now + 300_500);
    expect(rate.ceilingFound?.perSecond).toBe(20);
    now += 10_000;
    rate.adoptCeiling(12, now + 300_000);
    expect(rate.perSecond).toBeCloseTo(12 * 0.98);
    now += 300_001;
    expect(rate.ceilingFound).toBeNull();
  });
});
