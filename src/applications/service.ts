import { stringify } from "csv-stringify/sync";
import type { Kysely } from "kysely";
import type { SessionUser } from "../accounts/service.ts";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import {
  containsPattern,
  isUniqueViolation,
  likeOperator,
  lockForUpdate,
  lockNoKeyUpdate,
  lockRowsOf,
} from "../db/dialect.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import type { ApplicationStatus, DB } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { cancelDeadlineNudge } from "../jobs/notices.ts";
import { findJob, type JobWithRules } from "../jobs/service.ts";
import { ctcOf, makeCampusOffersIn, type OfferTerms, withdrawOffersIn } from "../offers/service.ts";
import {
  closedReasons,
  jobAudienceFilter,
  jobIneligibilityReasons,
} from "../placement/eligibility.ts";
import {
  loadPolicies,
  placementReasons,
  policyFor,
  policyForStudent,
  policyMatters,
} from "../placement/policy.ts";
import {
  type Decision,
  isDecision,
  STATUS_LABELS,
  TRANSITIONS,
  transitionProblem,
} from "../placement/stages.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { resumeSize } from "../students/resume-store.ts";
import { formatCgpa, jobName, plural } from "../web/format.ts";
import { formatCsvDateTime } from "../web/time.ts";
import { notifyDecisionCorrected, notifyStatusChanges } from "./notices.ts";

/** How many names one audit entry of a bulk move keeps (the ids are all kept). */
const AUDITED_NAMES = 100;

export type ApplyResult =
  | { ok: true; applicationId: number; again: boolean }
  | { ok: false; reason: "not_found" | "already_applied" | "not_eligible"; message: string };

const ALREADY_APPLIED = {
  ok: false,
  reason: "already_applied",
  message: "You have already applied to this job.",
} as const;

/**
 * A student applies, or applies again after withdrawing (the same row goes back to Applied).
 * Eligibility and the deadline are checked here, on the server, whatever the page showed; one
 * application per student and job, by a unique constraint.
 */
/** What the apply transaction did: applied (again), refused by the policy, or found it applied. */
type Applied = { id: number; again: boolean } | { refused: string[] } | null;

