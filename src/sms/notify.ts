import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { typedValue } from "../db/dialect.ts";
import type { ApplicationStatus, DB, Job, SmsKind, SmsStatus, Student } from "../db/schema.ts";
import { type EligibilityRules, eligibleStudentFilter, noRules } from "../jobs/eligibility.ts";
import { countSegments } from "./encoding.ts";
import {
  announcementSms,
  approvalSms,
  jobPostedSms,
  rejectionSms,
  statusUpdateSms,
} from "./templates.ts";

/** Transactional messages (a decision about one student) go before bulk alerts. */
export const PRIORITY_TRANSACTIONAL = 0;
export const PRIORITY_BULK = 10;

export interface OutboxMessage {
  kind: SmsKind;
  /** Makes a double click or a retried request a no-op: one row per key, ever. */
  dedupeKey: string;
  studentId: number | null;
  toE164: string;
  body: string;
  priority: number;
  /** Set when the student opted out of SMS: the row is recorded as skipped, never sent. */
  optedOut?: boolean;
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
  ctx: Pick<AppContext, "config" | "clock" | "smsLog">,
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

type StudentForSms = Pick<
  Student,
  "id" | "full_name" | "roll_number" | "phone_e164" | "sms_opted_out_at"
>;

export function notifyStudentApproved(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog">,
  student: StudentForSms,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "approval",
    dedupeKey: `approval:${student.id}`,
    studentId: student.id,
    toE164: student.phone_e164,
    body: approvalSms.render({ fullName: student.full_name, rollNumber: student.roll_number }),
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: student.sms_opted_out_at !== null,
  });
}

export function notifyStudentRejected(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog">,
  student: StudentForSms,
  reason: string | undefined,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "rejection",
    dedupeKey: `rejection:${student.id}`,
    studentId: student.id,
    toE164: student.phone_e164,
    body: rejectionSms.render({
      fullName: student.full_name,
      rollNumber: student.roll_number,
      reason,
    }),
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: student.sms_opted_out_at !== null,
  });
}

/** After the transaction that queued messages has committed: send them now, not at the next poll. */
export function signalQueued(ctx: Pick<AppContext, "wakeSmsDispatcher">): void {
  ctx.wakeSmsDispatcher?.();
}

export function notifyStatusChange(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog">,
  change: {
    eventId: number;
    student: StudentForSms;
    job: Pick<Job, "company" | "title">;
    to: ApplicationStatus;
  },
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "status_update",
    dedupeKey: `status:${change.eventId}`,
    studentId: change.student.id,
    toE164: change.student.phone_e164,
    body: statusUpdateSms.render({
      fullName: change.student.full_name,
      company: change.job.company,
      title: change.job.title,
      status: change.to,
    }),
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: change.student.sms_opted_out_at !== null,
  });
}

/**
 * One message per approved, not-opted-out student matching `filter`, in one INSERT ... SELECT
 * inside the caller's transaction: no per-student loop, however many students there are. The body
 * is the same for all, so it is encoded and counted once. Returns how many rows were queued.
 */
async function fanOut(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  fan: {
    kind: SmsKind;
    dedupePrefix: string;
    body: string;
    filter: ReturnType<typeof eligibleStudentFilter>;
  },
): Promise<number> {
  const { encoding, segments } = countSegments(fan.body);
  const now = typedValue(ctx.dialect, ctx.clock.now().toISOString(), "timestamptz");
  const selection = trx
    .selectFrom("students")
    .where(fan.filter)
    .where("students.sms_opted_out_at", "is", null)
    .select([
      sql.lit(fan.kind).as("kind"),
      sql.lit(PRIORITY_BULK).as("priority"),
      sql<string>`${fan.dedupePrefix} || cast(students.id as text)`.as("dedupe_key"),
      "students.id as student_id",
      "students.phone_e164 as to_e164",
      sql<string>`${fan.body}`.as("body"),
      sql.lit(encoding).as("encoding"),
      sql.lit(segments).as("segments"),
      // With SMS_ENABLED=false the rows are still written, as skipped: the record says who was not told.
      sql.lit(ctx.config.SMS_ENABLED ? "queued" : "skipped").as("status"),
      (ctx.config.SMS_ENABLED ? sql<string | null>`null` : sql<string>`${"SMS is disabled"}`).as(
        "error_message",
      ),
      now.as("next_attempt_at"),
      now.as("created_at"),
      now.as("updated_at"),
    ]);
  const result = await trx
    .insertInto("sms_messages")
    .columns([
      "kind",
      "priority",
      "dedupe_key",
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
    ])
    .expression(selection)
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .executeTakeFirst();
  const rows = Number(result.numInsertedOrUpdatedRows ?? 0);
  if (ctx.config.SMS_ENABLED)
    ctx.smsLog.info({ kind: fan.kind, queued: rows, segmentsEach: segments }, "queued (fan-out)");
  else
    ctx.smsLog.info(
      { kind: fan.kind, skipped: rows },
      "skipped: SMS is disabled (fan-out recorded as skipped)",
    );
  return ctx.config.SMS_ENABLED ? rows : 0;
}

export function jobAlertBody(
  job: Pick<Job, "company" | "title" | "type" | "apply_by">,
  formatDate: (iso: string) => string,
): string {
  return jobPostedSms.render({
    company: job.company,
    title: job.title,
    type: job.type,
    applyBy: formatDate(job.apply_by),
  });
}

/** "New opportunity" for every eligible student: the posting's fan-out. */
export function queueJobAlerts(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  job: Pick<Job, "id" | "company" | "title" | "type" | "apply_by">,
  rules: EligibilityRules,
  body: string,
): Promise<number> {
  return fanOut(trx, ctx, {
    kind: "job_posted",
    dedupePrefix: `job:${job.id}:student:`,
    body,
    filter: eligibleStudentFilter(rules),
  });
}

export function announcementBody(announcement: { title: string; message: string }): string {
  return announcementSms.render(announcement);
}

/** An announcement to every approved, not-opted-out student. */
export function queueAnnouncementSms(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  announcement: { id: number; title: string; message: string },
): Promise<number> {
  return fanOut(trx, ctx, {
    kind: "custom",
    dedupePrefix: `announcement:${announcement.id}:student:`,
    body: announcementBody(announcement),
    filter: eligibleStudentFilter(noRules),
  });
}
