import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import type { AppContext } from "../context.ts";
import { typedValue } from "../db/dialect.ts";
import type { DB, SmsKind, SmsStatus } from "../db/schema.ts";
import { countSegments } from "./encoding.ts";
import type { TemplateRef } from "./templates.ts";

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

type QueueCtx = Pick<AppContext, "config" | "clock" | "smsLog">;

export interface OutboxMessage {
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
}

export interface QueueResult {
  /** The row's id, or null when a row with the same dedupe key already existed. */
  id: number | null;
  status: SmsStatus;
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
  const { encoding, segments } = countSegments(message.body);
  const now = ctx.clock.now().toISOString();
  const skipReason = !ctx.config.SMS_ENABLED
    ? "SMS is disabled"
    : message.optedOut
      ? "Student opted out of SMS"
      : null;
  const status: SmsStatus = skipReason ? "skipped" : "queued";
  const row = await trx
    .insertInto("sms_messages")
    .values({
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
      next_attempt_at: now,
      error_message: skipReason,
      created_at: now,
      updated_at: now,
      template_id: message.template?.id ?? null,
      template_version: message.template?.version ?? null,
    })
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .returning("id")
    .executeTakeFirst();
  const fields = { sms: row?.id, kind: message.kind, to: message.toE164, segments };
  if (!row) ctx.smsLog.info({ ...fields, dedupeKey: message.dedupeKey }, "already queued");
  else if (skipReason) ctx.smsLog.info({ ...fields, reason: skipReason }, `skipped: ${skipReason}`);
  else ctx.smsLog.info(fields, "queued");
  return { id: row?.id ?? null, status };
}

/** A query the caller builds that selects the ids of the students to tell (`students.id`). */
// biome-ignore lint/suspicious/noExplicitAny: any FROM clause, as long as it yields student ids
export type StudentIdQuery = SelectQueryBuilder<DB, any, { id: number }>;

export interface FanOut {
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
  ctx: QueueCtx & Pick<AppContext, "dialect">,
  fan: FanOut,
): Promise<number> {
  const { encoding, segments } = countSegments(fan.body);
  const now = typedValue(ctx.dialect, ctx.clock.now().toISOString(), "timestamptz");
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
      sql.lit(ctx.config.SMS_ENABLED ? "queued" : "skipped").as("status"),
      (ctx.config.SMS_ENABLED ? sql<string | null>`null` : sql<string>`${"SMS is disabled"}`).as(
        "error_message",
      ),
      now.as("next_attempt_at"),
      now.as("created_at"),
      now.as("updated_at"),
      (fan.template ? sql<string>`${fan.template.id}` : sql<string | null>`null`).as("template_id"),
      (fan.template ? sql.lit(fan.template.version) : sql<number | null>`null`).as(
        "template_version",
      ),
    ]);
  const result = await trx
    .insertInto("sms_messages")
    .columns([...QUEUED_ROW_COLUMNS, "template_id", "template_version"])
    .expression(selection)
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .executeTakeFirst();
  const rows = Number(result.numInsertedOrUpdatedRows ?? 0);
  if (ctx.config.SMS_ENABLED)
    ctx.smsLog.info(
      { kind: fan.kind, reference: fan.reference, queued: rows, segmentsEach: segments },
      "queued (fan-out)",
    );
  else
    ctx.smsLog.info(
      { kind: fan.kind, reference: fan.reference, skipped: rows },
      "skipped: SMS is disabled (fan-out recorded as skipped)",
    );
  return ctx.config.SMS_ENABLED ? rows : 0;
}

/**
 * Cancels the messages of `reference` that are still queued (status `cancelled`, `reason` as the
 * error message), in one indexed UPDATE inside the caller's transaction. Rows being sent right now
 * (`sending`) are left alone: their outcome is recorded as usual. Returns how many were cancelled.
 */
export async function cancelQueuedSms(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock" | "smsLog">,
  reference: string,
  reason: string,
): Promise<number> {
  const result = await trx
    .updateTable("sms_messages")
    .set({
      status: "cancelled",
      error_message: reason,
      updated_at: ctx.clock.now().toISOString(),
    })
    .where("reference", "=", reference)
    .where("status", "=", "queued")
    .executeTakeFirst();
  const cancelled = Number(result.numUpdatedRows);
  if (cancelled > 0) ctx.smsLog.info({ reference, cancelled, reason }, "cancelled");
  return cancelled;
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

/** After the transaction that queued messages has committed: send them now, not at the next poll. */
export function signalQueued(ctx: Pick<AppContext, "wakeSmsDispatcher">): void {
  ctx.wakeSmsDispatcher?.();
}
