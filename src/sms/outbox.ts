import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { skipLocked } from "../db/dialect.ts";
import type { SmsMessage } from "../db/schema.ts";

/** The outbox's SQL: claiming due rows under a lease and recording each outcome. */

type Ctx = Pick<AppContext, "db" | "dialect" | "clock" | "config">;

export interface ClaimedSms extends SmsMessage {
  /** When this claim was made (also its attempt's start, in `unconfirmed_attempt_at`). */
  claimedAt: string;
  /** An earlier attempt may have reached Twilio unanswered: ask Twilio before sending again. */
  needsReconcile: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Claims up to `limit` rows in one statement: rows whose lease ran out (their worker died
 * mid-send) first, then queued rows that are due, transactional before bulk. Each claimed row is
 * `sending`, leased to `workerId`, its attempt counted and marked as possibly reaching Twilio.
 */
export async function claimDue(ctx: Ctx, workerId: string, limit: number): Promise<ClaimedSms[]> {
  const now = ctx.clock.now().getTime();
  const nowIso = iso(now);
  const due = skipLocked(
    ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where((eb) =>
        eb.or([
          eb.and([eb("status", "=", "queued"), eb("next_attempt_at", "<=", nowIso)]),
          eb.and([eb("status", "=", "sending"), eb("lease_until", "<", nowIso)]),
        ]),
      )
      .orderBy(sql`case when status = 'sending' then 0 else 1 end`)
      .orderBy("priority")
      .orderBy("next_attempt_at")
      .orderBy("id")
      .limit(limit),
    ctx.dialect,
  );
  const rows = await ctx.db
    .updateTable("sms_messages")
    .set((eb) => ({
      status: "sending",
      lease_owner: workerId,
      lease_until: iso(now + ctx.config.SMS_LEASE_SECONDS * 1000),
      attempts: eb("attempts", "+", 1),
      // Keeps an earlier unconfirmed attempt's time: that one still has to be looked up.
      unconfirmed_attempt_at: eb.fn.coalesce("unconfirmed_attempt_at", sql.val(nowIso)),
      updated_at: nowIso,
    }))
    .where("id", "in", due)
    .returningAll()
    .execute();
  return rows
    .map((row) => ({
      ...row,
      claimedAt: nowIso,
      needsReconcile: row.unconfirmed_attempt_at !== nowIso,
    }))
    .sort(
      (a, b) =>
        Number(b.needsReconcile) - Number(a.needsReconcile) ||
        a.priority - b.priority ||
        a.id - b.id,
    );
}

/** Keeps this worker's leases alive while it works through a long batch. */
export async function extendLeases(ctx: Ctx, workerId: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  const now = ctx.clock.now().getTime();
  await ctx.db
    .updateTable("sms_messages")
    .set({ lease_until: iso(now + ctx.config.SMS_LEASE_SECONDS * 1000) })
    .where("id", "in", ids)
    .where("lease_owner", "=", workerId)
    .where("status", "=", "sending")
    .execute();
}

/** Only the lease holder may record an outcome: a worker whose lease was taken over is ignored. */
function owned(ctx: Ctx, row: ClaimedSms, workerId: string) {
  return ctx.db
    .updateTable("sms_messages")
    .where("id", "=", row.id)
    .where("lease_owner", "=", workerId)
    .where("status", "=", "sending");
}

export async function markSent(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
  result: { sid: string; providerStatus: string; captured: boolean },
): Promise<boolean> {
  const now = ctx.clock.now().toISOString();
  const updated = await owned(ctx, row, workerId)
    .set({
      status: result.captured ? "captured" : "sent",
      twilio_sid: result.sid,
      provider_status: result.providerStatus,
      sent_at: now,
      lease_owner: null,
      lease_until: null,
      unconfirmed_attempt_at: null,
      error_code: null,
      error_message: null,
      updated_at: now,
    })
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

export async function markRetry(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
  retry: {
    delayMs: number;
    code: number | null;
    reason: string;
    outcomeUnknown: boolean;
    countsAsAttempt: boolean;
  },
): Promise<void> {
  const now = ctx.clock.now().getTime();
  await owned(ctx, row, workerId)
    .set((eb) => ({
      status: "queued",
      next_attempt_at: iso(now + retry.delayMs),
      lease_owner: null,
      lease_until: null,
      attempts: retry.countsAsAttempt ? eb.ref("attempts") : eb("attempts", "-", 1),
      unconfirmed_attempt_at: retry.outcomeUnknown ? eb.ref("unconfirmed_attempt_at") : null,
      error_code: retry.code,
      error_message: retry.reason,
      updated_at: iso(now),
    }))
    .execute();
}

export async function markFinal(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
  final: { status: "failed" | "skipped"; code: number | null; reason: string },
): Promise<void> {
  const now = ctx.clock.now().toISOString();
  await owned(ctx, row, workerId)
    .set({
      status: final.status,
      lease_owner: null,
      lease_until: null,
      unconfirmed_attempt_at: null,
      error_code: final.code,
      error_message: final.reason,
      updated_at: now,
    })
    .execute();
}

/**
 * Gives claimed rows back untried (shutdown, credentials refused): queued again, the attempt not
 * counted, and no longer "possibly sent" unless an earlier attempt left them so.
 */
export async function release(ctx: Ctx, rows: ClaimedSms[], workerId: string): Promise<void> {
  const now = ctx.clock.now().toISOString();
  for (const row of rows) {
    await owned(ctx, row, workerId)
      .set((eb) => ({
        status: "queued",
        lease_owner: null,
        lease_until: null,
        attempts: eb("attempts", "-", 1),
        unconfirmed_attempt_at: row.needsReconcile ? eb.ref("unconfirmed_attempt_at") : null,
        updated_at: now,
      }))
      .execute();
  }
}

/** SIDs among `sids` that rows of ours already carry: a match for another row is not ours. */
export async function knownSids(ctx: Ctx, sids: string[]): Promise<Set<string>> {
  if (sids.length === 0) return new Set();
  const rows = await ctx.db
    .selectFrom("sms_messages")
    .select("twilio_sid")
    .where("twilio_sid", "in", sids)
    .execute();
  return new Set(rows.map((r) => r.twilio_sid!));
}

export async function optedOutStudents(ctx: Ctx, studentIds: number[]): Promise<Set<number>> {
  if (studentIds.length === 0) return new Set();
  const rows = await ctx.db
    .selectFrom("students")
    .select("id")
    .where("id", "in", studentIds)
    .where("sms_opted_out_at", "is not", null)
    .execute();
  return new Set(rows.map((r) => r.id));
}

export async function markStudentOptedOut(ctx: Ctx, studentId: number): Promise<void> {
  const now = ctx.clock.now().toISOString();
  await ctx.db
    .updateTable("students")
    .set({ sms_opted_out_at: now, updated_at: now })
    .where("id", "=", studentId)
    .where("sms_opted_out_at", "is", null)
    .execute();
}

// The dispatch state row shared by every dispatcher (id = 1).

export function readDispatchState(ctx: Pick<AppContext, "db">) {
  return ctx.db
    .selectFrom("sms_dispatch_state")
    .selectAll()
    .where("id", "=", 1)
    .executeTakeFirstOrThrow();
}

export async function pauseAllUntil(ctx: Ctx, until: Date): Promise<void> {
  const untilIso = until.toISOString();
  await ctx.db
    .updateTable("sms_dispatch_state")
    .set({ paused_until: untilIso, updated_at: ctx.clock.now().toISOString() })
    .where("id", "=", 1)
    .where((eb) => eb.or([eb("paused_until", "is", null), eb("paused_until", "<", untilIso)]))
    .execute();
}

export async function setCredentialsError(ctx: Ctx, message: string | null): Promise<void> {
  const now = ctx.clock.now().toISOString();
  await ctx.db
    .updateTable("sms_dispatch_state")
    .set({
      credentials_error: message,
      credentials_error_at: message ? now : null,
      updated_at: now,
    })
    .where("id", "=", 1)
    .execute();
}
