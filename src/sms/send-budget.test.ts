// @both-databases: the budget is one UPDATE ... RETURNING per dialect, on the database's clock.
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { AdaptiveRate } from "./rate.ts";
import { SendBudget } from "./send-budget.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A dispatcher's pace and budget, on a local clock that stands still unless moved. */
function dispatcher(app: TestApp, perSecond: number) {
  const clock = { now: Date.now() };
  const rate = new AdaptiveRate({ maxPerSecond: perSecond, now: () => clock.now });
  const budget = new SendBudget(app.ctx, rate, () => clock.now);
  return { clock, rate, budget };
}

function waitOf(slot: Awaited<ReturnType<SendBudget["take"]>>): number {
  if (!("waitMs" in slot)) throw new Error(`no time booked: ${JSON.stringify(slot)}`);
  return slot.waitMs;
}

describe("SendBudget: one pace for every dispatcher", () => {
  it("books sending time after what another dispatcher booked, not alongside it", async () => {
    t = await createTestApp();
    const a = dispatcher(t, 10);
    const b = dispatcher(t, 10);
    // A books a 200 ms stretch and spaces two sends in it, 100 ms apart.
    expect(waitOf(await a.budget.take(1))).toBe(0);
    expect(waitOf(await a.budget.take(1))).toBe(100);
    // B's first send comes after A's stretch (less the real time between the two bookings).
    const before = Date.now();
    b.clock.now = before;
    const wait = waitOf(await b.budget.take(1));
    const elapsed = Date.now() - before + 1;
    expect(wait).toBeGreaterThanOrEqual(200 - elapsed - 50);
    expect(wait).toBeLessThanOrEqual(200 + 1);
    // Each took one stretch: 400 ms of the portal's time in all.
    const row = await t.ctx.db.selectFrom("sms_send_budget").selectAll().executeTakeFirstOrThrow();
    expect(Number(row.booked_ms)).toBe(400);
  });

  it("holds no more than a stretch and a half ahead: the next send waits instead of booking", async () => {
    t = await createTestApp();
    const a = dispatcher(t, 10);
    waitOf(await a.budget.take(1));
    waitOf(await a.budget.take(1));
    // The stretch is used up and half of it is not past yet: ask again in 100 ms.
    expect(await a.budget.take(1)).toEqual({ retryInMs: 100 });
    a.clock.now += 100;
    expect(waitOf(await a.budget.take(1))).toBeGreaterThanOrEqual(0);
    const row = await t.ctx.db.selectFrom("sms_send_budget").selectAll().executeTakeFirstOrThrow();
    expect(Number(row.booked_ms)).toBe(400);
  });

  it("a three-segment message takes three segments' time", async () => {
    t = await createTestApp();
    const a = dispatcher(t, 10);
    expect(waitOf(await a.budget.take(3))).toBe(0);
    // 300 ms booked and all of it taken: the next send waits until half of it is past.
    expect(await a.budget.take(1)).toEqual({ retryInMs: 200 });
    const row = await t.ctx.db.selectFrom("sms_send_budget").selectAll().executeTakeFirstOrThrow();
    expect(Number(row.booked_ms)).toBe(300);
  });

  it("a ceiling one dispatcher found after a 429 holds for the others at their next booking", async () => {
    t = await createTestApp();
    const a = dispatcher(t, 30);
    const b = dispatcher(t, 30);
    waitOf(await b.budget.take(1));
    // A sent 12 accepted in the second before the refused one, alone: the portal's ceiling is 12.
    for (let i = 0; i < 12; i++) a.rate.recordAccepted(1, a.clock.now - 900 + i * 50);
    a.budget.rateLimited(a.clock.now);
    expect(a.rate.perSecond).toBeCloseTo(12 * 0.98);
    await a.budget.shareCeiling();
    b.clock.now += 1000; // B's stretch is past: it books again, and reads the ceiling.
    waitOf(await b.budget.take(1));
    expect(b.rate.perSecond).toBeCloseTo(12 * 0.98);
  });
});
