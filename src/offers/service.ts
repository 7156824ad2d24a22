import type { Kysely } from "kysely";
import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockForUpdate, lockNoKeyUpdate } from "../db/dialect.ts";
import type { DB, Offer, OfferSource, OfferStatus } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { cancelJobSmsNoLongerFor } from "../jobs/service.ts";
import { refreshPlacementFacts } from "../placement/placement-facts.ts";
import {
  describePolicy,
  formatLpa,
  isUpgrade,
  type PlacementPolicy,
  policyFor,
  tierName,
} from "../placement/policy.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { plural } from "../web/format.ts";
import {
  blankAsNull,
  checkedForm,
  dateTimeLocalField,
  decimalField,
  textField,
} from "../web/forms.ts";
import { cancelOfferReminder, tellOffersMade, tellOfferWithdrawn } from "./notices.ts";

/**
 * Offers (decision 034). A campus offer is recorded with the selection it comes from (the
 * applications feature calls `makeCampusOffersIn` in its transaction), or later for a selected
 * applicant without one; pre-placement and off-campus offers are recorded by the office for a
 * pasted list of roll numbers. The student accepts or declines in the portal before the answer
 * time; after it, an unanswered offer lapses. Every write that changes what a student holds
 * locks the student's row first and rewrites the student's placement facts in its transaction
 * (placement/placement-facts.ts), so two answers at once never both pass the policy's limit.
 */

export const OFFER_STATUS_LABELS: Record<OfferStatus, string> = {
  pending: "Awaiting answer",
  accepted: "Accepted",
  declined: "Declined",
  lapsed: "Lapsed (not answered in time)",
  withdrawn: "Withdrawn",
  released: "Released for a better offer",
};

