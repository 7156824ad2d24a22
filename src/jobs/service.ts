import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { containsPattern, likeOperator, typedValue } from "../db/dialect.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import {
  type ApplicationStatus,
  type DB,
  JOB_TYPES,
  type Job,
  type JobType,
  type Student,
} from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import {
  closedReasons,
  type EligibilityRules,
  jobAudienceFilter,
  jobIneligibilityReasons,
  jobsTakingStudent,
  meetsJob,
  type StudentFacts,
} from "../placement/eligibility.ts";
import { eligibilityListFields } from "../placement/eligibility-fields.tsx";
import { closedToApplications, openForApplications } from "../placement/open.ts";
import {
  loadPolicies,
  type PlacementFacts,
  type PlacementPolicy,
  policyForStudent,
} from "../placement/policy.ts";
import { estimatedCost } from "../sms/cost.ts";
import { countSegments } from "../sms/encoding.ts";
import {
  cancelQueuedSms,
  sentOrSending,
  signalQueued,
  smsStatusByReference,
} from "../sms/outbox-api.ts";
import { quietUntil } from "../sms/quiet-hours.ts";
import { renderCurrent } from "../sms/template-store.ts";
import { jobName } from "../web/format.ts";
import {
  blankAsNull,
  checkboxField,
  dateTimeLocalField,
  decimalField,
  multilineTextField,
  requiredSubmissionIdField,
  submissionIdField,
  textField,
  wholeNumberField,
} from "../web/forms.ts";
import { formatDate, formatDateTime } from "../web/time.ts";
import {
  cancelDeadlineNudge,
  cancelJobAlerts,
  deadlineNudgeSms,
  jobAlert,
  jobReference,
  nudgeAudience,
  nudgeDueAt,
  nudgeReference,
  queueDeadlineNudge,
  queueJobAlerts,
  rewriteJobAlerts,
} from "./notices.ts";
import { openJobsSnapshot, type SnapshotJob } from "./open-jobs.ts";
import { packageLakhs } from "./package.ts";

export const JOB_TYPE_LABELS: Record<(typeof JOB_TYPES)[number], string> = {
  placement: "Placement",
  internship: "Internship",
  drive: "Placement Drive",
};

/** The job form. `isNew`: a new job may not have its deadline in the past. */
export function jobSchema(now: Date, isNew: boolean) {
  return z.object({
    company: textField({ label: "the company", max: 100 }),
    title: textField({ label: "the job title", max: 120 }),
    type: z.enum(JOB_TYPES, { message: "Choose the type." }),
    description: multilineTextField({ label: "the description", max: 5000, optional: true }),
    location: textField({ label: "the location", max: 120, optional: true }),
    package_range: textField({ label: "the package", max: 60, optional: true }),
    official_link: textField({ label: "the official link", max: 500, optional: true })
      .transform((v) => (v ? v : null))
      .refine((v) => v === null || (URL.canParse(v) && /^https?:/.test(v)), {
        message: "Enter a full http(s):// link.",
      }),
    ...eligibilityListFields(now),
    min_cgpa: blankAsNull(decimalField({ label: "the minimum CGPA", min: 0, max: 10, places: 2 })),
    max_backlogs: blankAsNull(
      wholeNumberField({ label: "the maximum number of backlogs", min: 0, max: 60 }),
    ),
    apply_by: dateTimeLocalField({ label: "the deadline" }).refine(
      (iso) => !isNew || Date.parse(iso) > now.getTime(),
      { message: "The deadline must be in the future." },
    ),
    // Hours before the deadline at which those eligible who have not applied are reminded.
    nudge_hours: blankAsNull(
      wholeNumberField({ label: "the hours before the deadline", min: 1, max: 336 }),
    ),
    send_sms: checkboxField,
    // Required on the new-job form (decision 007); an edit changes a row and fans out nothing.
    submission_id: isNew ? requiredSubmissionIdField : submissionIdField,
  });
}

export type JobInput = z.output<ReturnType<typeof jobSchema>>;

export function rulesOf(
  input: Pick<
    JobInput,
    "departments" | "graduation_years" | "semesters" | "min_cgpa" | "max_backlogs"
  >,
): EligibilityRules {
  return {
    departments: input.departments,
    graduationYears: input.graduation_years,
    semesters: input.semesters,
    minCgpa: input.min_cgpa,
    maxBacklogs: input.max_backlogs,
  };
}

