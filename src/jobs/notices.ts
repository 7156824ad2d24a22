import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Job } from "../db/schema.ts";
import { fitVariablesToSegments } from "../sms/encoding.ts";
import { cancelQueuedSms, queueSmsForStudents, rewriteQueuedSms } from "../sms/outbox-api.ts";
import type { SmsTemplate } from "../sms/templates.ts";
import { type EligibilityRules, eligibleStudentFilter } from "./eligibility.ts";

/**
 * The job's SMS: "new opportunity" to every eligible student when it is posted. Its queued alerts
 * carry the reference `job:<id>`: closing or deleting the job cancels the ones not sent yet,
 * editing it rewrites their text. The text fits two segments in the encoding it is sent in: the
 * company and the title are cut with "..." as far as needed.
 */

export const jobPostedSms: SmsTemplate<{
  company: string;
  title: string;
  type: string;
  applyBy: string;
}> = {
  id: "job_posted",
  maxSegments: 2,
  render: (vars) =>
    fitVariablesToSegments(
      (v) =>
        `New opportunity: ${v.company} - ${v.title} (${v.type}). You are eligible. Apply by ${v.applyBy} on the Placement Portal.`,
      vars,
      jobPostedSms.maxSegments,
    ),
};

export type JobForAlert = Pick<Job, "company" | "title" | "type" | "apply_by">;

export function jobAlertBody(job: JobForAlert, formatDate: (iso: string) => string): string {
  return jobPostedSms.render({
    company: job.company,
    title: job.title,
    type: job.type,
    applyBy: formatDate(job.apply_by),
  });
}

export function jobReference(jobId: number): string {
  return `job:${jobId}`;
}

/** The audience: the ids of the approved students the job's rules admit. */
export function eligibleStudentIds(trx: Kysely<DB>, rules: EligibilityRules) {
  return trx.selectFrom("students").select("students.id").where(eligibleStudentFilter(rules));
}

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

/** "New opportunity" for every eligible student: the posting's fan-out. */
export function queueJobAlerts(
  trx: Kysely<DB>,
  ctx: Ctx,
  job: Pick<Job, "id">,
  rules: EligibilityRules,
  body: string,
): Promise<number> {
  return queueSmsForStudents(trx, ctx, {
    kind: "job_posted",
    reference: jobReference(job.id),
    dedupePrefix: `job:${job.id}:student:`,
    body,
    students: eligibleStudentIds(trx, rules),
  });
}

/** The job was closed or deleted: its alerts not sent yet never will be. */
export function cancelJobAlerts(
  trx: Kysely<DB>,
  ctx: Ctx,
  jobId: number,
  why: "closed" | "deleted",
): Promise<number> {
  return cancelQueuedSms(
    trx,
    ctx,
    jobReference(jobId),
    `Cancelled: the job was ${why} before this alert was sent`,
  );
}

/** The job was edited: its alerts not sent yet say what it says now. */
export function rewriteJobAlerts(
  trx: Kysely<DB>,
  ctx: Ctx,
  jobId: number,
  body: string,
): Promise<number> {
  return rewriteQueuedSms(trx, ctx, jobReference(jobId), body);
}
