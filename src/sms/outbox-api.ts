import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import type { AppContext } from "../context.ts";
import { notByIndex, typedValue } from "../db/dialect.ts";
import type { DB, SmsKind, SmsStatus } from "../db/schema.ts";
import { formatDateTime } from "../web/time.ts";
import { countSegments } from "./encoding.ts";
import { quietUntil } from "./quiet-hours.ts";
import { maskSecret, SECRET_NOT_RESENT, type SmsSecret } from "./secrets.ts";
import type { TemplateRef } from "./templates.ts";
import { announceDue } from "./wake-ups.ts";

/**
 * What a feature does with the outbox: queue one message, queue one per student of an audience it
 * selects, cancel or rewrite the queued ones of a reference, and read their status. The texts and
 * the audiences belong to the features (students/notices.ts, jobs/notices.ts, ...); nothing here
 * knows what a job or an announcement is.
 */

/**
 * Lower is sooner. A code someone is waiting for at a form goes before everything; transactional
 * messages (a decision about one student) go before bulk alerts.
 */
export const PRIORITY_URGENT = -10;
/** Transactional messages (a decision about one student) go before bulk alerts. */
export const PRIORITY_TRANSACTIONAL = 0;
export const PRIORITY_BULK = 10;

type QueueCtx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

/**
 * Kinds a student's SMS opt-out does not stop: the messages that guard the account's number (the
 * code confirming a new number, and "your number was changed" to the old one). The opt-out is a
 * profile setting anyone holding the session can untick, so it must not silence the warning that
 * the number was taken over; a number that replied STOP is still refused by Twilio itself (21610).
 */
export const KINDS_SENT_DESPITE_OPT_OUT: readonly SmsKind[] = ["phone_code", "phone_change"];

export interface OutboxMessage extends Timing {
  kind: SmsKind;
  /** Makes a double click or a retried request a no-op: one row per key, ever. */
  dedupeKey: string;
  /** What the message is about ("job:12"), to cancel or rewrite it while it is queued. */
  reference?: string | null;
  studentId: number | null;
  toE164: string;
  body: string;
  priority: number;
  /** Set when the student opted out of SMS: the row is recorded as skipped, never sent. */
  optedOut?: boolean;
  /** The template version the body was rendered from (template-store.ts renderCurrent). */
  template?: TemplateRef | null;
  /**
   * A one-time secret the body carries (a reset code): admins only ever see the body with it
   * masked, the body loses it when it expires, and it is not sent or resent after (secrets.ts).
   */
  secret?: SmsSecret;
  /**
   * The student's name and roll number as the caller read them in this transaction. Without, the
   * INSERT reads them itself, one subquery each per row: planning 600 of them took 100-140 ms of
   * a bulk move of 300 on PostgreSQL (bench/README.md, "A bulk move of 300 applicants").
   */
  studentNames?: { fullName: string; rollNumber: string };
}

/** When a message is to go (decision 032): one message's, or each of a fan-out's. */
export interface Timing {
  /** When it is to go, not before: a reminder the evening before its slot. Absent: at once. */
  dueAt?: Date;
  /** When it stops being worth sending (the slot has started): never sent after, skipped instead. */
  notAfter?: Date;
  /** Held by SMS_QUIET_HOURS (reminders, alerts, announcements); codes and decisions are not. */
  quiet?: boolean;
}

/**
 * The row's timing columns: its first due moment (`dueAt`, or now, then past quiet hours if it
 * keeps them), and why it can never go when that moment is already past `notAfter`.
 */
export function timingColumns(ctx: Pick<AppContext, "config">, now: Date, timing: Timing) {
  const asked = timing.dueAt && timing.dueAt > now ? timing.dueAt : now;
  const held = timing.quiet ? quietUntil(asked, ctx.config.SMS_QUIET_HOURS) : null;
  const due = held ?? asked;
  const late =
    timing.notAfter && timing.notAfter <= due
      ? held && timing.notAfter > asked
        ? `Not sent: quiet hours last past its time (not after ${formatDateTime(timing.notAfter.toISOString())})`
        : lateReason(timing.notAfter)
      : null;
  return {
    next_attempt_at: due.toISOString(),
    due_at: due > now ? due.toISOString() : null,
    not_after: timing.notAfter?.toISOString() ?? null,
    quiet: timing.quiet ? 1 : 0,
    late,
  };
}

