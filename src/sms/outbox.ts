import { type Kysely, type RawBuilder, sql } from "kysely";
import type { AppContext } from "../context.ts";
import { dbNow, skipLocked, typedValue } from "../db/dialect.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import type { DB, SmsAttemptOutcome, SmsMessage, SmsStatus } from "../db/schema.ts";
import { KINDS_SENT_DESPITE_OPT_OUT, lateReason } from "./outbox-api.ts";
import { SECRET_EXPIRED_REASON, SECRET_EXPIRED_UNCONFIRMED_REASON } from "./secrets.ts";
import { announceDue } from "./wake-ups.ts";

/** The outbox's SQL: claiming due rows under a lease and recording each outcome. */

type Ctx = Pick<AppContext, "db" | "dialect" | "clock" | "config">;

export interface ClaimedSms extends SmsMessage {
  /** An earlier attempt may have reached Twilio unanswered: ask Twilio before sending again. */
  needsReconcile: boolean;
}

/**
 * Claims up to `limit` rows: rows whose lease ran out (their worker died mid-send) first, then
 * queued rows that are due, transactional before bulk. Each claimed row is `sending`, leased to
 * `workerId` until the database's clock says otherwise, its attempt counted and marked as possibly
 * reaching Twilio. Each half is one `UPDATE ... WHERE id IN (SELECT ... LIMIT n)` that reads an
 * index in sending order (the status is a literal, so the planner picks that status's range of
 * sms_messages_due_idx or sms_messages_lease_idx: see `claimCandidates`).
 */
export async function claimDue(ctx: Ctx, workerId: string, limit: number): Promise<ClaimedSms[]> {
  const expired = await claimWhere(ctx, workerId, limit, "expired");
  const fresh =
    expired.length < limit ? await claimWhere(ctx, workerId, limit - expired.length, "due") : [];
  return [...expired, ...fresh];
}

async function claimWhere(
  ctx: Ctx,
  workerId: string,
  limit: number,
  which: "expired" | "due",
): Promise<ClaimedSms[]> {
  const leaseSeconds = ctx.config.SMS_LEASE_SECONDS;
  const candidates = claimCandidates(ctx, limit, which);
  const rows = await ctx.db
    .updateTable("sms_messages")
    .set((eb) => ({
      status: "sending",
      lease_owner: workerId,
      lease_until: dbNow(ctx.dialect, leaseSeconds),
      attempts: eb("attempts", "+", 1),
      // Keeps an earlier unconfirmed attempt's time: that one still has to be looked up.
      unconfirmed_attempt_at: eb.fn.coalesce("unconfirmed_attempt_at", dbNow(ctx.dialect)),
      updated_at: dbNow(ctx.dialect),
    }))
    .where("id", "in", candidates)
    .returningAll()
    .execute();
  return rows
    .map((row) => ({
      ...row,
      // A fresh attempt's time is exactly the lease's start; an older one is an earlier attempt's.
      needsReconcile:
        row.unconfirmed_attempt_at !== null &&
        Date.parse(row.lease_until!) - Date.parse(row.unconfirmed_attempt_at) !==
          leaseSeconds * 1000,
    }))
    .sort((a, b) => a.priority - b.priority || a.id - b.id);
}

/**
 * The ids a claim takes, in sending order. Each reads one index in order and stops at `limit`
 * (sms_messages_due_idx: status, priority, next_attempt_at, then the row id; or
 * sms_messages_lease_idx): no scan of every queued row and no sort, however large a fan-out is
 * waiting. `status` is a literal, not a parameter, so the planner knows which rows it reads.
 */
export function claimCandidates(ctx: Ctx, limit: number, which: "expired" | "due") {
  const base = ctx.db.selectFrom("sms_messages").select("id");
  return skipLocked(
    which === "expired"
      ? base
          .where("status", "=", sql.lit("sending"))
          .where("lease_until", "<", dbNow(ctx.dialect))
          .orderBy("lease_until")
          .limit(limit)
      : base
          .where("status", "=", sql.lit("queued"))
          .where("next_attempt_at", "<=", dbNow(ctx.dialect))
          .orderBy("priority")
          .orderBy("next_attempt_at")
          .orderBy("id")
          .limit(limit),
    ctx.dialect,
  );
}