export const OFFER_SOURCE_LABELS: Record<OfferSource, string> = {
  campus: "Campus",
  ppo: "Pre-placement offer (PPO)",
  off_campus: "Off campus",
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The terms of an offer, as the forms ask for them. */
export function offerTermsSchema(now: Date) {
  return checkedForm(
    z.object({
      role: textField({ label: "the role", max: 120 }),
      location: textField({ label: "the location", max: 120 }),
      fixed_lpa: decimalField({ label: "the fixed pay in lakh a year", min: 0, max: 1000 }),
      variable_lpa: blankAsNull(
        decimalField({ label: "the variable pay in lakh a year", min: 0, max: 1000 }),
      ).transform((v) => v ?? 0),
      joining_date: textField({ label: "the joining date", max: 10, optional: true })
        .refine((v) => v === "" || (DATE_ONLY.test(v) && !Number.isNaN(Date.parse(v))), {
          message: "Enter the joining date as a date, such as 2027-07-01.",
        })
        .transform((v) => (v === "" ? null : v)),
      answer_by: dateTimeLocalField({ label: "the time to answer by" }).refine(
        (iso) => Date.parse(iso) > now.getTime() + 3_600_000,
        { message: "Give the student at least an hour to answer." },
      ),
    }),
    {
      fields: ["fixed_lpa", "variable_lpa"],
      path: "fixed_lpa",
      message: "The package (fixed plus variable) must be more than 0.",
      holds: (v) => Number(v.fixed_lpa) + Number(v.variable_lpa || 0) > 0,
    },
  );
}

export type OfferTerms = z.output<ReturnType<typeof offerTermsSchema>>;

export function ctcOf(terms: Pick<OfferTerms, "fixed_lpa" | "variable_lpa">): number {
  return Math.round((terms.fixed_lpa + terms.variable_lpa) * 100) / 100;
}

/** An offer's state as of `now`: a pending one past its answer time reads as lapsed. */
export function offerState(offer: Pick<Offer, "status" | "answer_by">, now: Date): OfferStatus {
  return offer.status === "pending" && Date.parse(offer.answer_by) <= now.getTime()
    ? "lapsed"
    : offer.status;
}

/** Holds these students' rows until commit (PostgreSQL; SQLite has one writer at a time). */
async function lockStudents(trx: Kysely<DB>, ctx: Pick<AppContext, "dialect">, ids: number[]) {
  if (ids.length === 0) return;
  await lockNoKeyUpdate(
    trx
      .selectFrom("students")
      .select("id")
      .where("id", "in", [...new Set(ids)])
      .orderBy("id"),
    ctx.dialect,
  ).execute();
}

/** The offers with what their SMS need of their students. */
async function offersToTell(trx: Kysely<DB>, ids: number[]) {
  if (ids.length === 0) return [];
  return trx
    .selectFrom("offers")
    .innerJoin("students", "students.id", "offers.student_id")
    .select([
      "offers.id",
      "offers.company",
      "offers.role",
      "offers.ctc_lpa",
      "offers.answer_by",
      "offers.student_id",
      "offers.application_id",
      "students.phone_e164",
      "students.sms_opted_out_at",
      "students.full_name",
      "students.roll_number",
    ])
    .where("offers.id", "in", ids)
    .orderBy("offers.id")
    .execute();
}

interface NewOffer {
  studentId: number;
  source: OfferSource;
  company: string;
  jobId: number | null;
  applicationId: number | null;
}

/** Writes offers on the same terms, tells each student; returns the new offers with their SMS. */
async function writeOffers(
  trx: Kysely<DB>,
  ctx: AppContext,
  actor: Actor,
  offers: readonly NewOffer[],
  terms: OfferTerms,
) {
  if (offers.length === 0) return [];
  const now = ctx.clock.now().toISOString();
  await lockStudents(
    trx,
    ctx,
    offers.map((o) => o.studentId),
  );
  const ids: number[] = [];
  for (let i = 0; i < offers.length; i += 500) {
    const rows = await trx
      .insertInto("offers")
      .values(
        offers.slice(i, i + 500).map((o) => ({
          student_id: o.studentId,
          source: o.source,
          job_id: o.jobId,
          application_id: o.applicationId,
          company: o.company,
          role: terms.role,
          location: terms.location,
          fixed_lpa: terms.fixed_lpa,
          variable_lpa: terms.variable_lpa,
          ctc_lpa: ctcOf(terms),
          joining_date: terms.joining_date,
          answer_by: terms.answer_by,
          status: "pending" as const,
          created_by: actor.id,
          created_at: now,
          updated_at: now,
        })),
      )
      // A campus offer for an application that has one, or a second live PPO or off-campus offer
      // from one company (offers_live_outside_idx), is a request made twice: it writes nothing.
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .execute();
    ids.push(...rows.map((r) => r.id));
  }
  const told = await offersToTell(trx, ids);
  const results = await tellOffersMade(trx, ctx, told);
  return told.map((offer, i) => ({ offer, sms: results[i] }));
}

/**
 * Campus offers for applications just moved to Selected, inside the selection's transaction: one
 * per application on the same terms (an application holds at most one offer: a unique key). The
 * offer's SMS says the student was selected, so the caller sends no status SMS for these.
 * Returns how many were made (a request made twice makes none the second time) and, per
 * application, why its student gets no SMS (opted out, SMS off), if so.
 */
export async function makeCampusOffersIn(
  trx: Kysely<DB>,
  ctx: AppContext,
  actor: Actor,
  selected: readonly { applicationId: number; studentId: number; jobId: number; company: string }[],
  terms: OfferTerms,
): Promise<{ made: number; noSms: Map<number, string> }> {
  const made = await writeOffers(
    trx,
    ctx,
    actor,
    selected.map((s) => ({
      studentId: s.studentId,
      source: "campus",
      company: s.company,
      jobId: s.jobId,
      applicationId: s.applicationId,
    })),
    terms,
  );
  const noSms = new Map<number, string>();
  made.forEach(({ offer, sms }) => {
    if (sms?.status === "skipped" && offer.application_id !== null)
      noSms.set(
        offer.application_id,
        offer.sms_opted_out_at !== null ? "opted out of SMS" : "SMS are switched off",
      );
  });
  return { made: made.length, noSms };
}

/** The selected applicants of a job who hold no offer for it yet. */
export function selectedWithoutOffer(ctx: Pick<AppContext, "db">, jobId: number) {
  return ctx.db
    .selectFrom("applications")
    .innerJoin("students", "students.id", "applications.student_id")
    .select([
      "applications.id as applicationId",
      "students.id as studentId",
      "students.full_name",
      "students.roll_number",
      "students.sms_opted_out_at",
    ])
    .where("applications.job_id", "=", jobId)
    .where("applications.status", "=", "selected")
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("offers")
            .select("offers.id")
            .whereRef("offers.application_id", "=", "applications.id"),
        ),
      ),
    )
    .orderBy("students.full_name")
    .orderBy("students.id")
    .execute();
}