/** The console's words for a message whose time passed before it could be sent. */
export function lateReason(notAfter: Date | string): string {
  const iso = typeof notAfter === "string" ? notAfter : notAfter.toISOString();
  return `Not sent: its time had passed (not after ${formatDateTime(iso)})`;
}

export interface QueueResult {
  /** The row's id, or null when a row with the same dedupe key already existed. */
  id: number | null;
  status: SmsStatus;
}

/** The student's name or roll number as the message is written, read in the same statement. */
function keptStudent(studentId: number | null, column: "full_name" | "roll_number") {
  if (studentId === null) return null;
  return sql<
    string | null
  >`(select ${sql.ref(`students.${column}`)} from students where students.id = ${studentId})`;
}

/** A message's outbox row as `queueSms` and `queueSmsBatch` write it, and why it is skipped. */
function outboxRow(ctx: QueueCtx, message: OutboxMessage, now: string) {
  const { encoding, segments } = countSegments(message.body);
  const { late, ...timing } = timingColumns(ctx, new Date(now), message);
  const skipReason = !ctx.config.SMS_ENABLED
    ? "SMS is disabled"
    : message.optedOut
      ? "Student opted out of SMS"
      : late;
  const status: SmsStatus = skipReason ? "skipped" : "queued";
  const values = {
    kind: message.kind,
    priority: message.priority,
    dedupe_key: message.dedupeKey,
    reference: message.reference ?? null,
    student_id: message.studentId,
    to_e164: message.toE164,
    body: message.body,
    encoding,
    segments,
    status,
    ...timing,
    error_message: skipReason,
    created_at: now,
    updated_at: now,
    template_id: message.template?.id ?? null,
    template_version: message.template?.version ?? null,
    masked_body: message.secret ? maskSecret(message.body, message.secret.text) : null,
    secret_until: message.secret?.until.toISOString() ?? null,
    // Kept with the message: the console names the person after the student row is gone.
    student_name: message.studentNames?.fullName ?? keptStudent(message.studentId, "full_name"),
    student_roll_number:
      message.studentNames?.rollNumber ?? keptStudent(message.studentId, "roll_number"),
  };
  return { values, status, skipReason, segments };
}

/** The log line of one message written (id) or found already there (null). */
function logQueued(
  ctx: QueueCtx,
  message: OutboxMessage,
  id: number | null,
  row: Pick<ReturnType<typeof outboxRow>, "skipReason" | "segments">,
) {
  const fields = {
    sms: id ?? undefined,
    kind: message.kind,
    to: message.toE164,
    segments: row.segments,
  };
  if (id === null) ctx.smsLog.info({ ...fields, dedupeKey: message.dedupeKey }, "already queued");
  else if (row.skipReason)
    ctx.smsLog.info({ ...fields, reason: row.skipReason }, `skipped: ${row.skipReason}`);
  else ctx.smsLog.info(fields, "queued");
}

/**
 * Writes one message into the outbox (`sms_messages`). Call it with the transaction that makes the
 * change the message is about, so both commit or neither does.
 */
export async function queueSms(
  trx: Kysely<DB>,
  ctx: QueueCtx,
  message: OutboxMessage,
): Promise<QueueResult> {
  const [result] = await queueSmsBatch(trx, ctx, [message]);
  return result as QueueResult;
}

/** Rows of one multi-row INSERT: about 20 parameters each, far below either database's limit. */
const MESSAGES_PER_STATEMENT = 500;

/**
 * Writes many messages into the outbox as `queueSms` writes one, in one multi-row INSERT (per
 * 500): a bulk move of 300 applicants queues its 300 messages in one statement, not 300. Each
 * keeps its own dedupe key (a key already there, or twice in `messages`, writes one row).
 * Results in the order of `messages`.
 */