/** How many students a posting would alert, and what that costs in segments. */
export async function previewAlert(ctx: AppContext, input: JobInput) {
  const rules = rulesOf(input);
  const audience = { rules, package_lpa: packageLakhs(input.package_range) };
  const row = await ctx.db
    .selectFrom("students")
    .where(jobAudienceFilter(audience, await loadPolicies(ctx.db)))
    .select((eb) => [
      eb.fn.countAll<number>().as("eligible"),
      eb.fn
        .count<number>("students.id")
        .filterWhere("students.sms_opted_out_at", "is", null)
        .as("reachable"),
    ])
    .executeTakeFirstOrThrow();
  const { body } = await jobAlert(ctx.db, input, formatDate);
  const { segments, encoding } = countSegments(body);
  const reachable = Number(row.reachable);
  return {
    eligible: Number(row.eligible),
    reachable,
    segmentsEach: segments,
    encoding,
    totalSegments: reachable * segments,
    cost: estimatedCost(ctx.config, reachable * segments),
    body,
    nudge: await previewNudge(ctx, null, input),
  };
}

/**
 * The deadline nudge as it would go now: when, to how many (the eligible who have not applied,
 * who have not opted out), its text and cost. Null when there is none or its time has passed.
 */
export async function previewNudge(
  ctx: AppContext,
  jobId: number | null,
  job: Pick<JobInput, "company" | "title" | "apply_by" | "nudge_hours"> & {
    rules?: EligibilityRules;
    package_lpa?: number | null;
  } & Partial<JobInput>,
) {
  const dueAt = nudgeDueAt(job, ctx.clock.now());
  if (!dueAt) return null;
  const rules = job.rules ?? rulesOf(job as JobInput);
  const row = await ctx.db
    .selectFrom("students")
    .where(
      "students.id",
      "in",
      nudgeAudience(
        ctx.db,
        jobId ?? -1,
        { rules, package_lpa: job.package_lpa ?? packageLakhs(job.package_range) },
        await loadPolicies(ctx.db),
      ),
    )
    .where("students.sms_opted_out_at", "is", null)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const text = await renderCurrent(ctx.db, deadlineNudgeSms, {
    company: job.company,
    title: job.title,
    apply_by: formatDateTime(job.apply_by),
  });
  const { segments } = countSegments(text.body);
  const reachable = Number(row.n);
  return {
    dueAt: dueAt.toISOString(),
    heldUntil: quietUntil(dueAt, ctx.config.SMS_QUIET_HOURS)?.toISOString() ?? null,
    reachable,
    totalSegments: reachable * segments,
    cost: estimatedCost(ctx.config, reachable * segments),
    body: text.body,
  };
}

async function writeRules(trx: Kysely<DB>, jobId: number, rules: EligibilityRules) {
  await trx.deleteFrom("job_departments").where("job_id", "=", jobId).execute();
  await trx.deleteFrom("job_graduation_years").where("job_id", "=", jobId).execute();
  await trx.deleteFrom("job_semesters").where("job_id", "=", jobId).execute();
  if (rules.departments.length > 0) {
    await trx
      .insertInto("job_departments")
      .values(rules.departments.map((department) => ({ job_id: jobId, department })))
      .execute();
  }
  if (rules.graduationYears.length > 0) {
    await trx
      .insertInto("job_graduation_years")
      .values(rules.graduationYears.map((graduation_year) => ({ job_id: jobId, graduation_year })))
      .execute();
  }
  if (rules.semesters.length > 0) {
    await trx
      .insertInto("job_semesters")
      .values(rules.semesters.map((semester) => ({ job_id: jobId, semester })))
      .execute();
  }
}

function jobColumns(input: JobInput) {
  return {
    company: input.company,
    title: input.title,
    type: input.type,
    description: input.description,
    location: input.location,
    package_range: input.package_range,
    // The number the placement policy's tiers read (placement/policy.ts).
    package_lpa: packageLakhs(input.package_range),
    official_link: input.official_link,
    min_cgpa: input.min_cgpa,
    max_backlogs: input.max_backlogs,
    apply_by: input.apply_by,
    nudge_hours: input.nudge_hours,
  };
}

/**
 * Posts a job and, unless the admin chose otherwise, queues one "new opportunity" SMS per
 * eligible student, all in one transaction.
 */
