import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, SmsKind, SmsStatus, Student } from "../db/schema.ts";
import { countSegments } from "./encoding.ts";
import { approvalSms, rejectionSms } from "./templates.ts";

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