export async function queueSmsBatch(
  trx: Kysely<DB>,
  ctx: QueueCtx,
  messages: readonly OutboxMessage[],
): Promise<QueueResult[]> {
  const now = ctx.clock.now().toISOString();
  const rows = messages.map((m) => outboxRow(ctx, m, now));
  const ids = new Map<string, number>();
  for (let i = 0; i < rows.length; i += MESSAGES_PER_STATEMENT) {
    const written = await trx
      .insertInto("sms_messages")
      .values(rows.slice(i, i + MESSAGES_PER_STATEMENT).map((r) => r.values))
      .onConflict((oc) => oc.column("dedupe_key").doNothing())
      .returning(["id", "dedupe_key"])
      .execute();
    for (const w of written) ids.set(w.dedupe_key, w.id);
  }
  if (rows.some((r) => r.status === "queued" && ids.has(r.values.dedupe_key)))
    await announceDue(trx, ctx);
  // A key given twice is written once: the first of them is the one written.
  const seen = new Set<string>();
  const results = messages.map((message, i) => {
    const row = rows[i] as (typeof rows)[number];
    const id = seen.has(message.dedupeKey) ? null : (ids.get(message.dedupeKey) ?? null);
    seen.add(message.dedupeKey);
    return { id, status: row.status };
  });
  if (messages.length === 1)
    logQueued(
      ctx,
      messages[0] as OutboxMessage,
      results[0]?.id ?? null,
      rows[0] as (typeof rows)[number],
    );
  else if (messages.length > 1) logBatch(ctx, messages, rows, results);
  return results;
}

/**
 * One line for a batch, as for a fan-out: the log file is written synchronously, and a line per
 * message cost a bulk move of 300 about 27 ms (bench/README.md). The ids lead to each row.
 */
function logBatch(
  ctx: QueueCtx,
  messages: readonly OutboxMessage[],
  rows: readonly ReturnType<typeof outboxRow>[],
  results: readonly QueueResult[],
) {
  const queued: number[] = [];
  const skipped: Record<string, number> = {};
  let alreadyQueued = 0;
  results.forEach((result, i) => {
    const reason = rows[i]?.skipReason;
    if (result.id === null) alreadyQueued += 1;
    else if (reason) skipped[reason] = (skipped[reason] ?? 0) + 1;
    else queued.push(result.id);
  });
  ctx.smsLog.info(
    {
      kinds: [...new Set(messages.map((m) => m.kind))],
      queued: queued.length,
      sms: queued,
      ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
      ...(alreadyQueued > 0 ? { alreadyQueued } : {}),
    },
    "queued (batch)",
  );
}

/** A query the caller builds that selects the ids of the students to tell (`students.id`). */
// biome-ignore lint/suspicious/noExplicitAny: any FROM clause, as long as it yields student ids
export type StudentIdQuery = SelectQueryBuilder<DB, any, { id: number }>;

export interface FanOut extends Timing {
  kind: SmsKind;
  /** What the messages are about ("job:12"): cancel or rewrite them by it. */
  reference: string;
  /** Each row's dedupe key is this followed by the student id. */
  dedupePrefix: string;
  /** The same text for everyone: encoded and counted once. */
  body: string;
  /** Who: opted-out students among them are left out. */
  students: StudentIdQuery;
  priority?: number;
  /** The template version the body was rendered from. */
  template?: TemplateRef | null;
}

/** The columns of a row queued by INSERT ... SELECT, in the order its select lists them. */
export const QUEUED_ROW_COLUMNS = [
  "kind",
  "priority",
  "dedupe_key",
  "reference",
  "student_id",
  "to_e164",
  "body",
  "encoding",
  "segments",
  "status",
  "error_message",
  "next_attempt_at",
  "created_at",
  "updated_at",
] as const;

/**
 * One message per student of `fan.students` who has not opted out, in one INSERT ... SELECT inside
 * the caller's transaction: no per-student loop, however many students there are. With
 * SMS_ENABLED=false the rows are still written, as skipped (the record says who was not told).
 * Returns how many rows were queued (0 when SMS is disabled).
 */
