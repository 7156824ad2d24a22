import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Job } from "../db/schema.ts";
import {
  type EligibilityRules,
  type JobEligibility,
  jobAudienceFilter,
} from "../placement/eligibility.ts";
import { loadPolicies, type Policies } from "../placement/policy.ts";
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

/**
 * The audience: the ids of the approved students the job takes (its rules, and the placement
 * policy of each student's year: `policies`, read in the same transaction).
 */
export function eligibleStudentIds(trx: Kysely<DB>, job: JobEligibility, policies: Policies) {
  return trx.selectFrom("students").select("students.id").where(jobAudienceFilter(job, policies));
}

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

/** "New opportunity" for every eligible student: the posting's fan-out. */
export async function queueJobAlerts(
  trx: Kysely<DB>,
  ctx: Ctx,
  job: Pick<Job, "id" | "package_lpa">,
  rules: EligibilityRules,
  alert: RenderedSms,
): Promise<number> {
  const policies = await loadPolicies(trx);
  return queueSmsForStudents(trx, ctx, {
    kind: "job_posted",
    // An alert can wait for the morning (SMS_QUIET_HOURS); the apply-by date is days away.
    quiet: true,
    reference: jobReference(job.id),
    dedupePrefix: `job:${job.id}:student:`,
    body: alert.body,
    template: alert.template,
    students: eligibleStudentIds(trx, { rules, package_lpa: job.package_lpa }, policies),
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

/**
 * The deadline nudge: once, `nudge_hours` before the apply-by time, to the eligible approved
 * students who have not applied. Written when the job is posted (or the nudge switched on), due
 * then, held by quiet hours and never sent after the deadline; cancelled for a student in the
 * transaction that records their application, for everyone when the job closes, and replaced
 * when the deadline or the nudge changes. Reference `job:<id>:nudge`.
 */
export const deadlineNudgeSms = defineTemplate({
  id: "deadline_nudge",
  title: "Deadline reminder",
  variables: {
    company: { about: "the company", sample: "Tata Consultancy Services", cut: true },
    title: { about: "the job title", sample: "Systems Engineer", cut: true },
    apply_by: { about: "the application deadline", sample: "1 Dec 2026, 5:00 pm", cut: true },
  },
  defaultText:
    "Closing soon: {company} - {title}. You are eligible and have not applied yet. Apply by {apply_by} IST on the Placement Portal.",
  maxSegments: 2,
});

export function nudgeReference(jobId: number): string {
  return `job:${jobId}:nudge`;
}

export type JobForNudge = Pick<
  Job,
  "id" | "company" | "title" | "apply_by" | "nudge_hours" | "package_lpa"
>;

/** When the nudge is due, or null when there is none or its time has passed. */
export function nudgeDueAt(job: Pick<Job, "apply_by" | "nudge_hours">, now: Date): Date | null {
  if (job.nudge_hours === null) return null;
  const due = new Date(Date.parse(job.apply_by) - job.nudge_hours * 3_600_000);
  return due > now ? due : null;
}

/** The students the nudge is for: eligible, approved, and without an application to the job. */
export function nudgeAudience(
  trx: Kysely<DB>,
  jobId: number,
  job: JobEligibility,
  policies: Policies,
) {
  return eligibleStudentIds(trx, job, policies).where(({ not, exists, selectFrom }) =>
    not(
      exists(
        selectFrom("applications")
          .select("applications.id")
          .where("applications.job_id", "=", jobId)
          .whereRef("applications.student_id", "=", "students.id"),
      ),
    ),
  );
}

export async function queueDeadlineNudge(
  trx: Kysely<DB>,
  ctx: Ctx,
  job: JobForNudge,
  rules: EligibilityRules,
  formatDateTime: (iso: string) => string,
): Promise<number> {
  const dueAt = nudgeDueAt(job, ctx.clock.now());
  if (!dueAt) return 0;
  const text = await renderCurrent(trx, deadlineNudgeSms, {
    company: job.company,
    title: job.title,
    apply_by: formatDateTime(job.apply_by),
  });
  return queueSmsForStudents(trx, ctx, {
    kind: "deadline_nudge",
    quiet: true,
    dueAt,
    notAfter: new Date(job.apply_by),
    reference: nudgeReference(job.id),
    // A new key for each writing: a nudge replaced and written again is a new message.
    dedupePrefix: `job:${job.id}:nudge:${ctx.clock.now().getTime()}:student:`,
    body: text.body,
    template: text.template,
    students: nudgeAudience(
      trx,
      job.id,
      { rules, package_lpa: job.package_lpa },
      await loadPolicies(trx),
    ),
  });
}

export function cancelDeadlineNudge(
  trx: Kysely<DB>,
  ctx: Ctx,
  jobId: number,
  reason: string,
  studentIds?: readonly number[],
): Promise<CancelOutcome> {
  return cancelQueuedSms(trx, ctx, nudgeReference(jobId), reason, studentIds);
}