/**
 * Offers for selected applicants of a job who hold none (the company's letters came after the
 * selection): the applications must still be Selected and without an offer when this runs.
 */
export async function makeLateCampusOffers(
  ctx: AppContext,
  actor: Actor,
  job: { id: number; company: string; title: string },
  applicationIds: number[],
  terms: OfferTerms,
) {
  const result = await inTransaction(ctx.db, async (trx) => {
    // Held until commit: a correction of one of them at the same time waits, then finds its offer.
    const rows = await lockForUpdate(
      trx
        .selectFrom("applications")
        .select(["applications.id", "applications.student_id"])
        .where("applications.job_id", "=", job.id)
        .where("applications.id", "in", applicationIds.length > 0 ? applicationIds : [-1])
        .where("applications.status", "=", "selected")
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("offers")
                .select("offers.id")
                .whereRef("offers.application_id", "=", "applications.id"),
            ),
          ),
        ),
      ctx.dialect,
    ).execute();
    const { made, noSms } = await makeCampusOffersIn(
      trx,
      ctx,
      actor,
      rows.map((r) => ({
        applicationId: r.id,
        studentId: r.student_id,
        jobId: job.id,
        company: job.company,
      })),
      terms,
    );
    if (made > 0)
      await recordAudit(trx, ctx, actor, {
        action: "offer.make",
        subject: `${job.company}: ${job.title}`,
        details: {
          source: "campus",
          offers: made,
          role: terms.role,
          ctcLpa: ctcOf(terms),
          answerBy: terms.answer_by,
        },
      });
    return { made, noSms: noSms.size, skipped: applicationIds.length - made };
  });
  if (result.made > 0) signalQueued(ctx);
  return result;
}

// ---- Pre-placement and off-campus offers. ----

export const OUTSIDE_SOURCES = ["ppo", "off_campus"] as const;

export function outsideOfferSchema(now: Date) {
  return offerTermsSchema(now).extend({
    source: z.enum(OUTSIDE_SOURCES, { message: "Choose PPO or off campus." }),
    company: textField({ label: "the company", max: 120 }),
    roll_numbers: z
      .string({ message: "Paste the roll numbers." })
      .max(100_000, { message: "Too many roll numbers for one list: at most 2,000." })
      .transform((v) => [
        ...new Set(
          v
            .split(/[\s,;]+/)
            .map((r) => r.trim().toUpperCase())
            .filter(Boolean),
        ),
      ])
      .refine((list) => list.length > 0, { message: "Paste at least one roll number." })
      .refine((list) => list.length <= 2000, {
        message: "Too many roll numbers for one list: at most 2,000.",
      }),
  });
}

export type OutsideOfferInput = z.output<ReturnType<typeof outsideOfferSchema>>;

/**
 * Who a pasted list names, and each roll number that names nobody the office can give it to: no
 * such student, not approved, or holding a live offer of this kind from this company already.
 */