export async function queueSmsForStudents(
  trx: Kysely<DB>,
  ctx: QueueCtx,
  fan: FanOut,
): Promise<number> {
  const { encoding, segments } = countSegments(fan.body);
  const clockNow = ctx.clock.now();
  const now = typedValue(ctx.dialect, clockNow.toISOString(), "timestamptz");
  const { late, ...timing } = timingColumns(ctx, clockNow, fan);
  const at = (iso: string | null) => typedValue(ctx.dialect, iso, "timestamptz");
  const skipReason = !ctx.config.SMS_ENABLED ? "SMS is disabled" : late;
  const selection = trx
    .selectFrom("students")
    .where("students.id", "in", fan.students)
    .where("students.sms_opted_out_at", "is", null)
    .select([
      sql.lit(fan.kind).as("kind"),
      sql.lit(fan.priority ?? PRIORITY_BULK).as("priority"),
      sql<string>`${fan.dedupePrefix} || cast(students.id as text)`.as("dedupe_key"),
      sql<string>`${fan.reference}`.as("reference"),
      "students.id as student_id",
      "students.phone_e164 as to_e164",
      sql<string>`${fan.body}`.as("body"),
      sql.lit(encoding).as("encoding"),
      sql.lit(segments).as("segments"),
      sql.lit(skipReason ? "skipped" : "queued").as("status"),
      (skipReason ? sql<string>`${skipReason}` : sql<string | null>`null`).as("error_message"),
      at(timing.next_attempt_at).as("next_attempt_at"),
      now.as("created_at"),
      now.as("updated_at"),
      (fan.template ? sql<string>`${fan.template.id}` : sql<string | null>`null`).as("template_id"),
      (fan.template ? sql.lit(fan.template.version) : sql<number | null>`null`).as(
        "template_version",
      ),
      "students.full_name as student_name",
      "students.roll_number as student_roll_number",
      at(timing.due_at).as("due_at"),
      at(timing.not_after).as("not_after"),
      sql.lit(timing.quiet).as("quiet"),
    ]);
  const result = await trx
    .insertInto("sms_messages")
    .columns([
      ...QUEUED_ROW_COLUMNS,
      "template_id",
      "template_version",
      "student_name",
      "student_roll_number",
      "due_at",
      "not_after",
      "quiet",
    ])
    .expression(selection)
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .executeTakeFirst();
  const rows = Number(result.numInsertedOrUpdatedRows ?? 0);
  if (rows > 0 && !skipReason) await announceDue(trx, ctx);
  if (late && ctx.config.SMS_ENABLED)
    ctx.smsLog.info(
      { kind: fan.kind, reference: fan.reference, skipped: rows },
      `skipped: ${late} (fan-out recorded as skipped)`,
    );
  else if (ctx.config.SMS_ENABLED)
    ctx.smsLog.info(
      { kind: fan.kind, reference: fan.reference, queued: rows, segmentsEach: segments },
      "queued (fan-out)",
    );
  else
    ctx.smsLog.info(
      { kind: fan.kind, reference: fan.reference, skipped: rows },
      "skipped: SMS is disabled (fan-out recorded as skipped)",
    );
  return skipReason ? 0 : rows;
}

/** What a cancel did: how many it cancelled, and how many it left to be checked first. */
export interface CancelOutcome {
  cancelled: number;
  /**
   * Messages whose last attempt may have reached Twilio (queued "maybe sent", or being sent right
   * now), not marked by an earlier cancel: not recorded as cancelled. Each carries the cancel; the dispatcher cancels it once it
   * knows it was not sent, or it ends sent, or "outcome unknown" (decision 027).
   */
  beingChecked: number;
}

/**
 * Cancels the messages `where` selects that are still queued and certainly never reached Twilio,
 * and marks the ones whose last attempt may have (queued with an unconfirmed attempt, or `sending`)
 * with the cancel instead. Two statements, in this order: the second marks every row the first
 * left queued or sending, so a row a dispatcher claimed or gave back between them still carries
 * the cancel, which the dispatcher's last look before sending applies.
 */
async function cancelWhere(
  trx: Kysely<DB>,
  now: string,
  where: SmsWhere,
  reason: string,
): Promise<CancelOutcome> {
  const cancelled = await trx
    .updateTable("sms_messages")
    .set({ status: "cancelled", error_message: reason, updated_at: now })
    .where(where)
    .where("status", "=", "queued")
    .where("unconfirmed_attempt_at", "is", null)
    .executeTakeFirst();
  // Rows a cancel marked already keep the first one's time and reason, and are not counted again.
  const marked = await trx
    .updateTable("sms_messages")
    .set({ cancel_requested_at: now, cancel_reason: reason })
    .where(where)
    .where("status", "in", ["queued", "sending"])
    .where("cancel_requested_at", "is", null)
    .executeTakeFirst();
  return {
    cancelled: Number(cancelled.numUpdatedRows),
    beingChecked: Number(marked.numUpdatedRows),
  };
}

/**
 * Cancels the messages of `reference` that are still queued (status `cancelled`, `reason` as the
 * error message), inside the caller's transaction. A message whose last attempt may have reached
 * Twilio is not recorded as cancelled: it is looked up first and cancelled only if it was not sent
 * (`beingChecked`, see cancelWhere).
 */