export async function createJob(
  ctx: AppContext,
  actor: Actor,
  input: JobInput,
): Promise<{ id: number; alerts: number; duplicate: boolean; nudges: number }> {
  const now = ctx.clock.now().toISOString();
  const result = await inTransaction(ctx.db, async (trx) => {
    const job = await trx
      .insertInto("jobs")
      .values({
        ...jobColumns(input),
        status: "open",
        submission_id: input.submission_id,
        posted_by: actor.id,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column("submission_id").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!job) {
      // This form was posted already (a double click): that posting stands, nothing is re-sent.
      const existing = await trx
        .selectFrom("jobs")
        .select(["id", "alert_sms_count"])
        .where("submission_id", "=", input.submission_id)
        .executeTakeFirstOrThrow();
      return {
        id: existing.id,
        alerts: existing.alert_sms_count,
        duplicate: true,
        nudges: 0,
      };
    }
    const rules = rulesOf(input);
    await writeRules(trx, job.id, rules);
    const alerts = input.send_sms
      ? await queueJobAlerts(trx, ctx, job, rules, await jobAlert(trx, job, formatDate))
      : 0;
    await trx
      .updateTable("jobs")
      .set({ alert_sms_count: alerts })
      .where("id", "=", job.id)
      .execute();
    const nudges = await queueDeadlineNudge(trx, ctx, job, rules, formatDateTime);
    await recordAudit(trx, ctx, actor, {
      action: "job.post",
      subject: jobName(job),
      details: { jobId: job.id, alerts, sms: input.send_sms, nudges },
    });
    return { id: job.id, alerts, duplicate: false, nudges };
  });
  if (result.alerts > 0 || (result.nudges ?? 0) > 0) signalQueued(ctx);
  return result;
}

/**
 * Edits a job. Never re-sends the alert; its alerts still queued take the new text (company,
 * title, type and deadline), the ones sent already stay as they were.
 */
export async function updateJob(
  ctx: AppContext,
  actor: Actor,
  jobId: number,
  input: JobInput,
): Promise<{ alertsRewritten: number; nudges: number } | null> {
  const result = await inTransaction(ctx.db, async (trx) => {
    const updated = await trx
      .updateTable("jobs")
      .set({ ...jobColumns(input), updated_at: ctx.clock.now().toISOString() })
      .where("id", "=", jobId)
      .returningAll()
      .executeTakeFirst();
    if (!updated) return null;
    const rules = rulesOf(input);
    await writeRules(trx, jobId, rules);
    const alertsRewritten = await rewriteJobAlerts(trx, ctx, jobId, input, formatDate);
    // The nudge follows the job: a moved deadline, a new text, other rules, on or off. The queued
    // ones are replaced (an edit is rare; a nudge is one message per student).
    const replaced = await cancelDeadlineNudge(
      trx,
      ctx,
      jobId,
      "Replaced: the job or its deadline changed",
    );
    const nudges =
      updated.status === "open"
        ? await queueDeadlineNudge(trx, ctx, updated, rules, formatDateTime)
        : 0;
    await recordAudit(trx, ctx, actor, {
      action: "job.edit",
      subject: jobName(input),
      details: { jobId, alertsRewritten, nudges, nudgesReplaced: replaced.cancelled },
    });
    return { alertsRewritten, nudges };
  });
  if (result && result.nudges > 0) signalQueued(ctx);
  return result;
}

export async function setJobStatus(
  ctx: AppContext,
  actor: Actor,
  jobId: number,
  status: "open" | "closed",
): Promise<{ job: Job; alertsCancelled: number; alertsBeingChecked: number } | null> {
  return inTransaction(ctx.db, async (trx) => {
    const job = await trx
      .updateTable("jobs")
      .set({ status, updated_at: ctx.clock.now().toISOString() })
      .where("id", "=", jobId)
      .where("status", "!=", status)
      .returningAll()
      .executeTakeFirst();
    if (!job) return null;
    // Closing cancels the alerts not sent yet; reopening leaves them cancelled (never re-sent).
    const { cancelled: alertsCancelled, beingChecked: alertsBeingChecked } =
      status === "closed"
        ? await cancelJobAlerts(trx, ctx, jobId, "closed")
        : { cancelled: 0, beingChecked: 0 };
    // Closing cancels the nudge; reopening writes it again if its time is still ahead.
    if (status === "closed")
      await cancelDeadlineNudge(trx, ctx, jobId, "Cancelled: the job was closed");
    else if (nudgeDueAt(job, ctx.clock.now()))
      await queueDeadlineNudge(
        trx,
        ctx,
        job,
        ((await withRules({ db: trx }, [job]))[0] as JobWithRules).rules,
        formatDateTime,
      );
    await recordAudit(trx, ctx, actor, {
      action: status === "closed" ? "job.close" : "job.reopen",
      subject: jobName(job),
      details: status === "closed" ? { jobId, alertsCancelled, alertsBeingChecked } : { jobId },
    });
    return { job, alertsCancelled, alertsBeingChecked };
  });
}

export type DeleteJobResult =
  | { deleted: true; alertsCancelled: number; alertsBeingChecked: number }
  | { deleted: false; applications: number }
  | null;

/** What deleting a job would do, for its confirmation page. */
export async function deleteJobPreview(ctx: AppContext, jobId: number) {
  const [count, sms] = await Promise.all([
    ctx.db
      .selectFrom("applications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("job_id", "=", jobId)
      .executeTakeFirstOrThrow(),
    smsStatusByReference(ctx.db, jobReference(jobId)),
  ]);
  return {
    applications: Number(count.n),
    alertsQueued: sms.queued ?? 0,
    alertsOther: sentOrSending(sms),
  };
}

/** Deletes a job that nobody applied to; with applications, closing is the way (history stays). */
export async function deleteJob(
  ctx: AppContext,
  actor: Actor,
  jobId: number,
): Promise<DeleteJobResult> {
  return inTransaction(ctx.db, async (trx) => {
    const job = await trx.selectFrom("jobs").selectAll().where("id", "=", jobId).executeTakeFirst();
    if (!job) return null;
    const count = await trx
      .selectFrom("applications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("job_id", "=", jobId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) > 0) return { deleted: false, applications: Number(count.n) };
    // Guarded again in the statement: an application arriving since the count keeps the job.
    const deleted = await trx
      .deleteFrom("jobs")
      .where("id", "=", jobId)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("applications")
              .select("applications.id")
              .where("applications.job_id", "=", jobId),
          ),
        ),
      )
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return { deleted: false, applications: 1 };
    const { cancelled: alertsCancelled, beingChecked: alertsBeingChecked } = await cancelJobAlerts(
      trx,
      ctx,
      jobId,
      "deleted",
    );
    await cancelDeadlineNudge(trx, ctx, jobId, "Cancelled: the job was deleted");
    await recordAudit(trx, ctx, actor, {
      action: "job.delete",
      subject: jobName(job),
      details: { jobId, alertsCancelled, alertsBeingChecked },
    });
    return { deleted: true, alertsCancelled, alertsBeingChecked };
  });
}