export async function applyToJob(
  ctx: AppContext,
  studentId: number,
  jobId: number,
): Promise<ApplyResult> {
  const job = await findJob(ctx, jobId);
  if (!job) return { ok: false, reason: "not_found", message: "There is no such job." };
  const student = await ctx.db
    .selectFrom("students")
    .selectAll()
    .where("id", "=", studentId)
    .executeTakeFirstOrThrow();
  const reasons = [
    ...closedReasons(job, ctx.clock.now()),
    ...jobIneligibilityReasons(job, await policyForStudent(ctx.db, student), student),
  ];
  if (reasons.length > 0) {
    return {
      ok: false,
      reason: "not_eligible",
      message: `You cannot apply: ${reasons.join("; ")}.`,
    };
  }
  const now = ctx.clock.now().toISOString();
  try {
    const result = await inTransaction(ctx.db, async (trx): Promise<Applied> => {
      // The student's row, held until commit: an offer accepted at this moment (its transaction
      // takes the row first) is seen here, and the placement policy is checked again against it.
      const held = await lockNoKeyUpdate(
        trx.selectFrom("students").selectAll().where("id", "=", studentId),
        ctx.dialect,
      ).executeTakeFirstOrThrow();
      if (policyMatters(held) || held.placement_opted_out_at !== null) {
        const refused = placementReasons(
          await policyFor(trx, held.graduation_year),
          job.package_lpa,
          held,
        );
        if (refused.length > 0) return { refused };
      }
      const application = await trx
        .insertInto("applications")
        .values({
          job_id: jobId,
          student_id: studentId,
          status: "applied",
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(["job_id", "student_id"]).doNothing())
        .returning("id")
        .executeTakeFirst();
      if (!application) {
        // Applied before: only a withdrawn application may come back, through the state machine.
        const existing = await trx
          .selectFrom("applications")
          .select(["id", "status"])
          .where("job_id", "=", jobId)
          .where("student_id", "=", studentId)
          .executeTakeFirstOrThrow();
        if (existing.status !== "withdrawn") return null;
        const change = await transition(
          trx,
          ctx,
          { id: student.user_id, role: "student" },
          existing.id,
          "applied",
          false,
        );
        return change.problem ? null : { id: existing.id, again: true };
      }
      await trx
        .insertInto("application_events")
        .values({
          application_id: application.id,
          from_status: null,
          to_status: "applied",
          by_user_id: null,
          by_role: "student",
          at: now,
        })
        .execute();
      // They applied: the deadline nudge is not for them any more.
      await cancelDeadlineNudge(trx, ctx, jobId, "Cancelled: the student applied", [studentId]);
      return { id: application.id, again: false };
    });
    if (result === null) return ALREADY_APPLIED;
    if ("refused" in result)
      return {
        ok: false,
        reason: "not_eligible",
        message: `You cannot apply: ${result.refused.join("; ")}.`,
      };
    return { ok: true, applicationId: result.id, again: result.again };
  } catch (error) {
    if (isUniqueViolation(error)) return ALREADY_APPLIED;
    throw error;
  }
}

export interface Change {
  applicationId: number;
  problem?: string;
  /** Who and what moved, in words, for the audit log. */
  moved?: { student: string; rollNumber: string; job: string; from: ApplicationStatus };
  /** Why the student gets no SMS of the move, when they do not. */
  noSms?: string;
}

/** The job as people name it: "Infosys – Systems Engineer" (one spelling, from web/format.ts). */
export { jobName };

/** Applications with what a move or a correction needs of their jobs and their students. */
function withParties(db: Kysely<DB>) {
  return db
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .innerJoin("students", "students.id", "applications.student_id")
    .select([
      "applications.id",
      "applications.status",
      "applications.job_id",
      "applications.student_id",
      "jobs.company",
      "jobs.title",
      "students.full_name",
      "students.roll_number",
      "students.phone_e164",
      "students.sms_opted_out_at",
    ]);
}

function applicationWithParties(db: Kysely<DB>, applicationId: number) {
  return withParties(db).where("applications.id", "=", applicationId).executeTakeFirst();
}

/** Of one statement: far below either database's parameter limit (SQLite 32,766). */
const IDS_PER_STATEMENT = 5000;
/** Event rows of one multi-row INSERT (6 parameters each). */
const EVENTS_PER_STATEMENT = 1000;

/**
 * The applications with what a move needs of their jobs and students, in id order. On PostgreSQL
 * the applications' rows (only theirs: `FOR UPDATE OF`) are locked, in id order, until commit: two
 * moves sent together take them one after the other, and the status read here is the one moved
 * from. The jobs and students are read, not held: their rows are taken by the triggers, in their
 * own key order (migration 2026-12-07a).
 */
async function applicationsWithParties(trx: Kysely<DB>, ctx: AppContext, ids: number[]) {
  const rows = [];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT)
    rows.push(
      ...(await lockRowsOf(
        withParties(trx)
          .where("applications.id", "in", ids.slice(i, i + IDS_PER_STATEMENT))
          .orderBy("applications.id"),
        ctx.dialect,
        "applications",
      ).execute()),
    );
  return rows;
}

/**
 * Moves applications to `to` inside the caller's transaction, set-based: one read of them all
 * with their jobs and students, one UPDATE guarded by the status each was read at, one multi-row
 * INSERT of their events and one of their SMS (`notify`), whatever their number (a bulk move of
 * 300 took 1,500 statements one application at a time). One UPDATE also means the triggers run
 * once, taking every counter and summary row they need in key order (decision 023). A move the
 * stages refuse, or an application changed by someone else meanwhile, changes nothing and comes
 * back with its problem. Results in the order of `ids` (distinct).
 */