export async function planOutsideOffers(
  ctx: Pick<AppContext, "db">,
  rollNumbers: string[],
  offer: { source: OfferSource; company: string },
) {
  const rows =
    rollNumbers.length === 0
      ? []
      : await ctx.db
          .selectFrom("students")
          .select([
            "id",
            "roll_number",
            "full_name",
            "approved_at",
            "sms_opted_out_at",
            "phone_e164",
          ])
          .where("roll_number", "in", rollNumbers)
          .execute();
  const byRoll = new Map(rows.map((r) => [r.roll_number.toUpperCase(), r]));
  const holding = new Set(
    rows.length === 0
      ? []
      : (
          await ctx.db
            .selectFrom("offers")
            .select("student_id")
            .where(
              "student_id",
              "in",
              rows.map((r) => r.id),
            )
            .where("source", "=", offer.source)
            .where("company", "=", offer.company)
            .where("status", "in", ["pending", "accepted"])
            .execute()
        ).map((o) => o.student_id),
  );
  const problems: string[] = [];
  const students: typeof rows = [];
  for (const roll of rollNumbers) {
    const student = byRoll.get(roll);
    if (!student) problems.push(`${roll}: no student has this roll number`);
    else if (student.approved_at === null)
      problems.push(`${roll} (${student.full_name}): not approved yet`);
    else if (holding.has(student.id))
      problems.push(
        `${roll} (${student.full_name}): holds a live ${OFFER_SOURCE_LABELS[offer.source].toLowerCase()} from ${offer.company} already`,
      );
    else students.push(student);
  }
  return { students, problems };
}

/** Records the offers of a pasted list, all or none (any problem: none, and the problems back). */
export async function recordOutsideOffers(
  ctx: AppContext,
  actor: Actor,
  input: OutsideOfferInput,
): Promise<{ ok: true; made: number } | { ok: false; problems: string[] }> {
  const result = await inTransaction(ctx.db, async (trx) => {
    const plan = await planOutsideOffers({ db: trx }, input.roll_numbers, input);
    if (plan.problems.length > 0) return { ok: false as const, problems: plan.problems };
    const made = await writeOffers(
      trx,
      ctx,
      actor,
      plan.students.map((s) => ({
        studentId: s.id,
        source: input.source,
        company: input.company,
        jobId: null,
        applicationId: null,
      })),
      input,
    );
    // The same list confirmed twice at once: the second finds every offer made (the unique index).
    if (made.length === 0)
      return { ok: false as const, problems: ["these offers were recorded already"] };
    await recordAudit(trx, ctx, actor, {
      action: "offer.make",
      subject: input.company,
      details: {
        source: input.source,
        offers: made.length,
        role: input.role,
        ctcLpa: ctcOf(input),
        answerBy: input.answer_by,
        students: plan.students.slice(0, 100).map((s) => `${s.full_name} (${s.roll_number})`),
      },
    });
    return { ok: true as const, made: made.length };
  });
  if (result.ok) signalQueued(ctx);
  return result;
}

// ---- Answers. ----

/** What accepting an offer would do under the student's policy, or why it cannot be accepted. */
export interface AcceptancePlan {
  policy: PlacementPolicy | undefined;
  /** Accepted offers the acceptance gives up (the lowest paid), to stay within the limit. */
  releases: Offer[];
  problem: string | null;
  /** The policy's sentences, and what the acceptance means under them. */
  meaning: string[];
}