export interface JobWithRules extends Job {
  rules: EligibilityRules;
}

type RuleList = "d" | "y" | "s";

/** Ids per `in (...)` list: well inside SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const RULES_CHUNK = 5000;

/**
 * Jobs with their eligibility lists, in one query per 5,000 jobs: the three lists as one UNION ALL
 * (every job page reads one job's lists, and on PostgreSQL each statement is a round trip).
 */
export async function withRules(ctx: Pick<AppContext, "db">, jobs: Job[]): Promise<JobWithRules[]> {
  if (jobs.length === 0) return [];
  const departments = new Map<number, string[]>();
  const years = new Map<number, number[]>();
  const semesters = new Map<number, number[]>();
  const add = <T>(map: Map<number, T[]>, jobId: number, value: T) => {
    const list = map.get(jobId);
    if (list) list.push(value);
    else map.set(jobId, [value]);
  };
  for (let start = 0; start < jobs.length; start += RULES_CHUNK) {
    const ids = jobs.slice(start, start + RULES_CHUNK).map((j) => j.id);
    // The two number lists, each tagged with the list it came from.
    const numbers =
      (list: "y" | "s", table: "job_graduation_years" | "job_semesters") =>
      (eb: ExpressionBuilder<DB, never>) =>
        eb
          .selectFrom(table)
          .select([
            "job_id",
            sql<RuleList>`${sql.lit(list)}`.as("list"),
            sql<string | null>`null`.as("text"),
            sql<number | null>`${sql.ref(list === "y" ? "graduation_year" : "semester")}`.as(
              "number",
            ),
          ])
          .where("job_id", "in", ids);
    const rows = await ctx.db
      .selectFrom("job_departments")
      .select((eb) => [
        "job_id",
        sql<RuleList>`'d'`.as("list"),
        eb.ref("department").$castTo<string | null>().as("text"),
        sql<number | null>`null`.as("number"),
      ])
      .where("job_id", "in", ids)
      .unionAll(numbers("y", "job_graduation_years"))
      .unionAll(numbers("s", "job_semesters"))
      // Each list in its value's order, as the lists are shown.
      .orderBy("text")
      .orderBy("number")
      .execute();
    for (const row of rows) {
      if (row.list === "d") add(departments, row.job_id, String(row.text));
      else add(row.list === "y" ? years : semesters, row.job_id, Number(row.number));
    }
  }
  return jobs.map((job) => ({
    ...job,
    rules: {
      departments: departments.get(job.id) ?? [],
      graduationYears: years.get(job.id) ?? [],
      semesters: semesters.get(job.id) ?? [],
      minCgpa: job.min_cgpa,
      maxBacklogs: job.max_backlogs,
    },
  }));
}