async function moveApplications(
  trx: Kysely<DB>,
  ctx: AppContext,
  who: { id: number; role: "admin" | "student" },
  ids: number[],
  to: ApplicationStatus,
  notify: boolean,
): Promise<Change[]> {
  const rows = new Map((await applicationsWithParties(trx, ctx, ids)).map((r) => [r.id, r]));
  const problems = new Map<number, string>();
  const byFrom = new Map<ApplicationStatus, number[]>();
  for (const id of ids) {
    const row = rows.get(id);
    if (!row) {
      problems.set(id, "no such application");
      continue;
    }
    const problem = transitionProblem(row.status, to, who.role);
    if (problem) problems.set(id, `${row.full_name} (${row.roll_number}): ${problem}`);
    else byFrom.set(row.status, [...(byFrom.get(row.status) ?? []), id]);
  }
  const now = ctx.clock.now().toISOString();
  const moved = new Set<number>();
  if (byFrom.size > 0) {
    // Each row guarded by the status it was read at: a concurrent change of the same application
    // (on SQLite; PostgreSQL holds them since the read) wins, this move of it stops.
    const updated = await trx
      .updateTable("applications")
      .set({ status: to, updated_at: now })
      .where((eb) =>
        eb.or(
          [...byFrom].map(([from, fromIds]) =>
            eb.and([eb("id", "in", fromIds), eb("status", "=", from)]),
          ),
        ),
      )
      .returning("id")
      .execute();
    for (const u of updated) moved.add(u.id);
  }
  const movedRows = ids.flatMap((id) => {
    const row = rows.get(id);
    return row && moved.has(id) ? [row] : [];
  });
  for (const row of rows.values())
    if (!moved.has(row.id) && !problems.has(row.id))
      problems.set(
        row.id,
        `${row.full_name} (${row.roll_number}): changed by someone else meanwhile`,
      );

  const eventIds = new Map<number, number>();
  for (let i = 0; i < movedRows.length; i += EVENTS_PER_STATEMENT) {
    const events = await trx
      .insertInto("application_events")
      .values(
        movedRows.slice(i, i + EVENTS_PER_STATEMENT).map((row) => ({
          application_id: row.id,
          from_status: row.status,
          to_status: to,
          by_user_id: who.id,
          by_role: who.role,
          at: now,
        })),
      )
      .returning(["id", "application_id"])
      .execute();
    for (const e of events) eventIds.set(e.application_id, e.id);
  }

  const noSms = new Map<number, string>();
  if (notify && movedRows.length > 0) {
    const queued = await notifyStatusChanges(
      trx,
      ctx,
      movedRows.map((row) => ({
        eventId: eventIds.get(row.id) as number,
        applicationId: row.id,
        student: {
          id: row.student_id,
          full_name: row.full_name,
          roll_number: row.roll_number,
          phone_e164: row.phone_e164,
          sms_opted_out_at: row.sms_opted_out_at,
        },
        job: row,
        to,
      })),
    );
    movedRows.forEach((row, i) => {
      if (queued[i]?.status === "skipped")
        noSms.set(
          row.id,
          row.sms_opted_out_at !== null ? "opted out of SMS" : "SMS are switched off",
        );
    });
  }

  return ids.map((applicationId): Change => {
    const problem = problems.get(applicationId);
    const row = rows.get(applicationId);
    if (problem !== undefined || !row)
      return { applicationId, problem: problem ?? "no such application" };
    const reason = noSms.get(applicationId);
    return {
      applicationId,
      ...(reason ? { noSms: reason } : {}),
      moved: {
        student: row.full_name,
        rollNumber: row.roll_number,
        job: jobName(row),
        from: row.status,
      },
    };
  });
}

/** Moves one application inside the caller's transaction: `moveApplications` of one. */
async function transition(
  trx: Kysely<DB>,
  ctx: AppContext,
  who: { id: number; role: "admin" | "student" },
  applicationId: number,
  to: ApplicationStatus,
  notify: boolean,
): Promise<Change> {
  const [change] = await moveApplications(trx, ctx, who, [applicationId], to, notify);
  return change as Change;
}

/**
 * `changeStatus` inside the caller's transaction (a round's results close the applications of
 * those who did not pass with the round's own writes): the moves, their SMS and the audit entry.
 * The caller signals the queued SMS after its commit.
 */
export async function changeStatusIn(
  trx: Kysely<DB>,
  ctx: AppContext,
  actor: Actor,
  applicationIds: number[],
  to: ApplicationStatus,
  options: { offer?: OfferTerms | undefined } = {},
): Promise<Change[]> {
  const ids = [...new Set(applicationIds)];
  // A selection with its offer: the offer's SMS says the student was selected, so no status SMS.
  const offer = to === "selected" ? options.offer : undefined;
  let results = await moveApplications(
    trx,
    ctx,
    { id: actor.id, role: "admin" },
    ids,
    to,
    offer === undefined,
  );
  if (offer) results = await withOffers(trx, ctx, actor, results, offer);
  const moved = results.filter((r) => !r.problem);
  if (moved.length > 0) {
    await recordAudit(trx, ctx, actor, {
      action: "application.status",
      subject: `${plural(moved.length, "application")} to ${STATUS_LABELS[to]}`,
      details: {
        to,
        ...(offer
          ? { offer: { role: offer.role, ctcLpa: ctcOf(offer), answerBy: offer.answer_by } }
          : {}),
        applicationIds: moved.map((r) => r.applicationId),
        // The words the audit page shows, kept as they were: students and jobs may go later.
        applications: moved
          .slice(0, AUDITED_NAMES)
          .map((r) => ({ id: r.applicationId, ...r.moved })),
      },
    });
  }
  return results;
}