export async function cancelQueuedSms(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock" | "smsLog" | "dialect">,
  reference: string,
  reason: string,
  /** Only the messages to these students (one student left a group the reference names). */
  studentIds?: readonly number[],
): Promise<CancelOutcome> {
  if (studentIds?.length === 0) return { cancelled: 0, beingChecked: 0 };
  const now = ctx.clock.now().toISOString();
  const done = await cancelWhere(
    trx,
    now,
    (eb) =>
      studentIds
        ? // A student's few rows by the student index, not a job's 20,000 nudges walked by the
          // reference on SQLite for each application (bench/README.md, "Deadline nudges").
          eb.and([
            eb(notByIndex(ctx.dialect, "reference"), "=", reference),
            eb("student_id", "in", [...studentIds]),
          ])
        : eb("reference", "=", reference),
    reason,
  );
  if (done.cancelled > 0 || done.beingChecked > 0)
    ctx.smsLog.info({ reference, ...done, reason }, "cancelled");
  return done;
}

/**
 * Gives the still-queued messages of `reference` a new text (and its encoding and segment count),
 * in one UPDATE. A row whose earlier attempt may have reached Twilio keeps its text: the
 * reconciliation before its next attempt looks for that text in Twilio's list (decision 004).
 * With `templateVersion`, only the rows built from that version of their template (null: the rows
 * queued before versions were recorded), so a rewrite keeps each row's version.
 * Returns how many were rewritten.
 */
export async function rewriteQueuedSms(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock" | "smsLog">,
  reference: string,
  body: string,
  templateVersion?: number | null,
): Promise<number> {
  const { encoding, segments } = countSegments(body);
  let query = trx
    .updateTable("sms_messages")
    .set({ body, encoding, segments, updated_at: ctx.clock.now().toISOString() })
    .where("reference", "=", reference);
  if (templateVersion !== undefined)
    query = query.where("template_version", templateVersion === null ? "is" : "=", templateVersion);
  const result = await query
    .where("status", "=", "queued")
    .where("unconfirmed_attempt_at", "is", null)
    .where("body", "!=", body)
    .executeTakeFirst();
  const rewritten = Number(result.numUpdatedRows);
  if (rewritten > 0) ctx.smsLog.info({ reference, rewritten, segments }, "queued text rewritten");
  return rewritten;
}

/** How many messages of `reference` are in each status (statuses with none are left out). */
export async function smsStatusByReference(
  db: Kysely<DB>,
  reference: string,
): Promise<Partial<Record<SmsStatus, number>>> {
  const rows = await db
    .selectFrom("sms_messages")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("reference", "=", reference)
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * Of `smsStatusByReference`'s counts, the messages that went out or are going now (captured ones
 * count: in capture mode that is their sending). Cancelled, skipped and failed ones never went.
 */
export function sentOrSending(counts: Partial<Record<SmsStatus, number>>): number {
  return (["sending", "sent", "delivered", "undelivered", "captured"] as const).reduce(
    (sum, status) => sum + (counts[status] ?? 0),
    0,
  );
}

/**
 * After the transaction that queued messages has committed: this process's dispatcher sends them
 * now, not at the next poll (the dispatchers of other processes were told by the commit itself,
 * on PostgreSQL: wake-ups.ts).
 */
export function signalQueued(ctx: Pick<AppContext, "wakeSmsDispatcher">): void {
  ctx.wakeSmsDispatcher?.();
}

/** How many messages of `reference` are in each status: one GROUP BY on the reference index. */
export const smsCountsForReference = smsStatusByReference;

/** Statuses a message may be resent from: it did not reach the phone, and nothing else will try. */
export const RESENDABLE_STATUSES = [
  "failed",
  "undelivered",
  // May have arrived: the console asks the admin to confirm, warning it may arrive twice.
  "unknown",
] as const satisfies SmsStatus[];

export type ResendResult =
  | { outcome: "queued"; id: number; status: SmsStatus }
  /** A resend of it is already queued, on its way or through: a double click or a replay. */
  | { outcome: "already"; id: number }
  | { outcome: "refused"; reason: string; missing?: true };

/**
 * Queues a failed or undelivered message again as a new row (`resend_of` = its id), to the
 * student's current number (the office may have corrected it after an invalid-number failure;
 * a number-change notice goes to its own number again);
 * the original keeps its history. The dedupe key counts the resends of it that failed too, in the
 * same statement: a second click while a resend is pending finds the same key and queues nothing,
 * while a resend that failed in turn may be resent again.
 */