export async function findJob(ctx: AppContext, jobId: number): Promise<JobWithRules | null> {
  const job = await ctx.db
    .selectFrom("jobs")
    .selectAll()
    .where("id", "=", jobId)
    .executeTakeFirst();
  return job ? ((await withRules(ctx, [job]))[0] ?? null) : null;
}

export const JOBS_PAGE_SIZE = 25;

export interface JobFilters {
  /** Open or closed to applications (see placement/open.ts: a passed deadline closes a job). */
  status?: "open" | "closed" | undefined;
  q?: string | undefined;
  /** One company exactly, as the dashboard's company filter passes it on. */
  company?: string | undefined;
  page: number;
}

/** The jobs list's page and count queries (exported for the plan test). */
export function jobListQueries(ctx: AppContext, filters: JobFilters) {
  const now = ctx.clock.now();
  const filtered = (openByIndex: boolean) => {
    let query = ctx.db.selectFrom("jobs");
    if (filters.status === "open")
      query = query.where(openForApplications(now, openByIndex ? undefined : ctx.dialect));
    if (filters.status === "closed") query = query.where(closedToApplications(now));
    if (filters.company) query = query.where("jobs.company", "=", filters.company);
    if (filters.q) {
      const pattern = containsPattern(filters.q.trim());
      const like = likeOperator(ctx.dialect);
      query = query.where((eb) =>
        eb.or([eb("jobs.company", like, pattern), eb("jobs.title", like, pattern)]),
      );
    }
    return query;
  };
  // Newest first from jobs_created_idx: the applicants are counted for the page's jobs only. Open
  // jobs are the newest ones and many, so walking that index and testing each row stops after a
  // page, where reading them through the status index would sort every open job for each page
  // (list-plan.test.ts). The count keeps the status index.
  const page = filtered(false)
    .selectAll("jobs")
    .select((eb) => [
      eb
        .selectFrom("applications")
        .select(eb.fn.countAll<number>().as("n"))
        .whereRef("applications.job_id", "=", "jobs.id")
        .as("applicants"),
    ])
    .orderBy("jobs.created_at", "desc")
    .orderBy("jobs.id", "desc")
    .limit(JOBS_PAGE_SIZE)
    .offset((filters.page - 1) * JOBS_PAGE_SIZE);
  return { page, count: filtered(true).select((eb) => eb.fn.countAll<number>().as("n")) };
}

export async function listJobs(ctx: AppContext, filters: JobFilters) {
  const { page, count } = jobListQueries(ctx, filters);
  const [rows, total] = await Promise.all([page.execute(), count.executeTakeFirstOrThrow()]);
  return {
    rows: rows.map((r) => ({ ...r, applicants: Number(r.applicants ?? 0) })),
    total: Number(total.n),
  };
}

export const STUDENT_JOBS_PAGE_SIZE = 50;

/** The longest search a student's job list takes (`?q=`). */
export const STUDENT_JOB_SEARCH_MAX = 100;

/** The orders of a student's job list; the first is the default. */
export const STUDENT_JOB_SORTS = ["deadline", "package", "newest"] as const;
export type StudentJobSort = (typeof STUDENT_JOB_SORTS)[number];
export const STUDENT_JOB_SORT_LABELS: Record<StudentJobSort, string> = {
  deadline: "Deadline, soonest first",
  package: "Package, highest first",
  newest: "Newest first",
};

export interface StudentJobFilters {
  /** Words, each found in the company, title, description, location or the type's name. */
  q?: string | undefined;
  /** Only the jobs the student could apply to now: open, before the deadline, eligible, not applied. */
  eligibleOnly?: boolean | undefined;
  type?: JobType | undefined;
  /** One of the locations the list offers, in any case. */
  location?: string | undefined;
  /** At least this many lakhs a year at the top of the job's package (package.ts). */
  minPackage?: number | undefined;
  /** Deadline (the default), package or newest; jobs taking applications always come first. */
  sort?: StudentJobSort | undefined;
  page: number;
}

/** The words of a search, at most 8 of them (a longer search reads as its first 8). */
export function searchWords(q: string | undefined): string[] {
  return (q ?? "").trim().split(/\s+/).filter(Boolean).slice(0, 8);
}