/** Records the offers of the applications just selected; each Change learns why it got no SMS. */
async function withOffers(
  trx: Kysely<DB>,
  ctx: AppContext,
  actor: Actor,
  changes: Change[],
  terms: OfferTerms,
): Promise<Change[]> {
  const movedIds = changes.flatMap((c) => (c.problem ? [] : [c.applicationId]));
  if (movedIds.length === 0) return changes;
  const rows = await trx
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .select(["applications.id", "applications.student_id", "applications.job_id", "jobs.company"])
    .where("applications.id", "in", movedIds)
    .execute();
  const { noSms } = await makeCampusOffersIn(
    trx,
    ctx,
    actor,
    rows.map((r) => ({
      applicationId: r.id,
      studentId: r.student_id,
      jobId: r.job_id,
      company: r.company,
    })),
    terms,
  );
  return changes.map((c) => {
    const reason = noSms.get(c.applicationId);
    return reason ? { ...c, noSms: reason } : c;
  });
}

/**
 * An admin moves one or many applications to `to`, all in one transaction; each valid change
 * queues its student's SMS. Invalid ones (a repeated click, a skipped stage) change nothing and
 * come back with the reason.
 */
export async function changeStatus(
  ctx: AppContext,
  actor: Actor,
  applicationIds: number[],
  to: ApplicationStatus,
  options: { offer?: OfferTerms | undefined } = {},
) {
  const changes = await inTransaction(ctx.db, (trx) =>
    changeStatusIn(trx, ctx, actor, applicationIds, to, options),
  );
  const moved = changes.filter((c) => !c.problem);
  if (moved.length > 0) signalQueued(ctx);
  return {
    changed: moved.length,
    /** Why some of the moved get no SMS: reason -> how many. */
    withoutSms: moved.reduce<Record<string, number>>((counts, c) => {
      if (c.noSms) counts[c.noSms] = (counts[c.noSms] ?? 0) + 1;
      return counts;
    }, {}),
    problems: changes.flatMap((c) => (c.problem ? [c.problem] : [])),
  };
}

/**
 * What `changeStatus` would do, for its confirmation page: the applications that would move (with
 * whether their student gets the SMS) and the ones that would not, with why.
 */
export async function previewStatusChange(
  ctx: AppContext,
  applicationIds: number[],
  to: ApplicationStatus,
) {
  const ids = [...new Set(applicationIds)];
  const rows =
    ids.length === 0
      ? []
      : await ctx.db
          .selectFrom("applications")
          .innerJoin("jobs", "jobs.id", "applications.job_id")
          .innerJoin("students", "students.id", "applications.student_id")
          .select([
            "applications.id",
            "applications.status",
            "applications.job_id",
            "jobs.company",
            "jobs.title",
            "jobs.location",
            "jobs.package_lpa",
            "students.full_name",
            "students.roll_number",
            "students.phone_e164",
            "students.sms_opted_out_at",
          ])
          .where("applications.id", "in", ids)
          .orderBy("students.full_name")
          .orderBy("applications.id")
          .execute();
  const moving = rows.filter((r) => transitionProblem(r.status, to) === null);
  const refused = rows.flatMap((r) => {
    const problem = transitionProblem(r.status, to);
    return problem ? [{ ...r, problem }] : [];
  });
  return { moving, refused, unknown: ids.length - rows.length };
}

/** An application whose decision may be corrected, with what the correction would do. */
export interface CorrectionPlan {
  id: number;
  jobId: number;
  /** The decision undone. */
  decision: Decision;
  /** The event that made that decision: a confirmed correction names it, so a stale page undoes nothing newer. */
  decisionEventId: number;
  decidedAt: string;
  /** The stage it goes back to: the one it was in before that decision, from its history. */
  back: ApplicationStatus;
  company: string;
  title: string;
  full_name: string;
  roll_number: string;
  phone_e164: string;
  sms_opted_out_at: string | null;
  student_id: number;
}

/**
 * What correcting this application's decision would do, or why it cannot be corrected (no
 * decision, or a history that does not say the stage before it). Reads inside `db`, which may be
 * the correcting transaction.
 */
async function planCorrection(
  db: Kysely<DB>,
  applicationId: number,
): Promise<{ plan: CorrectionPlan } | { problem: string; jobId: number } | undefined> {
  const row = await applicationWithParties(db, applicationId);
  if (!row) return undefined;
  const who = `${row.full_name} (${row.roll_number})`;
  if (!isDecision(row.status))
    return {
      problem: `${who}: ${STATUS_LABELS[row.status]} is not a decision; only Selected or Rejected can be corrected`,
      jobId: row.job_id,
    };
  // The latest event is the one that made the decision (every move records one).
  const last = await db
    .selectFrom("application_events")
    .select(["id", "from_status", "to_status", "at"])
    .where("application_id", "=", applicationId)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  const back = last?.from_status;
  if (!last || last.to_status !== row.status || !back || !TRANSITIONS[back].includes(row.status))
    return {
      problem: `${who}: its history does not say which stage it was in before ${STATUS_LABELS[row.status]}`,
      jobId: row.job_id,
    };
  return {
    plan: {
      id: row.id,
      jobId: row.job_id,
      decision: row.status,
      decisionEventId: last.id,
      decidedAt: last.at,
      back,
      company: row.company,
      title: row.title,
      full_name: row.full_name,
      roll_number: row.roll_number,
      phone_e164: row.phone_e164,
      sms_opted_out_at: row.sms_opted_out_at,
      student_id: row.student_id,
    },
  };
}

