import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Job } from "../db/schema.ts";
import { type EligibilityRules, eligibleStudentFilter } from "../placement/eligibility.ts";
import {
  type CancelOutcome,
  cancelQueuedSms,
  queueSmsForStudents,
  rewriteQueuedSms,
} from "../sms/outbox-api.ts";
import { renderCurrent, renderVersion } from "../sms/template-store.ts";
import { defineTemplate, type RenderedSms } from "../sms/templates.ts";

/**
 * The job's SMS: "new opportunity" to every eligible student when it is posted. Its queued alerts
 * carry the reference `job:<id>`: closing or deleting the job cancels the ones not sent yet,
 * editing it rewrites their text. The text fits two segments in the encoding it is sent in: the
 * company and the title are cut with "..." as far as needed.
 */

export const jobPostedSms = defineTemplate({
  id: "job_posted",
  title: "Job alert",
  // All four may be cut: the company and the title give way first (the longest are cut first).
  variables: {
    company: { about: "the company", sample: "Tata Consultancy Services", cut: true },
    title: { about: "the job title", sample: "Systems Engineer", cut: true },
    type: { about: "the job type", sample: "placement", cut: true },
    apply_by: { about: "the application deadline", sample: "1 Dec 2026", cut: true },
  },
  defaultText:
    "New opportunity: {company} - {title} ({type}). You are eligible. Apply by {apply_by} on the Placement Portal.",
  maxSegments: 2,
});

export type JobForAlert = Pick<Job, "company" | "title" | "type" | "apply_by">;

export function jobAlertVars(job: JobForAlert, formatDate: (iso: string) => string) {
  return {
    company: job.company,
    title: job.title,
    type: job.type,
    apply_by: formatDate(job.apply_by),
  };
}

/** The alert with the current version of the template, and that version. */
export function jobAlert(
  db: Kysely<DB>,
  job: JobForAlert,
  formatDate: (iso: string) => string,
): Promise<RenderedSms> {
  return renderCurrent(db, jobPostedSms, jobAlertVars(job, formatDate));
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
  alert: RenderedSms,
): Promise<number> {
  return queueSmsForStudents(trx, ctx, {
    kind: "job_posted",
    // An alert can wait for the morning (SMS_QUIET_HOURS); the apply-by date is days away.
    quiet: true,
    reference: jobReference(job.id),
    dedupePrefix: `job:${job.id}:student:`,
    body: alert.body,
    template: alert.template,
    students: eligibleStudentIds(trx, rules),
  });
}

/**
 * The job was closed or deleted: its alerts not sent yet never will be (those whose last attempt
 * may have reached Twilio are checked first: `beingChecked`).
 */
export function cancelJobAlerts(
  trx: Kysely<DB>,
  ctx: Ctx,
  jobId: number,
  why: "closed" | "deleted",
): Promise<CancelOutcome> {
  return cancelQueuedSms(
    trx,
    ctx,
    jobReference(jobId),
    `Cancelled: the job was ${why} before this alert was sent`,
  );
}

/**
 * The job was edited: its alerts not sent yet say what it says now, each in the wording of the
 * template version it was queued with (an edit of the template since then does not reach them).
 */
export async function rewriteJobAlerts(
  trx: Kysely<DB>,
  ctx: Ctx,
  jobId: number,
  job: JobForAlert,
  formatDate: (iso: string) => string,
): Promise<number> {
  const reference = jobReference(jobId);
  const versions = await trx
    .selectFrom("sms_messages")
    .select("template_version")
    .distinct()
    .where("reference", "=", reference)
    .where("status", "=", "queued")
    .execute();
  let rewritten = 0;
  for (const { template_version: version } of versions) {
    const body = await renderVersion(trx, jobPostedSms, version, jobAlertVars(job, formatDate));
    rewritten += await rewriteQueuedSms(trx, ctx, reference, body, version);
  }
  return rewritten;
}