async function planAcceptance(
  db: Kysely<DB>,
  student: { id: number; graduation_year: number },
  offer: Offer,
): Promise<AcceptancePlan> {
  const [policy, accepted] = await Promise.all([
    policyFor(db, student.graduation_year),
    db
      .selectFrom("offers")
      .selectAll()
      .where("student_id", "=", student.id)
      .where("status", "=", "accepted")
      .orderBy("ctc_lpa")
      .orderBy("id")
      .execute(),
  ]);
  const meaning: string[] = [];
  let releases: Offer[] = [];
  let problem: string | null = null;
  if (!policy) {
    meaning.push(
      `Your batch (${student.graduation_year}) has no placement policy: accepting this offer does not limit what you may apply to.`,
    );
  } else {
    const best = accepted.reduce((m, o) => Math.max(m, o.ctc_lpa), 0);
    if (accepted.length >= policy.maxAccepted) {
      if (!isUpgrade(policy, offer.ctc_lpa, best))
        problem = `You hold ${plural(accepted.length, "accepted offer")} (best ${formatLpa(best)}), the most the ${policy.graduationYear} placement policy allows, and this offer is no upgrade on it`;
      else releases = accepted.slice(0, accepted.length - policy.maxAccepted + 1);
    }
    meaning.push(
      `This offer is ${formatLpa(offer.ctc_lpa)}, in the ${tierName(policy.tiers, offer.ctc_lpa)} tier.`,
    );
    for (const r of releases)
      meaning.push(
        `Accepting it gives up your accepted offer from ${r.company} (${r.role}, ${formatLpa(r.ctc_lpa)}): the policy lets you hold ${plural(policy.maxAccepted, "accepted offer")}.`,
      );
    meaning.push(...describePolicy(policy));
  }
  return { policy, releases, problem, meaning };
}

function studentRow(trx: Kysely<DB>, studentId: number) {
  return trx
    .selectFrom("students")
    .selectAll()
    .where("id", "=", studentId)
    .executeTakeFirstOrThrow();
}

type OwnOffer = { offer: Offer; student: { id: number; graduation_year: number; user_id: number } };

async function ownOffer(
  db: Kysely<DB>,
  studentId: number,
  offerId: number,
): Promise<OwnOffer | null> {
  const row = await db
    .selectFrom("offers")
    .innerJoin("students", "students.id", "offers.student_id")
    .selectAll("offers")
    .select(["students.graduation_year", "students.user_id"])
    .where("offers.id", "=", offerId)
    .where("offers.student_id", "=", studentId)
    .executeTakeFirst();
  if (!row) return null;
  const { graduation_year, user_id, ...offer } = row;
  return { offer, student: { id: studentId, graduation_year, user_id } };
}

/** One of the student's own offers with what accepting it would mean; null if not theirs. */
export async function offerForStudent(ctx: AppContext, studentId: number, offerId: number) {
  const own = await ownOffer(ctx.db, studentId, offerId);
  if (!own) return null;
  return {
    offer: own.offer,
    state: offerState(own.offer, ctx.clock.now()),
    plan: await planAcceptance(ctx.db, own.student, own.offer),
  };
}

export type AnswerResult = { ok: true; released: number } | { ok: false; problem: string };

function notOpen(offer: Offer, now: Date): string | null {
  const state = offerState(offer, now);
  if (state === "pending") return null;
  if (state === "lapsed") return "the time to answer this offer has passed";
  return `this offer is ${OFFER_STATUS_LABELS[state].toLowerCase()} already`;
}

/**
 * The student accepts: within the policy's limit, or as an upgrade that gives up the lowest
 * accepted offers. The student's row is locked first, so a second acceptance at the same time
 * waits and then counts this one; the offer's own UPDATE is guarded by its state and time.
 */