export async function resendSms(
  trx: Kysely<DB>,
  ctx: QueueCtx,
  messageId: number,
): Promise<ResendResult> {
  const original = await trx
    .selectFrom("sms_messages")
    .leftJoin("students", "students.id", "sms_messages.student_id")
    .select([
      "sms_messages.id",
      "sms_messages.kind",
      "sms_messages.status",
      "sms_messages.student_id",
      "sms_messages.masked_body",
      "sms_messages.redacted_at",
      "students.id as current_student_id",
      "students.sms_opted_out_at",
    ])
    .where("sms_messages.id", "=", messageId)
    .executeTakeFirst();
  if (!original) return { outcome: "refused", reason: "There is no such message.", missing: true };
  if (!(RESENDABLE_STATUSES as readonly SmsStatus[]).includes(original.status))
    return {
      outcome: "refused",
      reason: `Only a failed, undelivered or outcome-unknown message can be resent; message #${messageId} is ${original.status}.`,
    };
  if (original.kind === "password_reset")
    return {
      outcome: "refused",
      reason:
        "A password reset code is not resent: the student asks for a new code on the login page.",
    };
  // Its code confirms the new number, which may not be the student's current one.
  if (original.kind === "phone_code")
    return {
      outcome: "refused",
      reason:
        "A phone confirmation code is not resent: the student asks for a new code from their profile.",
    };
  if (original.masked_body !== null) return { outcome: "refused", reason: SECRET_NOT_RESENT };
  if (original.redacted_at !== null)
    return {
      outcome: "refused",
      reason: "Not resent: its text and number were removed after the retention period.",
    };
  // Test messages go to a number, not a student; any other message without one lost its student.
  if (original.kind !== "test" && original.current_student_id === null)
    return {
      outcome: "refused",
      reason: "Not resent: the student this message was for has been deleted.",
    };
  const optOutApplies = !KINDS_SENT_DESPITE_OPT_OUT.includes(original.kind);
  if (original.sms_opted_out_at !== null && optOutApplies)
    return {
      outcome: "refused",
      reason: "Not resent: the student has turned SMS off since (replied STOP).",
    };

  const now = typedValue(ctx.dialect, ctx.clock.now().toISOString(), "timestamptz");
  const enabled = ctx.config.SMS_ENABLED;
  const failedResends = trx
    .selectFrom("sms_messages as r")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    // Correlated with the outer row (the original, aliased "o" below).
    .where("r.resend_of", "=", sql<number>`o.id`)
    .where("r.status", "in", [...RESENDABLE_STATUSES]);
  const dedupeKey = sql<string>`${"resend:"} || cast(o.id as text) || ${":"} || cast((${failedResends}) as text)`;
  const selection = trx
    .selectFrom("sms_messages as o")
    .leftJoin("students as s", "s.id", "o.student_id")
    .where("o.id", "=", messageId)
    // Settled in the statement as well: still resendable, the student still reachable.
    .where("o.status", "in", [...RESENDABLE_STATUSES])
    .where("o.masked_body", "is", null)
    .where("o.redacted_at", "is", null)
    .$if(optOutApplies, (q) => q.where("s.sms_opted_out_at", "is", null))
    .select([
      "o.kind",
      sql.lit(PRIORITY_TRANSACTIONAL).as("priority"),
      dedupeKey.as("dedupe_key"),
      "o.reference",
      "o.student_id",
      // A number-change notice is about the number it went to (the old one): resent there.
      original.kind === "phone_change"
        ? sql<string>`o.to_e164`.as("to_e164")
        : sql<string>`coalesce(s.phone_e164, o.to_e164)`.as("to_e164"),
      "o.body",
      "o.encoding",
      "o.segments",
      sql.lit(enabled ? "queued" : "skipped").as("status"),
      (enabled ? sql<string | null>`null` : sql<string>`${"SMS is disabled"}`).as("error_message"),
      now.as("next_attempt_at"),
      now.as("created_at"),
      now.as("updated_at"),
      "o.id as resend_of",
      // The resent text is the original's, so it was built from the original's template version.
      "o.template_id",
      "o.template_version",
      sql<string | null>`coalesce(s.full_name, o.student_name)`.as("student_name"),
      sql<string | null>`coalesce(s.roll_number, o.student_roll_number)`.as("student_roll_number"),
    ]);
  const row = await trx
    .insertInto("sms_messages")
    .columns([
      ...QUEUED_ROW_COLUMNS,
      "resend_of",
      "template_id",
      "template_version",
      "student_name",
      "student_roll_number",
    ])
    .expression(selection)
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .returning(["id", "status", "to_e164"])
    .executeTakeFirst();
  if (row) {
    if (row.status === "queued") await announceDue(trx, ctx);
    ctx.smsLog.info(
      { sms: row.id, resendOf: messageId, kind: original.kind, to: row.to_e164 },
      enabled ? "queued (resend)" : "skipped: SMS is disabled (resend)",
    );
    return { outcome: "queued", id: row.id, status: row.status };
  }
  const pending = await trx
    .selectFrom("sms_messages")
    .select("id")
    .where("resend_of", "=", messageId)
    .where("status", "not in", [...RESENDABLE_STATUSES])
    .orderBy("id", "desc")
    .executeTakeFirst();
  if (pending) return { outcome: "already", id: pending.id };
  return {
    outcome: "refused",
    reason: `Message #${messageId} could not be resent; reload and try again.`,
  };
}