/** Keeps this worker's leases alive while it works through a long batch. */
export async function extendLeases(ctx: Ctx, workerId: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await ctx.db
    .updateTable("sms_messages")
    .set({ lease_until: dbNow(ctx.dialect, ctx.config.SMS_LEASE_SECONDS) })
    .where("id", "in", ids)
    .where("lease_owner", "=", workerId)
    .where("status", "=", "sending")
    .execute();
}

/**
 * The last look before the HTTP call: does `workerId` still hold the row's lease by the
 * database's clock (a worker that stalled past its lease sends nothing: the row may be another's
 * now), has the student opted out since the message was queued (for the kinds it covers), and
 * has the secret it carries expired meanwhile (by the same clock)?
 */
export async function sendCheck(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
): Promise<{
  leaseHeld: boolean;
  optedOut: boolean;
  secretExpired: boolean;
  /** A cancel came while an earlier attempt was in doubt (decision 027): its reason, or null. */
  cancelReason: string | null;
  /** Its `not_after` has passed by the database's clock: never sent now. */
  late: boolean;
}> {
  const found = await ctx.db
    .selectFrom("sms_messages")
    .leftJoin("students", "students.id", "sms_messages.student_id")
    .select([
      "students.sms_opted_out_at",
      "sms_messages.secret_until",
      "sms_messages.cancel_requested_at",
      "sms_messages.cancel_reason",
      "sms_messages.not_after",
    ])
    .select(dbNow(ctx.dialect).as("db_now"))
    .where("sms_messages.id", "=", row.id)
    .where("sms_messages.lease_owner", "=", workerId)
    .where("sms_messages.status", "=", "sending")
    .where("sms_messages.lease_until", ">", dbNow(ctx.dialect))
    .executeTakeFirst();
  const secretUntil = found?.secret_until ?? null;
  return {
    leaseHeld: found !== undefined,
    optedOut:
      (found?.sms_opted_out_at ?? null) !== null && !KINDS_SENT_DESPITE_OPT_OUT.includes(row.kind),
    secretExpired:
      found !== undefined &&
      secretUntil !== null &&
      Date.parse(secretUntil) <= Date.parse(found.db_now),
    cancelReason: found?.cancel_requested_at != null ? (found.cancel_reason ?? "Cancelled") : null,
    late:
      found !== undefined &&
      found.not_after !== null &&
      Date.parse(found.not_after) <= Date.parse(found.db_now),
  };
}

/** One try at Twilio, as the console shows it: recorded with the outcome it led to. */
export interface AttemptRecord {
  /** When the request (or the look-up that found the message) started, ISO-8601. */
  startedAt: string;
  outcome: SmsAttemptOutcome;
}

/**
 * The columns that record an attempt along with its outcome: the trigger
 * `sms_attempts_from_outcome` (migration 2026-12-02b) copies each outcome write that sets them
 * into `sms_attempts`, inside the same statement, so an attempt row exists exactly when its
 * outcome was written (the lease guard included) at the cost of no extra round trip.
 */
function attemptColumns(attempt: AttemptRecord | undefined) {
  return attempt ? { attempt_started_at: attempt.startedAt, attempt_outcome: attempt.outcome } : {};
}

/** Only the lease holder may record an outcome: a worker whose lease was taken over is ignored. */
function owned(ctx: Ctx, row: ClaimedSms, workerId: string) {
  return ctx.db
    .updateTable("sms_messages")
    .where("id", "=", row.id)
    .where("lease_owner", "=", workerId)
    .where("status", "=", "sending");
}

export type MarkSentOutcome = "sent" | "sent after losing the lease" | "lost";

/** One acceptance by Twilio, to record on its row. */
export interface SentRecord {
  row: ClaimedSms;
  result: { sid: string; providerStatus: string; captured: boolean };
  attempt?: AttemptRecord;
}

