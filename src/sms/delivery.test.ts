// @both-databases: callbacks only move a message forward, in one statement.
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { queueTestMessages, smsRow } from "#test/support/sms.ts";
import type { AppContext } from "../context.ts";
import { applyEarlyCallbacks, applyStatusCallback, pruneEarlyCallbacks } from "./delivery.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function sentRow(ctx: AppContext, sid: string) {
  const [id] = await queueTestMessages(ctx, 1);
  await ctx.db
    .updateTable("sms_messages")
    .set({ status: "sent", twilio_sid: sid, provider_status: "queued" })
    .where("id", "=", id!)
    .execute();
  return id!;
}

function park(ctx: AppContext, sid: string, status: string, receivedAt: Date) {
  return ctx.db
    .insertInto("sms_early_callbacks")
    .values({ twilio_sid: sid, status, error_code: null, received_at: receivedAt.toISOString() })
    .execute();
}

/**
 * `ctx` whose DELETE statements first run `before` (awaited): the moment between
 * applyEarlyCallbacks's read and its delete.
 */
function withHookBeforeDelete(ctx: AppContext, before: () => Promise<void>): AppContext {
  const wrap = <T extends object>(builder: T): T =>
    new Proxy(builder, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "execute" || prop === "executeTakeFirst")
          return async (...args: unknown[]) => {
            await before();
            return value.apply(target, args);
          };
        return (...args: unknown[]) => {
          const result = value.apply(target, args);
          return result && typeof result === "object" && "execute" in result
            ? wrap(result)
            : result;
        };
      },
    });
  const db = new Proxy(ctx.db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "deleteFrom")
        return (...args: Parameters<typeof target.deleteFrom>) => wrap(target.deleteFrom(...args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...ctx, db };
}

describe("parked (early) status callbacks", () => {
  it("are applied and deleted, but one parked meanwhile is kept for the next look", async () => {
    t = await createTestApp();
    const ctx = t.ctx;
    const sid = `SM${"e".repeat(32)}`;
    expect(await applyStatusCallback(ctx, { sid, status: "sent", errorCode: null })).toBe(
      "unknown",
    );
    const id = await sentRow(ctx, sid);
    let arrived = false;
    await applyEarlyCallbacks(
      withHookBeforeDelete(ctx, async () => {
        if (arrived) return;
        arrived = true;
        await park(ctx, sid, "delivered", new Date());
      }),
      [sid],
    );
    expect(arrived).toBe(true);
    expect((await smsRow(ctx, id)).provider_status).toBe("sent");
    const left = await ctx.db.selectFrom("sms_early_callbacks").selectAll().execute();
    expect(left.map((c) => c.status)).toEqual(["delivered"]);
    // The next look applies it.
    await applyEarlyCallbacks(ctx, [sid]);
    expect((await smsRow(ctx, id)).status).toBe("delivered");
    expect(await ctx.db.selectFrom("sms_early_callbacks").selectAll().execute()).toHaveLength(0);
  });

  it("older than the given age are pruned, newer ones kept", async () => {
    t = await createTestApp();
    const ctx = t.ctx;
    const now = ctx.clock.now().getTime();
    const hour = 3600_000;
    await park(ctx, `SM${"1".repeat(32)}`, "delivered", new Date(now - 3 * 24 * hour));
    await park(ctx, `SM${"2".repeat(32)}`, "sent", new Date(now - 25 * hour));
    await park(ctx, `SM${"3".repeat(32)}`, "sent", new Date(now - hour));
    expect(await pruneEarlyCallbacks(ctx, 24 * hour)).toBe(2);
    const left = await ctx.db.selectFrom("sms_early_callbacks").select("twilio_sid").execute();
    expect(left.map((c) => c.twilio_sid)).toEqual([`SM${"3".repeat(32)}`]);
    expect(await pruneEarlyCallbacks(ctx, 24 * hour)).toBe(0);
  });
});