export async function acceptOffer(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  offerId: number,
): Promise<AnswerResult> {
  return inTransaction(ctx.db, async (trx) => {
    await lockStudents(trx, ctx, [studentId]);
    const own = await ownOffer(trx, studentId, offerId);
    if (!own) return { ok: false, problem: "there is no such offer" };
    const now = ctx.clock.now();
    const closed = notOpen(own.offer, now);
    if (closed) return { ok: false, problem: closed };
    const plan = await planAcceptance(trx, own.student, own.offer);
    if (plan.problem) return { ok: false, problem: plan.problem };
    const at = now.toISOString();
    const accepted = await trx
      .updateTable("offers")
      .set({ status: "accepted", accepted_at: at, answered_at: at, updated_at: at })
      .where("id", "=", offerId)
      .where("status", "=", "pending")
      .where("answer_by", ">", at)
      .returning("id")
      .executeTakeFirst();
    if (!accepted) return { ok: false, problem: "this offer was answered meanwhile" };
    if (plan.releases.length > 0)
      await trx
        .updateTable("offers")
        .set({ status: "released", answered_at: at, updated_at: at })
        .where(
          "id",
          "in",
          plan.releases.map((r) => r.id),
        )
        .where("status", "=", "accepted")
        .execute();
    await cancelOfferReminder(trx, ctx, offerId, "Cancelled: the student accepted the offer");
    await refreshPlacementFacts(trx, [studentId]);
    await cancelJobSmsNoLongerFor(
      trx,
      ctx,
      await studentRow(trx, studentId),
      "Cancelled: the student accepted an offer and the placement policy no longer lets them apply",
    );
    await recordAudit(trx, ctx, actor, {
      action: "offer.accept",
      subject: `${own.offer.company}: ${own.offer.role}`,
      details: {
        offerId,
        ctcLpa: own.offer.ctc_lpa,
        released: plan.releases.map((r) => ({ id: r.id, company: r.company, ctcLpa: r.ctc_lpa })),
      },
    });
    return { ok: true, released: plan.releases.length };
  });
}

/**
 * The student declines: a pending offer, or one they had accepted (which the policy may hold
 * against them: `students.reneged_at`, set once).
 */
export async function declineOffer(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  offerId: number,
): Promise<AnswerResult> {
  return inTransaction(ctx.db, async (trx) => {
    await lockStudents(trx, ctx, [studentId]);
    const own = await ownOffer(trx, studentId, offerId);
    if (!own) return { ok: false, problem: "there is no such offer" };
    const now = ctx.clock.now();
    const wasAccepted = own.offer.status === "accepted";
    if (!wasAccepted) {
      const closed = notOpen(own.offer, now);
      if (closed) return { ok: false, problem: closed };
    }
    const at = now.toISOString();
    const declined = await trx
      .updateTable("offers")
      .set({ status: "declined", answered_at: at, updated_at: at })
      .where("id", "=", offerId)
      .where("status", "=", own.offer.status)
      .$if(!wasAccepted, (q) => q.where("answer_by", ">", at))
      .returning("id")
      .executeTakeFirst();
    if (!declined) return { ok: false, problem: "this offer was answered meanwhile" };
    if (wasAccepted)
      await trx
        .updateTable("students")
        .set({ reneged_at: at })
        .where("id", "=", studentId)
        .where("reneged_at", "is", null)
        .execute();
    await cancelOfferReminder(trx, ctx, offerId, "Cancelled: the student declined the offer");
    await refreshPlacementFacts(trx, [studentId]);
    if (wasAccepted)
      await cancelJobSmsNoLongerFor(
        trx,
        ctx,
        await studentRow(trx, studentId),
        "Cancelled: the student declined an accepted offer and the placement policy no longer lets them apply",
      );
    await recordAudit(trx, ctx, actor, {
      action: "offer.decline",
      subject: `${own.offer.company}: ${own.offer.role}`,
      details: { offerId, ctcLpa: own.offer.ctc_lpa, afterAccepting: wasAccepted },
    });
    return { ok: true, released: 0 };
  });
}

/**
 * The company withdraws an offer (through the office): pending or accepted, the student is told
 * by SMS (`notify`), the reminder cancelled. A correction of the selection withdraws the
 * application's offer without an SMS of its own: the correction's SMS tells the student.
 */