/** For the correction's confirmation page: what it would do, why not, or undefined (no such application). */
export function previewCorrection(ctx: AppContext, applicationId: number) {
  return planCorrection(ctx.db, applicationId);
}

export type CorrectionResult =
  | { ok: true; plan: CorrectionPlan; noSms?: string }
  | { ok: false; problem: string };

/**
 * An admin moves a decision (Selected, Rejected) back to the stage it was in before, with a reason:
 * one event, one audit entry, one SMS to the student. `decisionEventId` is the decision the admin
 * saw on the confirmation page: when another admin corrected or changed it meanwhile, nothing
 * happens and the problem says so. Two corrections sent at once give one outcome: the row is
 * locked first (PostgreSQL; SQLite runs one write transaction at a time) and the move is guarded
 * by the status it read.
 */
export async function correctDecision(
  ctx: AppContext,
  actor: Actor,
  applicationId: number,
  decisionEventId: number,
  reason: string,
): Promise<CorrectionResult> {
  const result = await inTransaction(ctx.db, async (trx): Promise<CorrectionResult> => {
    await lockForUpdate(
      trx.selectFrom("applications").select("id").where("id", "=", applicationId),
      ctx.dialect,
    ).execute();
    const planned = await planCorrection(trx, applicationId);
    if (!planned) return { ok: false, problem: "no such application" };
    // Anything recorded since the page was shown (another correction, a new decision) wins.
    const latest = await trx
      .selectFrom("application_events")
      .select((eb) => eb.fn.max("id").as("id"))
      .where("application_id", "=", applicationId)
      .executeTakeFirst();
    if (Number(latest?.id) !== decisionEventId) {
      const who = await trx
        .selectFrom("applications")
        .innerJoin("students", "students.id", "applications.student_id")
        .select(["students.full_name", "students.roll_number"])
        .where("applications.id", "=", applicationId)
        .executeTakeFirstOrThrow();
      return {
        ok: false,
        problem: `${who.full_name} (${who.roll_number}): changed by someone else meanwhile`,
      };
    }
    if ("problem" in planned) return { ok: false, problem: planned.problem };
    const { plan } = planned;
    const now = ctx.clock.now().toISOString();
    const updated = await trx
      .updateTable("applications")
      .set({ status: plan.back, updated_at: now })
      .where("id", "=", applicationId)
      .where("status", "=", plan.decision)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1)
      return {
        ok: false,
        problem: `${plan.full_name} (${plan.roll_number}): changed by someone else meanwhile`,
      };
    const event = await trx
      .insertInto("application_events")
      .values({
        application_id: applicationId,
        from_status: plan.decision,
        to_status: plan.back,
        by_user_id: actor.id,
        by_role: "admin",
        at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // The offer came with the selection and goes with it; the correction's SMS tells the student.
    const offersWithdrawn =
      plan.decision === "selected"
        ? (
            await withdrawOffersIn(
              trx,
              ctx,
              { applicationIds: [applicationId] },
              `The selection was corrected: ${reason}`,
              false,
            )
          ).length
        : 0;
    const sms = await notifyDecisionCorrected(trx, ctx, {
      eventId: event.id,
      applicationId,
      student: {
        id: plan.student_id,
        full_name: plan.full_name,
        roll_number: plan.roll_number,
        phone_e164: plan.phone_e164,
        sms_opted_out_at: plan.sms_opted_out_at,
      },
      job: plan,
      to: plan.back,
      previous: plan.decision,
    });
    const noSms =
      sms.status === "skipped"
        ? plan.sms_opted_out_at !== null
          ? "opted out of SMS"
          : "SMS are switched off"
        : undefined;
    await recordAudit(trx, ctx, actor, {
      action: "application.correct",
      subject: `${plan.full_name}'s application for ${jobName(plan)}`,
      details: {
        applicationId,
        student: plan.full_name,
        rollNumber: plan.roll_number,
        job: jobName(plan),
        from: plan.decision,
        to: plan.back,
        reason,
        sms: noSms ?? "queued",
        ...(offersWithdrawn > 0 ? { offersWithdrawn } : {}),
      },
    });
    return { ok: true, plan, ...(noSms ? { noSms } : {}) };
  });
  if (result.ok) signalQueued(ctx);
  return result;
}

/** One of the student's own applications with its job, or undefined (not theirs, or none). */
export function ownApplication(ctx: AppContext, studentId: number, applicationId: number) {
  return ctx.db
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .select([
      "applications.id",
      "applications.status",
      "jobs.id as job_id",
      "jobs.company",
      "jobs.title",
      "jobs.status as job_status",
      "jobs.apply_by",
    ])
    .where("applications.id", "=", applicationId)
    .where("applications.student_id", "=", studentId)
    .executeTakeFirst();
}

/**
 * The student withdraws their own application, before a decision. No SMS: they did it. They may
 * apply again until the deadline.
 */
export async function withdrawApplication(
  ctx: AppContext,
  user: SessionUser,
  applicationId: number,
) {
  return inTransaction(ctx.db, async (trx) => {
    const own = await trx
      .selectFrom("applications")
      .select("id")
      .where("id", "=", applicationId)
      .where("student_id", "=", user.studentId ?? -1)
      .executeTakeFirst();
    if (!own) return { problem: "There is no such application of yours." };
    const change = await transition(
      trx,
      ctx,
      { id: user.id, role: "student" },
      applicationId,
      "withdrawn",
      false,
    );
    return change.problem
      ? { problem: `You cannot withdraw it: ${change.problem.split(": ").pop()}.` }
      : { problem: null };
  });
}

export const APPLICANTS_PAGE_SIZE = 50;

export interface ApplicantFilters {
  status?: ApplicationStatus | undefined;
  department?: string | undefined;
  minCgpa?: number | undefined;
  /** Part of the student's name or roll number (`%` and `_` match themselves). */
  q?: string | undefined;
  page: number;
}

function withEmails(query: ReturnType<typeof applicantsQuery>) {
  return query.innerJoin("users", "users.id", "students.user_id");
}

function applicantsQuery(ctx: AppContext, jobId: number, filters: Omit<ApplicantFilters, "page">) {
  // No filter reads users: the count and the page go without them, the CSV joins them (withEmails).
  let query = ctx.db
    .selectFrom("applications")
    .innerJoin("students", "students.id", "applications.student_id")
    .where("applications.job_id", "=", jobId);
  if (filters.status) query = query.where("applications.status", "=", filters.status);
  if (filters.department) query = query.where("students.department", "=", filters.department);
  if (filters.minCgpa !== undefined) query = query.where("students.cgpa", ">=", filters.minCgpa);
  if (filters.q) {
    const pattern = containsPattern(filters.q);
    const like = likeOperator(ctx.dialect);
    query = query.where((eb) =>
      eb.or([eb("students.full_name", like, pattern), eb("students.roll_number", like, pattern)]),
    );
  }
  return query;
}

/**
 * What the applicants page shows of each applicant. The page sorts every applicant of the job by
 * CGPA for its 50 rows, so each column and join here is paid for each applicant, not for each row
 * shown: no email (a join of users), phone or skills.
 */
const applicantPageColumns = [
  "applications.id",
  "applications.status",
  "students.id as student_id",
  "students.full_name",
  "students.roll_number",
  "students.department",
  "students.graduation_year",
  "students.cgpa",
  "students.active_backlogs",
] as const;

/** What the CSV gives of each applicant: the page's columns and how to reach them. */
const applicantColumns = [
  ...applicantPageColumns,
  "applications.created_at",
  "applications.updated_at",
  "students.semester",
  "students.skills",
  "students.phone_e164",
  "users.email",
] as const;

export async function listApplicants(ctx: AppContext, jobId: number, filters: ApplicantFilters) {
  const query = applicantsQuery(ctx, jobId, filters);
  // Without a filter on the students, the total is in the per-status counts the page shows anyway:
  // one statement fewer (each a round trip on PostgreSQL) on the busiest page of a job.
  const byStudents =
    filters.department !== undefined || filters.minCgpa !== undefined || filters.q !== undefined;
  const [rows, counted, byStatus] = await Promise.all([
    query
      .select(applicantPageColumns)
      .select(resumeSize)
      .orderBy("students.cgpa", "desc")
      .orderBy("applications.id")
      .limit(APPLICANTS_PAGE_SIZE)
      .offset((filters.page - 1) * APPLICANTS_PAGE_SIZE)
      .execute(),
    byStudents
      ? query.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()
      : null,
    ctx.db
      .selectFrom("applications")
      .where("job_id", "=", jobId)
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute(),
  ]);
  const statusCounts = new Map(byStatus.map((r) => [r.status, Number(r.n)]));
  const total = counted
    ? Number(counted.n)
    : filters.status
      ? (statusCounts.get(filters.status) ?? 0)
      : [...statusCounts.values()].reduce((sum, n) => sum + n, 0);
  return { rows, total, byStatus: statusCounts };
}

/** A cell a spreadsheet would run as a formula is prefixed with ' so it stays text. */
function neutralise(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** What the applicants CSV says of an applicant: the sources of its columns. */
export interface ApplicantCsvRow {
  student_id: number;
  roll_number: string;
  full_name: string;
  email: string;
  phone_e164: string;
  department: string;
  semester: number | null;
  graduation_year: number;
  cgpa: number;
  active_backlogs: number;
  skills: string;
  status: ApplicationStatus;
  created_at: string;
  resume_size: number | null;
}

const APPLICANT_CSV_COLUMNS = [
  "Roll number",
  "Name",
  "Email",
  "Phone",
  "Department",
  "Semester",
  "Graduation year",
  "CGPA",
  "Active backlogs",
  "Skills",
  "Status",
  "Applied at",
  "Resume",
] as const;

type CsvCell = string | number;

/**
 * `rows` as the applicants CSV, in their order: its columns, the typed cells neutralised, CGPA
 * with two decimals, times in India time, a BOM for spreadsheets. `extra` adds columns at the end
 * (the resume bundle's "Resume file"). The one writer of that CSV: the export and the bundle.
 */
export function applicantsCsvText<R extends ApplicantCsvRow>(
  ctx: AppContext,
  rows: readonly R[],
  extra: { columns: readonly string[]; cells: (row: R) => CsvCell[] } = {
    columns: [],
    cells: () => [],
  },
): string {
  // An absolute link when the portal knows its public address, so it opens from a spreadsheet.
  const base = (ctx.config.PUBLIC_BASE_URL ?? "").replace(/\/+$/, "");
  return stringify(
    rows.map((r): CsvCell[] => [
      neutralise(r.roll_number),
      neutralise(r.full_name),
      neutralise(r.email),
      r.phone_e164,
      r.department,
      r.semester ?? "",
      r.graduation_year,
      formatCgpa(r.cgpa),
      r.active_backlogs,
      neutralise(r.skills),
      STATUS_LABELS[r.status],
      formatCsvDateTime(r.created_at),
      r.resume_size !== null ? `${base}/admin/students/${r.student_id}/resume` : "",
      ...extra.cells(r),
    ]),
    { header: true, columns: [...APPLICANT_CSV_COLUMNS, ...extra.columns], bom: true },
  );
}

/** The applicant list (all pages, same filters) as CSV. */
export async function applicantsCsv(
  ctx: AppContext,
  jobId: number,
  filters: Omit<ApplicantFilters, "page">,
): Promise<string> {
  const rows = await withEmails(applicantsQuery(ctx, jobId, filters))
    .select(applicantColumns)
    .select(resumeSize)
    .orderBy("students.cgpa", "desc")
    .orderBy("applications.id")
    .execute();
  return applicantsCsvText(ctx, rows);
}

/** Applicants the resume bundle reads with one statement (keyset on the application id). */
export const BUNDLE_BATCH = 50;
/** The most resume bytes one statement of the bundle reads (a single larger resume is read alone). */
export const BUNDLE_READ_BYTES = 16 * 1024 * 1024;

export interface BundledApplicant extends ApplicantCsvRow {
  /** The application's id: the bundle's order. */
  id: number;
  /** The resume's bytes and upload time; null without a resume. */
  resume: { content: Buffer; uploaded_at: string } | null;
}

/**
 * The applicants the filters match, each with their resume's bytes, for the resume bundle: a part
 * at a time, read only when the caller asks for the next. The applicants by keyset on the
 * application id, `batch` to a statement; their resumes' bytes then by statements of at most
 * `maxBytes` (by the sizes the first statement read), so a part never holds more than that, or
 * one resume, in memory.
 */
export async function* applicantsWithResumes(
  ctx: AppContext,
  jobId: number,
  filters: Omit<ApplicantFilters, "page">,
  options: { batch?: number; maxBytes?: number } = {},
): AsyncGenerator<BundledApplicant[]> {
  const batch = options.batch ?? BUNDLE_BATCH;
  const maxBytes = options.maxBytes ?? BUNDLE_READ_BYTES;
  let after = 0;
  for (;;) {
    const rows = await withEmails(applicantsQuery(ctx, jobId, filters))
      .select(applicantColumns)
      .select(resumeSize)
      .where("applications.id", ">", after)
      .orderBy("applications.id")
      .limit(batch)
      .execute();
    for (let start = 0; start < rows.length; ) {
      let end = start;
      let bytes = 0;
      while (
        end < rows.length &&
        (bytes === 0 || bytes + (rows[end]!.resume_size ?? 0) <= maxBytes)
      )
        bytes += rows[end++]!.resume_size ?? 0;
      const part = rows.slice(start, end);
      start = end;
      const ids = part.filter((r) => r.resume_size !== null).map((r) => r.student_id);
      const resumes =
        ids.length === 0
          ? []
          : await ctx.db
              .selectFrom("resumes")
              .select(["student_id", "content", "size", "uploaded_at"])
              .where("student_id", "in", ids)
              .execute();
      const byStudent = new Map(resumes.map((r) => [r.student_id, r]));
      yield part.map((r) => {
        // A resume removed or replaced since the first statement: what is stored now.
        const resume = byStudent.get(r.student_id);
        return {
          ...r,
          resume_size: resume ? resume.size : null,
          resume: resume ? { content: resume.content, uploaded_at: resume.uploaded_at } : null,
        };
      });
    }
    if (rows.length < batch) return;
    after = rows[rows.length - 1]!.id;
  }
}

/** Students the not-applied export reads with one statement (keyset on the student id). */
export const NOT_APPLIED_BATCH = 500;

/**
 * The approved students who may apply to `job` (its eligibility rule with the placement policy) and have not: no
 * application to it, or only a withdrawn one. For the office to reach them before the deadline.
 * Every condition of who is listed is here, in this one query; read by keyset on the student id,
 * `batch` to a statement, each batch only when the caller asks for it.
 */
export async function* eligibleNotApplied(
  ctx: AppContext,
  job: Pick<JobWithRules, "id" | "rules" | "package_lpa">,
  batch = NOT_APPLIED_BATCH,
) {
  const policies = await loadPolicies(ctx.db);
  let after = 0;
  for (;;) {
    const rows = await ctx.db
      .selectFrom("students")
      .where(jobAudienceFilter(job, policies))
      .innerJoin("users", "users.id", "students.user_id")
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("applications")
              .select("applications.id")
              .whereRef("applications.student_id", "=", "students.id")
              .where("applications.job_id", "=", job.id)
              .where("applications.status", "!=", "withdrawn"),
          ),
        ),
      )
      .where("students.id", ">", after)
      .select([
        "students.id",
        "students.roll_number",
        "students.full_name",
        "students.department",
        "students.graduation_year",
        "students.cgpa",
        "students.active_backlogs",
        "users.email",
        "students.phone_e164",
      ])
      .orderBy("students.id")
      .limit(batch)
      .execute();
    yield* rows;
    if (rows.length < batch) return;
    after = rows[rows.length - 1]!.id;
  }
}

