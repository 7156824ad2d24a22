import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { ApplicationStatus, DB, Job } from "../db/schema.ts";
import { fitVariablesToSegments } from "../sms/encoding.ts";
import { PRIORITY_TRANSACTIONAL, type QueueResult, queueSms } from "../sms/outbox-api.ts";
import { firstName, type SmsTemplate } from "../sms/templates.ts";
import type { StudentForSms } from "../students/notices.ts";
import { STATUS_LABELS } from "./status.ts";

/**
 * The application's SMS: the student's status changed. It fits two segments in the encoding it is
 * sent in: the first name, the company and the title are cut with "..." as far as needed.
 */

export const statusUpdateSms: SmsTemplate<{
  fullName: string;
  company: string;
  title: string;
  status: ApplicationStatus;
}> = {
  id: "status_update",
  maxSegments: 2,
  render: ({ fullName, company, title, status }) =>
    fitVariablesToSegments(
      (v) =>
        `Dear ${v.name}, your status for ${v.company} - ${v.title} has been updated to '${
          STATUS_LABELS[status]
        }'. Check the Placement Portal for details.`,
      { name: firstName(fullName), company, title },
      statusUpdateSms.maxSegments,
    ),
};

export function notifyStatusChange(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog">,
  change: {
    eventId: number;
    applicationId: number;
    student: StudentForSms;
    job: Pick<Job, "company" | "title">;
    to: ApplicationStatus;
  },
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "status_update",
    dedupeKey: `status:${change.eventId}`,
    reference: `application:${change.applicationId}`,
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