/** SQLite allows 32,766 parameters a statement; PostgreSQL 65,535. Chunks stay far below both. */
const IDS_PER_STATEMENT = 500;

export interface CancelSelection {
  ids?: readonly number[];
  reference?: string;
}

/**
 * Cancels the selected messages that are still queued, chunk by chunk (cancelWhere): a message
 * already finished is left as it is, one whose last attempt may have reached Twilio is checked
 * first. Returns how many were cancelled, how many are being checked, and how many of the
 * selection had already gone out (sent, delivered or not, captured, or outcome unknown).
 */
export async function cancelSelectedSms(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock" | "smsLog">,
  selection: CancelSelection,
  reason: string,
): Promise<CancelOutcome & { alreadyGone: number }> {
  const now = ctx.clock.now().toISOString();
  let cancelled = 0;
  let beingChecked = 0;
  for (const where of selectionChunks(selection)) {
    const done = await cancelWhere(trx, now, where, reason);
    cancelled += done.cancelled;
    beingChecked += done.beingChecked;
  }
  let alreadyGone = 0;
  for (const where of selectionChunks(selection)) {
    const row = await trx
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where(where)
      .where("status", "in", ALREADY_GONE)
      .executeTakeFirstOrThrow();
    alreadyGone += Number(row.n);
  }
  if (cancelled > 0 || beingChecked > 0)
    ctx.smsLog.info(
      {
        reference: selection.reference,
        ids: selection.ids?.length,
        cancelled,
        beingChecked,
        reason,
      },
      "cancelled",
    );
  return { cancelled, beingChecked, alreadyGone };
}

/** Went out, or may have (a `failed` one never reached a phone: not counted). */
const ALREADY_GONE: SmsStatus[] = ["sent", "delivered", "undelivered", "captured", "unknown"];

/** How many of the selection are still queued (for the confirmation page). */
export async function countQueuedSelected(
  db: Kysely<DB>,
  selection: CancelSelection,
): Promise<number> {
  let queued = 0;
  for (const where of selectionChunks(selection)) {
    const row = await db
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where(where)
      .where("status", "=", "queued")
      .executeTakeFirstOrThrow();
    queued += Number(row.n);
  }
  return queued;
}

type SmsWhere = Parameters<SelectQueryBuilder<DB, "sms_messages", object>["where"]>[0];

function selectionChunks(selection: CancelSelection): SmsWhere[] {
  const chunks: SmsWhere[] = [];
  if (selection.reference !== undefined) {
    const reference = selection.reference;
    chunks.push((eb) => eb("reference", "=", reference));
  }
  const ids = selection.ids ?? [];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
    chunks.push((eb) => eb("id", "in", chunk));
  }
  return chunks;
}

/**
 * The latest `limit` messages to one student, newest first, and how many there are in all. Show
 * each one's text with `displayedBody` (secrets.ts): a reset code's is masked.
 */
export async function smsHistoryOfStudent(db: Kysely<DB>, studentId: number, limit: number) {
  const [rows, total] = await Promise.all([
    db
      .selectFrom("sms_messages")
      .select([
        "id",
        "kind",
        "status",
        "body",
        "masked_body",
        "to_e164",
        "created_at",
        "updated_at",
      ])
      .where("student_id", "=", studentId)
      .orderBy("id", "desc")
      .limit(limit)
      .execute(),
    db
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("student_id", "=", studentId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}
