import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Student } from "../db/schema.ts";
import { PRIORITY_TRANSACTIONAL, type QueueResult, queueSms } from "../sms/outbox-api.ts";
import { clip, firstName, type SmsTemplate } from "../sms/templates.ts";

/** The registration's SMS: approved, or not approved (with the reason). */

export const approvalSms: SmsTemplate<{ fullName: string; rollNumber: string }> = {
  id: "approval",
  render: ({ fullName, rollNumber }) =>
    `Dear ${firstName(fullName)}, your Placement Portal account (${rollNumber}) has been approved. You can now log in and apply for jobs.`,
};

export const rejectionSms: SmsTemplate<{ fullName: string; rollNumber: string; reason?: string }> =
  {
    id: "rejection",
    render: ({ fullName, rollNumber, reason }) =>
      `Dear ${firstName(fullName)}, your Placement Portal registration (${rollNumber}) was not approved.${
        reason ? ` Reason: ${clip(reason, 120)}.` : ""
      } Please contact the placement office.`,
  };

export type StudentForSms = Pick<
  Student,
  "id" | "full_name" | "roll_number" | "phone_e164" | "sms_opted_out_at"
>;

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog">;

export function notifyStudentApproved(
  trx: Kysely<DB>,
  ctx: Ctx,
  student: StudentForSms,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "approval",
    dedupeKey: `approval:${student.id}`,
    reference: `student:${student.id}`,
    studentId: student.id,
    toE164: student.phone_e164,
    body: approvalSms.render({ fullName: student.full_name, rollNumber: student.roll_number }),
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: student.sms_opted_out_at !== null,
  });
}

export function notifyStudentRejected(
  trx: Kysely<DB>,
  ctx: Ctx,
  student: StudentForSms,
  reason: string | undefined,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "rejection",
    dedupeKey: `rejection:${student.id}`,
    reference: `student:${student.id}`,
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