/**
 * Each word of the search in the company, title, description or location (LIKE, wildcards
 * escaped: the database's case rules, as every search of the portal), or naming the job's type
 * ("intern" finds internships, "drive" placement drives).
 */
function jobSearchCondition(dialect: AppContext["dialect"], words: string[]) {
  const like = likeOperator(dialect);
  return (eb: ExpressionBuilder<DB, "jobs">) =>
    eb.and(
      words.map((word) => {
        const pattern = containsPattern(word);
        const lower = word.toLowerCase();
        const types = JOB_TYPES.filter((type) =>
          `${type} ${JOB_TYPE_LABELS[type]}`.toLowerCase().includes(lower),
        );
        return eb.or([
          eb("jobs.company", like, pattern),
          eb("jobs.title", like, pattern),
          eb("jobs.description", like, pattern),
          eb("jobs.location", like, pattern),
          ...(types.length > 0 ? [eb("jobs.type", "in", types)] : []),
        ]);
      }),
    );
}

/** The ids of the open jobs a search finds (read from the status index; list-plan.test.ts). */
export function jobSearchQuery(ctx: Pick<AppContext, "db" | "dialect">, q: string) {
  return ctx.db
    .selectFrom("jobs")
    .select("jobs.id")
    .where("jobs.status", "=", "open")
    .where(jobSearchCondition(ctx.dialect, searchWords(q)));
}

type StudentJobsStudent = Student & Record<string, unknown>;

interface StudentJobRowOut {
  job: JobWithRules;
  closed: string[];
  reasons: string[];
  applied: ApplicationStatus | null;
}

/** One job as a student's lists show it, whichever reading found it. */
function studentJobRow(
  job: JobWithRules,
  student: StudentJobsStudent,
  policy: PlacementPolicy | undefined,
  applied: ReadonlyMap<number, ApplicationStatus>,
  now: Date,
): StudentJobRowOut {
  return {
    job,
    closed: closedReasons(job, now),
    reasons: jobIneligibilityReasons(job, policy, student),
    applied: applied.get(job.id) ?? null,
  };
}

function splitRows(rows: StudentJobRowOut[], total: number) {
  return {
    /** Taking applications, and this student meets the rules. */
    eligible: rows.filter((r) => r.closed.length === 0 && r.reasons.length === 0),
    /** Taking applications, but not from this student (the reasons say why). */
    others: rows.filter((r) => r.closed.length === 0 && r.reasons.length > 0),
    /** Past the deadline: closed to applications, whatever the admin's status says. */
    closed: rows.filter((r) => r.closed.length > 0),
    total,
  };
}

export interface StudentJobsOptions {
  /** The student's row, when the caller has read it already. */
  student?: StudentJobsStudent | undefined;
  /** The status of each job the student applied to, by job id, when the caller has read them. */
  applied?: ReadonlyMap<number, ApplicationStatus> | undefined;
  /** The dashboard shows the first few; the job list a page of STUDENT_JOBS_PAGE_SIZE. */
  pageSize?: number | undefined;
  /** The open jobs' version read with the session (`SessionUser.openJobsVersion`). */
  jobsVersion?: string | null | undefined;
}

/**
 * One page of the jobs a student sees (those taking applications first, then those whose deadline
 * passed, shown as closed; each part in the chosen order, soonest deadline first by default), each
 * with why they may not apply and their application's status; the total that matches the filters;
 * and the locations the list's filter offers. Read from the open-jobs snapshot every process keeps
 * (open-jobs.ts); a search asks the database which open jobs its words find (its LIKE is the
 * database's, as everywhere else). A test holds this reading equal to the one in SQL.
 */
export async function jobsForStudent(
  ctx: AppContext,
  studentId: number,
  filters: StudentJobFilters = { page: 1 },
  options: StudentJobsOptions = {},
) {
  return jobsForStudentFromSnapshot(ctx, studentId, filters, options);
}

async function ownStudent(ctx: AppContext, studentId: number, options: StudentJobsOptions) {
  return (
    options.student ??
    (await ctx.db
      .selectFrom("students")
      .selectAll()
      .where("id", "=", studentId)
      .executeTakeFirstOrThrow())
  );
}

/** Every job a student applied to, with its status (compiled once: see db/prepared.ts). */
const applicationStatuses = preparedRead((db, param: ParamOf<{ studentId: number }>) =>
  db
    .selectFrom("applications")
    .select(["job_id", "status"])
    .where("student_id", "=", param("studentId")),
);