export async function withdrawOffersIn(
  trx: Kysely<DB>,
  ctx: AppContext,
  where: { offerIds?: number[]; applicationIds?: number[] },
  reason: string,
  notify: boolean,
) {
  const ids = where.offerIds ?? [];
  const apps = where.applicationIds ?? [];
  if (ids.length === 0 && apps.length === 0) return [];
  // A correction lets go of the application's answered offers too (declined, lapsed), so that a
  // new selection of it can record a new offer.
  if (apps.length > 0)
    await trx
      .updateTable("offers")
      .set({ application_id: null })
      .where("application_id", "in", apps)
      .where("status", "not in", ["pending", "accepted"])
      .execute();
  const candidates = await trx
    .selectFrom("offers")
    .select(["id", "student_id"])
    .where((eb) =>
      eb.or([
        ...(ids.length > 0 ? [eb("id", "in", ids)] : []),
        ...(apps.length > 0 ? [eb("application_id", "in", apps)] : []),
      ]),
    )
    .where("status", "in", ["pending", "accepted"])
    .execute();
  if (candidates.length === 0) return [];
  await lockStudents(
    trx,
    ctx,
    candidates.map((c) => c.student_id),
  );
  const at = ctx.clock.now().toISOString();
  // A withdrawn offer lets go of its application (the row keeps its job and company): the
  // application may be selected again, or given a new offer, later.
  const withdrawn = await trx
    .updateTable("offers")
    .set({
      status: "withdrawn",
      withdrawn_reason: reason,
      answered_at: at,
      updated_at: at,
      application_id: null,
    })
    .where(
      "id",
      "in",
      candidates.map((c) => c.id),
    )
    .where("status", "in", ["pending", "accepted"])
    .returning(["id", "student_id"])
    .execute();
  for (const w of withdrawn)
    await cancelOfferReminder(trx, ctx, w.id, "Cancelled: the offer was withdrawn");
  await refreshPlacementFacts(
    trx,
    withdrawn.map((w) => w.student_id),
  );
  if (notify)
    for (const offer of await offersToTell(
      trx,
      withdrawn.map((w) => w.id),
    ))
      await tellOfferWithdrawn(trx, ctx, offer);
  return withdrawn;
}

export async function withdrawOffer(
  ctx: AppContext,
  actor: Actor,
  offerId: number,
  reason: string,
): Promise<{ ok: true } | { ok: false; problem: string }> {
  const result = await inTransaction(ctx.db, async (trx) => {
    const offer = await trx
      .selectFrom("offers")
      .selectAll()
      .where("id", "=", offerId)
      .executeTakeFirst();
    if (!offer) return { ok: false as const, problem: "there is no such offer" };
    const withdrawn = await withdrawOffersIn(trx, ctx, { offerIds: [offerId] }, reason, true);
    if (withdrawn.length === 0)
      return {
        ok: false as const,
        problem: `it is ${OFFER_STATUS_LABELS[offerState(offer, ctx.clock.now())].toLowerCase()}`,
      };
    await recordAudit(trx, ctx, actor, {
      action: "offer.withdraw",
      subject: `${offer.company}: ${offer.role}`,
      details: { offerId, studentId: offer.student_id, reason, was: offer.status },
    });
    return { ok: true as const };
  });
  if (result.ok) signalQueued(ctx);
  return result;
}

/**
 * Pending offers past their answer time are recorded as lapsed (every page already reads them so:
 * `offerState`); run by the dispatchers' maintenance. A lapse changes no placement fact.
 */
export async function lapseOffers(ctx: Pick<AppContext, "db" | "clock">): Promise<number> {
  const now = ctx.clock.now().toISOString();
  const lapsed = await ctx.db
    .updateTable("offers")
    .set((eb) => ({ status: "lapsed", answered_at: eb.ref("answer_by"), updated_at: now }))
    .where("status", "=", "pending")
    .where("answer_by", "<=", now)
    .returning("id")
    .execute();
  return lapsed.length;
}

// ---- Reads. ----

export function offersOfStudent(ctx: Pick<AppContext, "db">, studentId: number) {
  return ctx.db
    .selectFrom("offers")
    .leftJoin("offer_letters", "offer_letters.offer_id", "offers.id")
    .selectAll("offers")
    .select("offer_letters.size as letter_size")
    .where("offers.student_id", "=", studentId)
    .orderBy("offers.created_at", "desc")
    .orderBy("offers.id", "desc")
    .execute();
}

