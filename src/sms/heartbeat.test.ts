// @both-databases: heartbeats are upserts and comparisons by the database's clock (dbNow).
import { hostname } from "node:os";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { AppContext } from "#src/context.ts";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import {
  queueTestMessages,
  startEmulator,
  startWatchedDispatcher,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { heartbeatEveryMs, pruneHeartbeats, readLiveness, recordHeartbeat } from "./heartbeat.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await t?.close();
  await emulator?.close();
  t = emulator = undefined;
});

function heartbeats(ctx: AppContext) {
  return ctx.db.selectFrom("sms_dispatchers").selectAll().execute();
}

describe("dispatcher heartbeats", () => {
  it("beat at least three times within the stall window, every 5 s at most", () => {
    expect(heartbeatEveryMs({ SMS_STALLED_AFTER_SECONDS: 60 })).toBe(5_000);
    expect(heartbeatEveryMs({ SMS_STALLED_AFTER_SECONDS: 3 })).toBe(1_000);
  });

  it("are written at start and on a claim that took rows, and deleted on a graceful stop", async () => {
    emulator = await startEmulator({ knobs: { latencyMs: 1, callbacks: [] } });
    t = await createTestApp(twilioEnv(emulator));
    const ctx = t.ctx;
    const watched = await startWatchedDispatcher(ctx);
    dispatcher = watched.dispatcher;
    const { polled } = watched;
    const [row] = await waitFor(async () => {
      const rows = await heartbeats(ctx);
      return rows.length === 1 ? rows : null;
    }, 5_000);
    expect(row).toMatchObject({
      worker_id: dispatcher.workerId,
      host: hostname(),
      pid: process.pid,
      last_claim_at: null,
    });
    expect(row!.seen_at).toBeTruthy();
    expect(await readLiveness(ctx)).toEqual({ liveDispatchers: 1, messagesDue: false });

    const [id] = await queueTestMessages(ctx, 1);
    ctx.wakeSmsDispatcher?.();
    await waitUntilSent(ctx, id!);
    await polled();
    const [claimed] = await waitFor(async () => {
      const rows = await heartbeats(ctx);
      return rows[0]?.last_claim_at ? rows : null;
    }, 5_000);
    expect(claimed!.worker_id).toBe(dispatcher.workerId);

    await dispatcher.stop();
    dispatcher = undefined;
    expect(await heartbeats(ctx)).toEqual([]);
  });

  it("count only dispatchers seen within SMS_STALLED_AFTER_SECONDS; old rows are pruned", async () => {
    t = await createTestApp();
    const ctx = t.ctx;
    await queueTestMessages(ctx, 1);
    expect(await readLiveness(ctx)).toEqual({ liveDispatchers: 0, messagesDue: true });
    await recordHeartbeat(ctx, "gone:1:aaaaaa");
    await recordHeartbeat(ctx, "live:2:bbbbbb");
    expect((await readLiveness(ctx)).liveDispatchers).toBe(2);
    // One last seen two minutes ago (by the database's clock), past the 60-second window.
    const twoMinutesAgo =
      ctx.dialect === "postgres"
        ? sql<string>`now() - interval '120 seconds'`
        : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-120 seconds')`;
    await ctx.db
      .updateTable("sms_dispatchers")
      .set({ seen_at: twoMinutesAgo })
      .where("worker_id", "=", "gone:1:aaaaaa")
      .execute();
    expect((await readLiveness(ctx)).liveDispatchers).toBe(1);
    expect(await pruneHeartbeats(ctx, 3600)).toBe(0);
    expect(await pruneHeartbeats(ctx, 60)).toBe(1);
    expect((await heartbeats(ctx)).map((r) => r.worker_id)).toEqual(["live:2:bbbbbb"]);
  });
});