/** The snapshot reading (exported for the test that holds it equal to the SQL one). */
export async function jobsForStudentFromSnapshot(
  ctx: AppContext,
  studentId: number,
  filters: StudentJobFilters,
  options: StudentJobsOptions = {},
) {
  const pageSize = options.pageSize ?? STUDENT_JOBS_PAGE_SIZE;
  const words = searchWords(filters.q);
  const [student, snapshot, applied, found] = await Promise.all([
    ownStudent(ctx, studentId, options),
    openJobsSnapshot(ctx, (jobs) => withRules(ctx, jobs), options.jobsVersion),
    options.applied ??
      applicationStatuses(ctx.db, { studentId }).then(
        (rows) => new Map(rows.map((a) => [a.job_id, a.status])),
      ),
    words.length > 0
      ? jobSearchQuery(ctx, words.join(" "))
          .execute()
          .then((rows) => new Set(rows.map((r) => r.id)))
      : undefined,
  ]);
  const policy = await policyForStudent(ctx.db, student);
  const now = ctx.clock.now();
  const listed = sortStudentJobs(
    snapshotJobsForStudent(
      snapshot.jobs,
      student,
      policy,
      applied,
      now.getTime(),
      filters.eligibleOnly,
    ).filter((job) => listingMatches(job, filters, found)),
    filters.sort ?? "deadline",
    now.getTime(),
  );
  const offset = (filters.page - 1) * pageSize;
  const rows = listed
    .slice(offset, offset + pageSize)
    .map(({ applyByMs: _a, packageLakhs: _p, ...job }) =>
      studentJobRow(job, student, policy, applied, now),
    );
  return { ...splitRows(rows, listed.length), locations: jobLocations(snapshot.jobs) };
}

/** Whether a job passes the list's type, location, package and search filters. */
function listingMatches(
  job: SnapshotJob,
  filters: StudentJobFilters,
  found: ReadonlySet<number> | undefined,
): boolean {
  if (found && !found.has(job.id)) return false;
  if (filters.type && job.type !== filters.type) return false;
  if (filters.location && job.location?.trim().toLowerCase() !== filters.location.toLowerCase())
    return false;
  if (filters.minPackage !== undefined)
    return job.packageLakhs !== null && job.packageLakhs >= filters.minPackage;
  return true;
}

/**
 * The list in the chosen order, those taking applications always before those past their
 * deadline: by deadline (soonest first), package (highest first, unknown last, then deadline) or
 * newest (posted last first); the id breaks ties, so pages never overlap.
 */
