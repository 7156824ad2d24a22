import { describe, expect, it } from "vitest";
import { AdaptiveRate } from "./rate.ts";

/**
 * A simulated Twilio that allows `allowed` requests in any sliding second and answers 429 with
 * Retry-After 1 beyond it, driven by a fake clock: the dispatcher's pacing rules alone, without
 * timers or sockets.
 */
function simulate(options: {
  configured: number;
  allowed: number;
  messages: number;
  segments?: number;
}) {
  let now = 0;
  const rate = new AdaptiveRate({ maxPerSecond: options.configured, now: () => now });
  const acceptedAt: number[] = [];
  let limited = 0;
  let firstLimited: number | null = null;
  let sent = 0;
  while (sent < options.messages) {
    now += rate.reserve(options.segments ?? 1);
    const window = acceptedAt.filter((at) => at > now - 1000).length;
    if (window >= options.allowed) {
      limited += 1;
      firstLimited ??= now;
      rate.rateLimited();
      now += 1000; // Retry-After: every sender waits
      continue;
    }
    acceptedAt.push(now);
    rate.recordAccepted(options.segments ?? 1);
    sent += 1;
  }
  // Over the whole run, the first 429 and its Retry-After pause included.
  return { limited, perSecondOverall: options.messages / (now / 1000), rate };
}

describe("AdaptiveRate", () => {
  it("sends at the configured rate while Twilio accepts it", () => {
    const { limited, rate } = simulate({ configured: 50, allowed: 100, messages: 1000 });
    expect(limited).toBe(0);
    expect(rate.perSecond).toBe(50);
  });

  it("settles at >= 95 % of what Twilio allows when that is half the configured rate, with few 429s", () => {
    const { limited, perSecondOverall } = simulate({
      configured: 100,
      allowed: 50,
      messages: 2000,
    });
    expect(perSecondOverall).toBeGreaterThanOrEqual(0.95 * 50);
    expect(perSecondOverall).toBeLessThanOrEqual(50);
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

  it("counts segments: a three-segment message takes three slots", () => {
    let now = 0;
    const rate = new AdaptiveRate({ maxPerSecond: 10, now: () => now });
    expect(rate.reserve(3)).toBe(0);
    expect(rate.reserve(1)).toBe(300);
    now = 300;
    expect(rate.reserve(1)).toBe(100);
  });

  it("climbs back to the configured rate once the remembered ceiling is forgotten", () => {
    let now = 0;
    const rate = new AdaptiveRate({ maxPerSecond: 100, now: () => now });
    for (let i = 0; i < 40; i++) {
      now += 10;
      rate.recordAccepted(1);
    }
    rate.rateLimited();
    expect(rate.perSecond).toBeLessThan(40);
    now += 10 * 60_000;
    expect(rate.perSecond).toBe(100);
  });
});
