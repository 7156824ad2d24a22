import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Student } from "../db/schema.ts";
import { fitVariablesToSegments } from "../sms/encoding.ts";
import { PRIORITY_TRANSACTIONAL, type QueueResult, queueSms } from "../sms/outbox-api.ts";
import { firstName, type SmsTemplate } from "../sms/templates.ts";

/**
 * The registration's SMS: approved, or not approved (with the reason). Each fits two segments in
 * the encoding it is sent in: the first name and the reason are cut with "..." as far as needed.
 * A roll number is not cut: registration allows only A-Z, 0-9, / and -, at most 20 of them.
 */

export const approvalSms: SmsTemplate<{ fullName: string; rollNumber: string }> = {
  id: "approval",
  maxSegments: 2,
  render: ({ fullName, rollNumber }) =>
    fitVariablesToSegments(
      (v) =>
        `Dear ${v.name}, your Placement Portal account (${rollNumber}) has been approved. You can now log in and apply for jobs.`,
      { name: firstName(fullName) },
      approvalSms.maxSegments,
    ),
};

export const rejectionSms: SmsTemplate<{ fullName: string; rollNumber: string; reason?: string }> =
  {
    id: "rejection",
    maxSegments: 2,
    render: ({ fullName, rollNumber, reason }) =>
      fitVariablesToSegments(
        (v) =>
          `Dear ${v.name}, your Placement Portal registration (${rollNumber}) was not approved.${
            v.reason ? ` Reason: ${v.reason}.` : ""
          } Please contact the placement office.`,
        { name: firstName(fullName), reason: reason ?? "" },
        rejectionSms.maxSegments,
      ),
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