/** Records Twilio's acceptance of one message: `markSentOwned`, or else `adoptSent`. */
export async function markSent(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
  result: SentRecord["result"],
  attempt?: AttemptRecord,
): Promise<MarkSentOutcome> {
  const record = { row, result, attempt };
  const [owned] = await markSentOwned(ctx, workerId, [record]);
  return owned ? "sent" : adoptSent(ctx, record);
}

function sentValues(ctx: Ctx) {
  const now = dbNow(ctx.dialect);
  return {
    sent_at: now,
    lease_owner: null,
    lease_until: null,
    unconfirmed_attempt_at: null,
    error_code: null,
    error_message: null,
    updated_at: now,
  };
}

const sentStatus = (r: SentRecord): SmsStatus => (r.result.captured ? "captured" : "sent");

/**
 * Records the acceptances of the rows whose lease `workerId` holds, many in one UPDATE (one
 * commit, one run of the count trigger: SentRecorder gathers them). True for each row recorded;
 * false where the lease was lost meanwhile (then `adoptSent`). In the order of `records`.
 */
export async function markSentOwned(
  ctx: Ctx,
  workerId: string,
  records: readonly SentRecord[],
): Promise<boolean[]> {
  const recorded = new Set<number>();
  // Rows with an attempt to record and rows without (the attempt trigger fires on the column).
  for (const group of [
    records.filter((r) => r.attempt !== undefined),
    records.filter((r) => r.attempt === undefined),
  ]) {
    if (group.length === 0) continue;
    /** The column's value for each row of the group: CASE WHEN id = ... THEN ... END. */
    const byId = <T>(value: (r: SentRecord) => T | RawBuilder<T>) =>
      sql<T>`case ${sql.join(
        group.map((r) => sql`when id = ${r.row.id} then ${value(r)}`),
        sql` `,
      )} end`;
    const withAttempt = group[0]?.attempt !== undefined;
    const rows = await ctx.db
      .updateTable("sms_messages")
      .set({
        ...(withAttempt
          ? {
              attempt_started_at: byId((r) =>
                typedValue(ctx.dialect, (r.attempt as AttemptRecord).startedAt, "timestamptz"),
              ),
              attempt_outcome: byId((r) => (r.attempt as AttemptRecord).outcome),
            }
          : {}),
        status: byId(sentStatus),
        twilio_sid: byId((r) => r.result.sid),
        provider_status: byId((r) => r.result.providerStatus),
        ...sentValues(ctx),
      })
      .where(
        "id",
        "in",
        group.map((r) => r.row.id),
      )
      .where("lease_owner", "=", workerId)
      .where("status", "=", "sending")
      .returning("id")
      .execute();
    for (const row of rows) recorded.add(row.id);
  }
  return records.map((r) => recorded.has(r.row.id));
}

/**
 * The acceptance of a row whose lease was lost meanwhile: its SID is still stored when the row
 * has none and is not final (the message went out: the SID is the only proof), so the new
 * holder's reconciliation finds it ours and sends nothing.
 */
export async function adoptSent(
  ctx: Ctx,
  record: SentRecord,
): Promise<Exclude<MarkSentOutcome, "sent">> {
  const adopted = await ctx.db
    .updateTable("sms_messages")
    .set({
      ...attemptColumns(record.attempt),
      status: sentStatus(record),
      twilio_sid: record.result.sid,
      provider_status: record.result.providerStatus,
      ...sentValues(ctx),
    })
    .where("id", "=", record.row.id)
    .where("twilio_sid", "is", null)
    .where("status", "in", ["queued", "sending"])
    .executeTakeFirst();
  return Number(adopted.numUpdatedRows) === 1 ? "sent after losing the lease" : "lost";
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
  attempt?: AttemptRecord,
): Promise<void> {
  await owned(ctx, row, workerId)
    .set((eb) => ({
      ...attemptColumns(attempt),
      status: "queued",
      next_attempt_at: dbNow(ctx.dialect, retry.delayMs / 1000),
      lease_owner: null,
      lease_until: null,
      attempts: retry.countsAsAttempt ? eb.ref("attempts") : eb("attempts", "-", 1),
      unconfirmed_attempt_at: retry.outcomeUnknown ? eb.ref("unconfirmed_attempt_at") : null,
      error_code: retry.code,
      error_message: retry.reason,
      updated_at: dbNow(ctx.dialect),
    }))
    .execute();
}