export const STUDENT_APPLICATIONS_PAGE_SIZE = 25;

/** One student's applications with their jobs, newest first. */
function ownApplicationsQuery(db: Kysely<DB>, studentId: number) {
  return db
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .select([
      "applications.id",
      "applications.status",
      "applications.created_at",
      "applications.updated_at",
      "jobs.id as job_id",
      "jobs.company",
      "jobs.title",
      "jobs.type",
      "jobs.status as job_status",
      "jobs.apply_by",
    ])
    .where("applications.student_id", "=", studentId)
    .orderBy("applications.created_at", "desc")
    .orderBy("applications.id", "desc");
}

/** A page of them, and all of them (each compiled once: see db/prepared.ts). */
const ownApplicationsPage = preparedRead(
  (db, param: ParamOf<{ studentId: number; limit: number; offset: number }>) =>
    ownApplicationsQuery(db, param("studentId")).limit(param("limit")).offset(param("offset")),
);
const everyOwnApplication = preparedRead((db, param: ParamOf<{ studentId: number }>) =>
  ownApplicationsQuery(db, param("studentId")),
);

/**
 * One page of a student's own applications, newest first, each with its timeline (the dashboard
 * shows no timeline and asks for all of them: it marks the jobs applied to from the same rows).
 */
export async function studentApplications(
  ctx: AppContext,
  studentId: number,
  page = 1,
  options: { pageSize?: number | "all"; timelines?: boolean } = {},
) {
  const pageSize = options.pageSize ?? STUDENT_APPLICATIONS_PAGE_SIZE;
  const applications =
    pageSize === "all"
      ? await everyOwnApplication(ctx.db, { studentId })
      : await ownApplicationsPage(ctx.db, {
          studentId,
          limit: pageSize,
          offset: (page - 1) * pageSize,
        });
  const events =
    applications.length === 0 || options.timelines === false
      ? []
      : await ctx.db
          .selectFrom("application_events")
          .selectAll()
          .where(
            "application_id",
            "in",
            applications.map((a) => a.id),
          )
          .orderBy("id")
          .execute();
  return applications.map((a) => ({
    ...a,
    events: events.filter((e) => e.application_id === a.id),
  }));
}