export function offersOfJob(ctx: Pick<AppContext, "db">, jobId: number) {
  return ctx.db
    .selectFrom("offers")
    .innerJoin("students", "students.id", "offers.student_id")
    .leftJoin("offer_letters", "offer_letters.offer_id", "offers.id")
    .selectAll("offers")
    .select([
      "students.full_name",
      "students.roll_number",
      "students.department",
      "offer_letters.size as letter_size",
    ])
    .where("offers.job_id", "=", jobId)
    .orderBy("students.full_name")
    .orderBy("offers.id")
    .execute();
}

export const OFFERS_PAGE_SIZE = 50;

export interface OfferFilters {
  source: OfferSource | "";
  status: OfferStatus | "";
  page: number;
}

/** Every offer, newest first, by source and state. */
export async function listOffers(ctx: AppContext, filters: OfferFilters) {
  let query = ctx.db.selectFrom("offers").innerJoin("students", "students.id", "offers.student_id");
  if (filters.source) query = query.where("offers.source", "=", filters.source);
  const now = ctx.clock.now().toISOString();
  if (filters.status === "pending")
    query = query.where("offers.status", "=", "pending").where("offers.answer_by", ">", now);
  else if (filters.status === "lapsed")
    query = query.where((eb) =>
      eb.or([
        eb("offers.status", "=", "lapsed"),
        eb.and([eb("offers.status", "=", "pending"), eb("offers.answer_by", "<=", now)]),
      ]),
    );
  else if (filters.status) query = query.where("offers.status", "=", filters.status);
  const [rows, total] = await Promise.all([
    query
      .selectAll("offers")
      .select(["students.full_name", "students.roll_number", "students.department"])
      .orderBy("offers.created_at", "desc")
      .orderBy("offers.id", "desc")
      .limit(OFFERS_PAGE_SIZE)
      .offset((filters.page - 1) * OFFERS_PAGE_SIZE)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export async function findOffer(ctx: Pick<AppContext, "db">, offerId: number) {
  return ctx.db
    .selectFrom("offers")
    .innerJoin("students", "students.id", "offers.student_id")
    .leftJoin("offer_letters", "offer_letters.offer_id", "offers.id")
    .selectAll("offers")
    .select([
      "students.full_name",
      "students.roll_number",
      "students.department",
      "students.phone_e164",
      "students.sms_opted_out_at",
      "offer_letters.size as letter_size",
    ])
    .where("offers.id", "=", offerId)
    .executeTakeFirst();
}

// ---- Letters. ----

export async function putOfferLetter(
  ctx: AppContext,
  actor: Actor,
  offerId: number,
  data: Buffer,
  sha256: string,
): Promise<boolean> {
  return inTransaction(ctx.db, async (trx) => {
    const offer = await trx
      .selectFrom("offers")
      .select(["id", "company", "role"])
      .where("id", "=", offerId)
      .executeTakeFirst();
    if (!offer) return false;
    const row = {
      offer_id: offerId,
      content: data,
      size: data.length,
      sha256,
      uploaded_at: ctx.clock.now().toISOString(),
    };
    await trx
      .insertInto("offer_letters")
      .values(row)
      .onConflict((oc) =>
        oc.column("offer_id").doUpdateSet({
          content: data,
          size: data.length,
          sha256,
          uploaded_at: row.uploaded_at,
        }),
      )
      .execute();
    await recordAudit(trx, ctx, actor, {
      action: "offer.letter",
      subject: `${offer.company}: ${offer.role}`,
      details: { offerId, size: data.length },
    });
    return true;
  });
}

/** An offer's letter; with `studentId`, only if the offer is theirs. */
export function offerLetter(ctx: Pick<AppContext, "db">, offerId: number, studentId?: number) {
  return ctx.db
    .selectFrom("offer_letters")
    .innerJoin("offers", "offers.id", "offer_letters.offer_id")
    .select(["offer_letters.content", "offer_letters.size", "offers.company", "offers.student_id"])
    .where("offer_letters.offer_id", "=", offerId)
    .$if(studentId !== undefined, (q) => q.where("offers.student_id", "=", studentId!))
    .executeTakeFirst();
}