export async function markFinal(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
  final: { status: "failed" | "skipped" | "unknown"; code: number | null; reason: string },
  attempt?: AttemptRecord,
): Promise<void> {
  await owned(ctx, row, workerId)
    .set({
      ...attemptColumns(attempt),
      status: final.status,
      lease_owner: null,
      lease_until: null,
      unconfirmed_attempt_at: null,
      error_code: final.code,
      error_message: final.reason,
      updated_at: dbNow(ctx.dialect),
    })
    .execute();
}

/**
 * A cancel was asked for while an earlier attempt of the claimed row was in doubt, and it is now
 * known not to have gone out (reconciliation found nothing, or there was nothing to look up): the
 * cancel applies now, untried (the claim's attempt is not counted), with the cancel's reason.
 */
export async function markCancelRequested(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
  reason: string,
): Promise<void> {
  await owned(ctx, row, workerId)
    .set((eb) => ({
      status: "cancelled",
      attempts: eb("attempts", "-", 1),
      lease_owner: null,
      lease_until: null,
      unconfirmed_attempt_at: null,
      error_code: null,
      error_message: reason,
      updated_at: dbNow(ctx.dialect),
    }))
    .execute();
}

/**
 * The secret the claimed row carries expired before it could be sent: cancelled, untried (the
 * claim's attempt is not counted), and its body loses the secret at once. Called only when no
 * earlier attempt is in doubt (reconciliation found nothing at Twilio, or there was none).
 */
export async function markSecretExpired(
  ctx: Ctx,
  row: ClaimedSms,
  workerId: string,
): Promise<void> {
  await owned(ctx, row, workerId)
    .set((eb) => ({
      status: "cancelled",
      body: eb.fn.coalesce("masked_body", "body"),
      secret_until: null,
      attempts: eb("attempts", "-", 1),
      lease_owner: null,
      lease_until: null,
      unconfirmed_attempt_at: null,
      error_message: SECRET_EXPIRED_REASON,
      updated_at: dbNow(ctx.dialect),
    }))
    .execute();
}

/**
 * Secrets whose time has passed by the database's clock leave the outbox, in one statement over
 * the partial index of live secrets: each such message's body becomes its masked text, and one
 * still queued is cancelled with the reason in words instead of being sent late. A message being
 * sent right now is left to its sender (its last look before sending cancels it, and its
 * reconciliation still needs the text); the next sweep masks it once it is done. Any dispatcher
 * may run it (twice is harmless). Returns how many messages lost their secret.
 */
