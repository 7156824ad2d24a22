import { hostname } from "node:os";
import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { dbNow } from "../db/dialect.ts";

/**
 * Dispatcher heartbeats (table `sms_dispatchers`, decision 026): each running dispatcher keeps a
 * row with the database's time it was last seen, so any process can tell whether anything is
 * sending. Every time is the database's clock: machines whose clocks disagree still agree on who
 * is alive.
 */

type Ctx = Pick<AppContext, "db" | "dialect">;

/**
 * How often a dispatcher writes its heartbeat: every 5 seconds, or more often when the office's
 * stall window is short, so that a live dispatcher is seen at least three times within it.
 */
export function heartbeatEveryMs(config: { SMS_STALLED_AFTER_SECONDS: number }): number {
  return Math.min(5_000, Math.floor((config.SMS_STALLED_AFTER_SECONDS * 1000) / 3));
}

/** Rows of dispatchers not seen for this long are deleted by the maintenance. */
export const HEARTBEAT_PRUNE_AFTER_SECONDS = 24 * 3600;

/**
 * Records that `workerId` is alive now (an upsert of its row); `claimed` also records that a claim
 * just took rows.
 */
export async function recordHeartbeat(
  ctx: Ctx,
  workerId: string,
  options: { claimed?: boolean } = {},
): Promise<void> {
  const now = dbNow(ctx.dialect);
  await ctx.db
    .insertInto("sms_dispatchers")
    .values({
      worker_id: workerId,
      host: hostname(),
      pid: process.pid,
      started_at: now,
      seen_at: now,
      last_claim_at: options.claimed ? now : null,
    })
    .onConflict((oc) =>
      oc
        .column("worker_id")
        .doUpdateSet(options.claimed ? { seen_at: now, last_claim_at: now } : { seen_at: now }),
    )
    .execute();
}

/** A dispatcher that stops gracefully is no longer counted as live. */
export async function forgetHeartbeat(ctx: Ctx, workerId: string): Promise<void> {
  await ctx.db.deleteFrom("sms_dispatchers").where("worker_id", "=", workerId).execute();
}

/** Deletes the rows of dispatchers not seen for `seconds` (they died without a graceful stop). */
export async function pruneHeartbeats(ctx: Ctx, seconds: number): Promise<number> {
  const result = await ctx.db
    .deleteFrom("sms_dispatchers")
    .where("seen_at", "<", dbNow(ctx.dialect, -seconds))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** What the banner and /healthz need to tell a stalled portal: one small statement. */
export interface DispatchLiveness {
  /** Dispatchers seen within SMS_STALLED_AFTER_SECONDS. */
  liveDispatchers: number;
  /** At least one message is queued and its next attempt is due. */
  messagesDue: boolean;
}

/**
 * The live dispatchers and whether a message is due, in one statement. The due check reads
 * `sms_messages_due_idx` (status first) and stops at the first row; the heartbeat table holds one
 * row per dispatcher.
 */
export async function readLiveness(
  ctx: Ctx & { config: { SMS_STALLED_AFTER_SECONDS: number } },
): Promise<DispatchLiveness> {
  const seenSince = dbNow(ctx.dialect, -ctx.config.SMS_STALLED_AFTER_SECONDS);
  const now = dbNow(ctx.dialect);
  const { rows } = await sql<{ live: number | string; due: number | string | boolean }>`
    select
      (select count(*) from sms_dispatchers where seen_at >= ${seenSince}) as live,
      (select count(*) from (
        select 1 from sms_messages
        where status = 'queued' and next_attempt_at <= ${now}
        limit 1
      ) as due_one) as due`.execute(ctx.db);
  const row = rows[0]!;
  return { liveDispatchers: Number(row.live), messagesDue: Number(row.due) > 0 };
}

/**
 * `readLiveness`, remembered for `maxAgeMs` per process: every admin page asks, and a stall is a
 * matter of a minute, not of a second.
 */
export function cachedLiveness(
  ctx: Ctx & { config: { SMS_STALLED_AFTER_SECONDS: number } },
  maxAgeMs = 1_000,
): () => Promise<DispatchLiveness> {
  let last: { at: number; value: Promise<DispatchLiveness> } | null = null;
  return () => {
    const at = Date.now();
    if (!last || at - last.at >= maxAgeMs) {
      const value = readLiveness(ctx);
      last = { at, value };
      // A failed read is not remembered: the next page asks again.
      value.catch(() => {
        if (last?.value === value) last = null;
      });
    }
    return last.value;
  };
}

/** Whether SMS are going out, in one word: `/healthz`'s `sms`, and the banner's stall. */
export type SmsHealth = "ok" | "paused" | "stalled";

/**
 * "paused": an admin paused sending or Twilio refused the credentials (messages wait on purpose,
 * and the banner says why); "stalled": messages are due and no dispatcher has been seen within
 * SMS_STALLED_AFTER_SECONDS; "ok" otherwise.
 */
export function smsHealth(paused: boolean, live: DispatchLiveness): SmsHealth {
  if (paused) return "paused";
  if (live.messagesDue && live.liveDispatchers === 0) return "stalled";
  return "ok";
}