function sortStudentJobs(jobs: SnapshotJob[], sort: StudentJobSort, nowMs: number) {
  const closed = (job: SnapshotJob) => (job.applyByMs > nowMs ? 0 : 1);
  const byDeadline = (a: SnapshotJob, b: SnapshotJob) => a.applyByMs - b.applyByMs || a.id - b.id;
  const order: Record<StudentJobSort, (a: SnapshotJob, b: SnapshotJob) => number> = {
    deadline: byDeadline,
    package: (a, b) => (b.packageLakhs ?? -1) - (a.packageLakhs ?? -1) || byDeadline(a, b),
    newest: (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id,
  };
  return jobs.sort((a, b) => closed(a) - closed(b) || order[sort](a, b));
}

const locationsOfSnapshot = new WeakMap<readonly SnapshotJob[], string[]>();

/**
 * The locations of the jobs a student's list can show, each once (in any case), A to Z; worked out
 * once per snapshot.
 */
function jobLocations(jobs: readonly SnapshotJob[]): string[] {
  const known = locationsOfSnapshot.get(jobs);
  if (known) return known;
  const byKey = new Map<string, string>();
  for (const job of jobs) {
    const location = job.location?.trim();
    if (location && !byKey.has(location.toLowerCase())) byKey.set(location.toLowerCase(), location);
  }
  const locations = [...byKey.values()].sort((a, b) => a.localeCompare(b, "en-IN"));
  locationsOfSnapshot.set(jobs, locations);
  return locations;
}

/**
 * The snapshot's jobs a student's list shows, in its order: those still taking applications
 * (soonest deadline first), then, unless `eligibleOnly`, those whose deadline passed. With
 * `eligibleOnly`, only the jobs that take the student (`meetsJob`, the one rule) and that
 * they have not applied to. A walk of every job on each load: about 20 us of CPU at the seed's
 * 413 open jobs (209 before their deadline; 10,000 students), 0.23 ms at 4,263 (its 100,000);
 * bit sets per rule value saved 16 us of a /student load at the first size, too little for their
 * code (decision 017).
 */
export function snapshotJobsForStudent(
  jobs: readonly SnapshotJob[],
  student: StudentFacts & PlacementFacts,
  policy: PlacementPolicy | undefined,
  applied: ReadonlyMap<number, ApplicationStatus>,
  nowMs: number,
  eligibleOnly: boolean | undefined,
): SnapshotJob[] {
  const open = jobs.filter((job) => job.applyByMs > nowMs);
  if (!eligibleOnly) return [...open, ...jobs.filter((job) => job.applyByMs <= nowMs)];
  return open.filter((job) => {
    const status = applied.get(job.id);
    // Withdrawn ones can be sent again, so they count as "can apply to".
    if (status !== undefined && status !== "withdrawn") return false;
    return meetsJob(job, policy, student);
  });
}

/**
 * The SQL reading of the default order (by deadline) with the search and `eligibleOnly`, every
 * filter in the database: what open-jobs.test.ts holds the snapshot's reading equal to.
 */
export async function jobsForStudentInSql(
  ctx: AppContext,
  studentId: number,
  filters: StudentJobFilters,
  options: StudentJobsOptions = {},
) {
  const pageSize = options.pageSize ?? STUDENT_JOBS_PAGE_SIZE;
  const student = await ownStudent(ctx, studentId, options);
  const policy = await policyForStudent(ctx.db, student);
  const now = ctx.clock.now();
  const nowValue = typedValue(ctx.dialect, now.toISOString(), "timestamptz");
  let query = ctx.db.selectFrom("jobs").where("jobs.status", "=", "open");
  const words = searchWords(filters.q);
  if (words.length > 0) query = query.where(jobSearchCondition(ctx.dialect, words));
  if (filters.eligibleOnly) {
    query = query
      .where(openForApplications(now))
      .where(jobsTakingStudent(student, policy))
      // Withdrawn ones can be sent again, so they count as "can apply to".
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("applications")
              .select("applications.id")
              .whereRef("applications.job_id", "=", "jobs.id")
              .where("applications.student_id", "=", studentId)
              .where("applications.status", "!=", "withdrawn"),
          ),
        ),
      );
  }
  const [jobRows, total] = await Promise.all([
    query
      .selectAll("jobs")
      .orderBy(sql`case when jobs.apply_by > ${nowValue} then 0 else 1 end`)
      .orderBy("jobs.apply_by", "asc")
      .orderBy("jobs.id")
      .limit(pageSize)
      .offset((filters.page - 1) * pageSize)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
  ]);
  const jobs = await withRules(ctx, jobRows);
  const applied = new Map(
    jobs.length === 0
      ? []
      : (
          await ctx.db
            .selectFrom("applications")
            .select(["job_id", "status"])
            .where("student_id", "=", studentId)
            .where(
              "job_id",
              "in",
              jobs.map((j) => j.id),
            )
            .execute()
        ).map((a) => [a.job_id, a.status]),
  );
  const rows = jobs.map((job) => studentJobRow(job, student, policy, applied, now));
  return splitRows(rows, Number(total.n));
}

/**
 * A student's standing changed (an offer accepted, an acceptance declined, opted out of
 * placement): the job alerts and deadline nudges still queued for them whose job no longer takes
 * them under the whole rule are cancelled ("You are eligible" would be untrue). `student` is the
 * row as it is now, read in the caller's transaction.
 */
export async function cancelJobSmsNoLongerFor(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  student: StudentFacts & PlacementFacts & { id: number },
  reason: string,
): Promise<number> {
  const queued = await trx
    .selectFrom("sms_messages")
    .select("reference")
    .distinct()
    .where("student_id", "=", student.id)
    .where("status", "=", "queued")
    .where("kind", "in", ["job_posted", "deadline_nudge"])
    .execute();
  const jobIds = [
    ...new Set(
      queued.flatMap((q) => {
        const id = /^job:(\d+)(?::nudge)?$/.exec(q.reference ?? "")?.[1];
        return id ? [Number(id)] : [];
      }),
    ),
  ];
  if (jobIds.length === 0) return 0;
  const jobs = await withRules(
    { db: trx },
    await trx.selectFrom("jobs").selectAll().where("id", "in", jobIds).execute(),
  );
  const policy = await policyForStudent(trx, student);
  let cancelled = 0;
  for (const job of jobs) {
    if (meetsJob(job, policy, student)) continue;
    for (const reference of [jobReference(job.id), nudgeReference(job.id)])
      cancelled += (await cancelQueuedSms(trx, ctx, reference, reason, [student.id])).cancelled;
  }
  return cancelled;
}