export async function expireSecrets(ctx: Ctx): Promise<number> {
  const result = await ctx.db
    .updateTable("sms_messages")
    .set((eb) => ({
      body: eb.fn.coalesce("masked_body", "body"),
      secret_until: null,
      status: sql<
        SmsMessage["status"]
      >`case when status = 'queued' then 'cancelled' else status end`,
      error_message: sql<
        string | null
      >`case when status <> 'queued' then error_message when unconfirmed_attempt_at is null then ${SECRET_EXPIRED_REASON} else ${SECRET_EXPIRED_UNCONFIRMED_REASON} end`,
      updated_at: dbNow(ctx.dialect),
    }))
    .where("secret_until", "<=", dbNow(ctx.dialect))
    .where("status", "<>", sql.lit("sending"))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Queued messages whose `not_after` passed that one sweep skips: the rest go next round. */
const LATE_PER_SWEEP = 500;

/**
 * Queued messages whose time has passed (`not_after`, by the database's clock) are skipped, with
 * the moment in words, instead of being sent late: a reminder whose slot has started. One whose
 * earlier attempt may have reached Twilio is left to its next claim, which asks Twilio first and
 * then skips it at the last look. At most 500 a sweep, through the partial index on
 * (status, not_after); one UPDATE per distinct moment (a slot's reminders share theirs). Any
 * dispatcher may run it (twice is harmless). Returns how many it skipped.
 */
export async function skipLateMessages(ctx: Ctx): Promise<number> {
  const late = await ctx.db
    .selectFrom("sms_messages")
    .select(["id", "not_after"])
    .where("status", "=", sql.lit("queued"))
    .where("not_after", "<=", dbNow(ctx.dialect))
    .where("unconfirmed_attempt_at", "is", null)
    .limit(LATE_PER_SWEEP)
    .execute();
  const byMoment = new Map<string, number[]>();
  for (const { id, not_after: moment } of late) {
    const ids = byMoment.get(moment as string);
    if (ids) ids.push(id);
    else byMoment.set(moment as string, [id]);
  }
  let skipped = 0;
  for (const [notAfter, ids] of byMoment) {
    const result = await ctx.db
      .updateTable("sms_messages")
      .set({
        status: "skipped",
        error_message: lateReason(notAfter),
        updated_at: dbNow(ctx.dialect),
      })
      .where("id", "in", ids)
      .where("status", "=", "queued")
      .where("unconfirmed_attempt_at", "is", null)
      .executeTakeFirst();
    skipped += Number(result.numUpdatedRows);
  }
  return skipped;
}

/**
 * Gives claimed rows back untried (shutdown, a pause, quiet hours): queued again, the attempt not counted, and
 * no longer "possibly sent" unless an earlier attempt left them so. One statement per kind.
 */
export async function release(
  ctx: Ctx,
  rows: ClaimedSms[],
  workerId: string,
  options: {
    /** Twilio answered these rows' request (refused credentials): that try is recorded. */
    attempt?: AttemptRecord;
    /**
     * Due again then rather than at once, and SMS_GIVE_UP_HOURS counted from then: a quiet
     * message that met quiet hours at its last look (it was due just before they began).
     */
    until?: Date;
  } = {},
): Promise<void> {
  const until = options.until
    ? typedValue(ctx.dialect, options.until.toISOString(), "timestamptz")
    : null;
  for (const needsReconcile of [true, false]) {
    const ids = rows.filter((r) => r.needsReconcile === needsReconcile).map((r) => r.id);
    if (ids.length === 0) continue;
    await ctx.db
      .updateTable("sms_messages")
      .set((eb) => ({
        ...attemptColumns(options.attempt),
        status: "queued",
        lease_owner: null,
        lease_until: null,
        attempts: eb("attempts", "-", 1),
        unconfirmed_attempt_at: needsReconcile ? eb.ref("unconfirmed_attempt_at") : null,
        ...(until ? { next_attempt_at: until, due_at: until } : {}),
        updated_at: dbNow(ctx.dialect),
      }))
      .where("id", "in", ids)
      .where("lease_owner", "=", workerId)
      .where("status", "=", "sending")
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

/**
 * The shared state as seen by a dispatcher: each deadline as milliseconds from now by the
 * database's clock, so a dispatcher whose own clock is off still waits the right time.
 */
export async function readDispatchTimers(ctx: Ctx) {
  const row = await ctx.db
    .selectFrom("sms_dispatch_state")
    .selectAll()
    .select(dbNow(ctx.dialect).as("db_now"))
    .where("id", "=", 1)
    .executeTakeFirstOrThrow();
  const now = Date.parse(row.db_now);
  const remaining = (at: string | null) => (at ? Math.max(0, Date.parse(at) - now) : 0);
  return {
    pausedMs: remaining(row.paused_until),
    credentialsError: row.credentials_error,
    consecutiveFailures: row.consecutive_failures,
    /** null: the circuit is closed; 0: half open (a probe may go); > 0: open for that long. */
    circuitOpenMs: row.circuit_open_until === null ? null : remaining(row.circuit_open_until),
    probeOwner: row.probe_owner,
    /** An admin paused all sending (the console's button): nothing is claimed until resumed. */
    adminPausedAt: row.admin_paused_at,
  };
}

/** Every dispatcher stops sending for `ms` (a 429's Retry-After); a longer pause is kept. */
export async function pauseAllFor(ctx: Ctx, ms: number): Promise<void> {
  const until = dbNow(ctx.dialect, ms / 1000);
  await ctx.db
    .updateTable("sms_dispatch_state")
    .set({ paused_until: until, updated_at: dbNow(ctx.dialect) })
    .where("id", "=", 1)
    .where((eb) => eb.or([eb("paused_until", "is", null), eb("paused_until", "<", until)]))
    .execute();
}

/**
 * Counts one outage-like failure (5xx, no answer) against Twilio, for every dispatcher at once.
 * The `threshold`-th in a row opens the circuit for `openSeconds`. Returns the new count and
 * whether this call opened it.
 */
export async function recordOutageFailure(
  ctx: Ctx,
  threshold: number,
  openSeconds: number,
): Promise<{ failures: number; opened: boolean; open: boolean }> {
  const openUntil = dbNow(ctx.dialect, openSeconds);
  const row = await ctx.db
    .updateTable("sms_dispatch_state")
    .set((eb) => ({
      consecutive_failures: eb("consecutive_failures", "+", 1),
      circuit_open_until: sql<
        string | null
      >`case when circuit_open_until is null and consecutive_failures + 1 >= ${threshold} then ${openUntil} else circuit_open_until end`,
      circuit_opened_at: sql<
        string | null
      >`case when circuit_open_until is null and consecutive_failures + 1 >= ${threshold} then ${dbNow(ctx.dialect)} else circuit_opened_at end`,
      updated_at: dbNow(ctx.dialect),
    }))
    .where("id", "=", 1)
    .returning(["consecutive_failures", "circuit_open_until"])
    .executeTakeFirstOrThrow();
  const open = row.circuit_open_until !== null;
  return {
    failures: row.consecutive_failures,
    open,
    opened: open && row.consecutive_failures === threshold,
  };
}

/** Twilio answered (anything but an outage): the count starts again and an open circuit closes. */
export async function recordApiAnswered(ctx: Ctx): Promise<boolean> {
  const updated = await ctx.db
    .updateTable("sms_dispatch_state")
    .set({
      consecutive_failures: 0,
      circuit_open_until: null,
      circuit_opened_at: null,
      probe_owner: null,
      probe_until: null,
      updated_at: dbNow(ctx.dialect),
    })
    .where("id", "=", 1)
    .where((eb) =>
      eb.or([eb("consecutive_failures", ">", 0), eb("circuit_open_until", "is not", null)]),
    )
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/**
 * While the circuit is half open, one dispatcher at a time may send one message to find out
 * whether Twilio is back. True when `workerId` holds that probe now.
 */
export async function takeProbe(ctx: Ctx, workerId: string, holdSeconds: number): Promise<boolean> {
  const updated = await ctx.db
    .updateTable("sms_dispatch_state")
    .set({ probe_owner: workerId, probe_until: dbNow(ctx.dialect, holdSeconds) })
    .where("id", "=", 1)
    .where("circuit_open_until", "<=", dbNow(ctx.dialect))
    .where((eb) =>
      eb.or([
        eb("probe_owner", "is", null),
        eb("probe_owner", "=", workerId),
        eb("probe_until", "<", dbNow(ctx.dialect)),
      ]),
    )
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** The probe failed: the circuit stays open for another `openSeconds`. */
export async function probeFailed(ctx: Ctx, workerId: string, openSeconds: number): Promise<void> {
  await ctx.db
    .updateTable("sms_dispatch_state")
    .set({
      circuit_open_until: dbNow(ctx.dialect, openSeconds),
      probe_owner: null,
      probe_until: null,
      updated_at: dbNow(ctx.dialect),
    })
    .where("id", "=", 1)
    .where("probe_owner", "=", workerId)
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

export interface AdminPause {
  at: string;
  byEmail: string | null;
  reason: string | null;
}

/**
 * An admin stops all sending, for every dispatcher (they read it before each claim). A second
 * pause while paused changes nothing: the first admin, time and reason are kept. Returns the
 * pause in force and whether this call made it.
 */
export async function pauseSending(
  ctx: Pick<AppContext, "db" | "clock">,
  by: string,
  reason: string | null,
): Promise<{ started: boolean; pause: AdminPause }> {
  const now = ctx.clock.now().toISOString();
  const updated = await ctx.db
    .updateTable("sms_dispatch_state")
    .set({
      admin_paused_at: now,
      admin_paused_by_email: by,
      admin_pause_reason: reason,
      updated_at: now,
    })
    .where("id", "=", 1)
    .where("admin_paused_at", "is", null)
    .executeTakeFirst();
  const state = await readDispatchState(ctx);
  return {
    started: Number(updated.numUpdatedRows) === 1,
    pause: adminPauseOf(state) ?? { at: now, byEmail: by, reason },
  };
}

/**
 * Sending may go on again. Ends the pause that was read, in one conditional UPDATE: of two
 * resumes at once only one ends it. Returns the pause it ended (null when none was in force).
 */
export async function resumeSending(
  ctx: Pick<AppContext, "db" | "clock" | "dialect">,
): Promise<AdminPause | null> {
  const pause = adminPauseOf(await readDispatchState(ctx));
  if (!pause) return null;
  const updated = await ctx.db
    .updateTable("sms_dispatch_state")
    .set({
      admin_paused_at: null,
      admin_paused_by_email: null,
      admin_pause_reason: null,
      updated_at: ctx.clock.now().toISOString(),
    })
    .where("id", "=", 1)
    .where("admin_paused_at", "=", pause.at)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return null;
  // Paused dispatchers in other processes look again now, not at their next poll.
  await announceDue(ctx.db, ctx);
  return pause;
}

export function adminPauseOf(state: {
  admin_paused_at: string | null;
  admin_paused_by_email: string | null;
  admin_pause_reason: string | null;
}): AdminPause | null {
  return state.admin_paused_at
    ? {
        at: state.admin_paused_at,
        byEmail: state.admin_paused_by_email,
        reason: state.admin_pause_reason,
      }
    : null;
}

const DAY_MS = 24 * 3_600_000;

/**
 * "Failed or not delivered": the statuses written as literals, not parameters, so that SQLite
 * (which cannot see through a bound value) reads the partial index `sms_messages_failures_idx`
 * that holds only these rows.
 */
export const failedOrUndelivered = sql<boolean>`status in ('failed', 'undelivered')`;

/** The failures (failed, undelivered) whose status changed at or after `since`. */
export function failuresSince(db: Kysely<DB>, since: string) {
  return db
    .selectFrom("sms_messages")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where(failedOrUndelivered)
    .where("updated_at", ">=", since);
}

/**
 * The shared state row with the count of failures since `since`, in one statement: every admin
 * page reads it for its banner, and on PostgreSQL each statement is a round trip to the server.
 */
const sendingStateRow = preparedRead((db, param: ParamOf<{ since: string }>) =>
  db
    .selectFrom("sms_dispatch_state")
    .selectAll("sms_dispatch_state")
    .select(failuresSince(db, param("since")).as("failures"))
    .where("id", "=", 1),
);

/**
 * Whether SMS are going out, for the banner on every admin page: the shared state row and one
 * count on the partial failures index of what failed or was not delivered in the last 24 hours.
 */
export async function readSendingState(ctx: Pick<AppContext, "db" | "clock">) {
  const now = ctx.clock.now();
  const since = new Date(now.getTime() - DAY_MS).toISOString();
  const [state] = await sendingStateRow(ctx.db, { since });
  if (!state) throw new Error("sms_dispatch_state has no row 1 (migrations not run?)");
  const ahead = (at: string | null) => (at && Date.parse(at) > now.getTime() ? at : null);
  return {
    credentialsError: state.credentials_error,
    adminPause: adminPauseOf(state),
    rateLimitedUntil: ahead(state.paused_until),
    outageUntil: ahead(state.circuit_open_until),
    recentFailures: { count: Number(state.failures ?? 0), since },
  };
}
