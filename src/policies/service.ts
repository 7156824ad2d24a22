import type { Kysely } from "kysely";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockForUpdate } from "../db/dialect.ts";
import type { DB, PlacementPoliciesTable } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { openJobsSnapshot, type SnapshotJob } from "../jobs/open-jobs.ts";
import { withRules } from "../jobs/service.ts";
import { jobIneligibilityReasons, meetsRules } from "../placement/eligibility.ts";
import {
  type PlacementFacts,
  type PlacementPolicy,
  placementAdmits,
  policyMatters,
  policyOfRow,
} from "../placement/policy.ts";
import { jobName } from "../web/format.ts";

/**
 * The office's placement policy, one per graduation year (issue 24): listed, previewed before it
 * applies (who it makes ineligible for which open job, who eligible again), saved and removed,
 * each audited. Two admins changing the same year at once never overwrite each other: every
 * change carries the `updated_at` of the policy its form showed, and the one statement that
 * writes (`UPDATE ... WHERE updated_at = ?`, `INSERT ... ON CONFLICT DO NOTHING`,
 * `DELETE ... WHERE updated_at = ?`) changes nothing when another change came first.
 */

/** The graduation years a policy page exists for (the years the portal stores). */
export const POLICY_YEARS = { min: 1991, max: 2099 } as const;

/** A year written plainly in an address ("2027"); null for anything else (a 404). */
export function policyYear(text: string): number | null {
  if (!/^[12][0-9]{3}$/.test(text)) return null;
  const year = Number(text);
  return year >= POLICY_YEARS.min && year <= POLICY_YEARS.max ? year : null;
}

/** A year's policy as stored, with who set it and when (the `updated_at` a change must carry). */
export interface StoredPolicy {
  policy: PlacementPolicy;
  updatedAt: string;
  updatedBy: string | null;
}

function storedOf(row: PlacementPoliciesTable & { email: string | null }): StoredPolicy {
  return { policy: policyOfRow(row), updatedAt: row.updated_at, updatedBy: row.email };
}

function policiesWithAuthor(db: Kysely<DB>) {
  return db
    .selectFrom("placement_policies")
    .leftJoin("users", "users.id", "placement_policies.updated_by")
    .selectAll("placement_policies")
    .select("users.email");
}

export async function storedPolicy(
  ctx: Pick<AppContext, "db">,
  year: number,
): Promise<StoredPolicy | null> {
  const row = await policiesWithAuthor(ctx.db)
    .where("placement_policies.graduation_year", "=", year)
    .executeTakeFirst();
  return row ? storedOf(row) : null;
}

export interface PolicyYear {
  year: number;
  /** Approved students of the year, and those of them the policy can hold back now. */
  students: number;
  placed: number;
  stored: StoredPolicy | null;
}

/** Every year that has students or a policy, the latest first. */
export async function policyYears(ctx: Pick<AppContext, "db">): Promise<PolicyYear[]> {
  const [counts, policies] = await Promise.all([
    ctx.db
      .selectFrom("students")
      .select((eb) => [
        "graduation_year",
        eb.fn
          .sum<number>(eb.case().when("approved_at", "is not", null).then(1).else(0).end())
          .as("approved"),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(
                eb.and([
                  eb("approved_at", "is not", null),
                  eb.or([
                    eb("accepted_offers", ">", 0),
                    eb("accepted_ppos", ">", 0),
                    eb("reneged_at", "is not", null),
                  ]),
                ]),
              )
              .then(1)
              .else(0)
              .end(),
          )
          .as("placed"),
      ])
      .groupBy("graduation_year")
      .execute(),
    policiesWithAuthor(ctx.db).execute(),
  ]);
  const years = new Map<number, PolicyYear>();
  for (const c of counts)
    years.set(c.graduation_year, {
      year: c.graduation_year,
      students: Number(c.approved ?? 0),
      placed: Number(c.placed ?? 0),
      stored: null,
    });
  for (const row of policies) {
    const year = years.get(row.graduation_year) ?? {
      year: row.graduation_year,
      students: 0,
      placed: 0,
      stored: null,
    };
    year.stored = storedOf(row);
    years.set(row.graduation_year, year);
  }
  return [...years.values()].sort((a, b) => b.year - a.year);
}

// ---------------------------------------------------------------------------------------------
// The preview: what a change does to the open jobs' audiences

/** One student made ineligible (or eligible again) for one job, with the reason in words. */
export interface EffectExample {
  rollNumber: string;
  name: string;
  job: string;
  reason: string;
}

export interface EffectSide {
  students: number;
  jobs: number;
  /** Student-job pairs. */
  pairs: number;
  examples: EffectExample[];
}

export interface PolicyEffect {
  /** The open jobs taking applications that this year's students may see, and the students read. */
  openJobs: number;
  studentsRead: number;
  /** Eligible before, not after. */
  ineligible: EffectSide;
  /** Not eligible before, eligible after. */
  eligibleAgain: EffectSide;
  /** Time the preview took, in milliseconds. */
  ms: number;
}

/** Examples shown per side, at most one per student. */
export const EFFECT_EXAMPLES = 8;

type EffectStudent = PlacementFacts & {
  id: number;
  roll_number: string;
  full_name: string;
  department: string;
  cgpa: number;
  active_backlogs: number;
  semester: number | null;
};

/** The approved students of a year that a policy can hold back (`policyMatters`), by roll number. */
async function studentsThePolicyReads(
  ctx: Pick<AppContext, "db">,
  year: number,
): Promise<EffectStudent[]> {
  const rows = await ctx.db
    .selectFrom("students")
    .select([
      "id",
      "roll_number",
      "full_name",
      "department",
      "cgpa",
      "active_backlogs",
      "semester",
      "graduation_year",
      "accepted_offers",
      "best_offer_lpa",
      "accepted_ppos",
      "reneged_at",
      "placement_opted_out_at",
    ])
    .where("graduation_year", "=", year)
    .where("approved_at", "is not", null)
    // Opted out: no policy admits them, before or after; nobody else can change either.
    .where("placement_opted_out_at", "is", null)
    .where((eb) =>
      eb.or([
        eb("accepted_offers", ">", 0),
        eb("accepted_ppos", ">", 0),
        eb("reneged_at", "is not", null),
      ]),
    )
    .orderBy("roll_number")
    .execute();
  return rows.filter(policyMatters);
}

/**
 * The whole rule (`meetsJob`: the job's rules, then the policy) under `before` and `after`, for
 * every open job taking applications (from the open-jobs snapshot) and every approved student of
 * the year the policy can hold back: the others are eligible or not whatever the policy says.
 */
export async function policyEffect(
  ctx: Pick<AppContext, "db" | "clock">,
  year: number,
  before: PlacementPolicy | undefined,
  after: PlacementPolicy | undefined,
): Promise<PolicyEffect> {
  const started = performance.now();
  const nowMs = ctx.clock.now().getTime();
  const [snapshot, students] = await Promise.all([
    openJobsSnapshot(ctx, (jobs) => withRules(ctx, jobs)),
    studentsThePolicyReads(ctx, year),
  ]);
  const jobs: readonly SnapshotJob[] = snapshot.jobs.filter(
    (job) =>
      job.applyByMs > nowMs &&
      (job.rules.graduationYears.length === 0 || job.rules.graduationYears.includes(year)),
  );
  const side = () => ({
    students: new Set<number>(),
    jobs: new Set<number>(),
    pairs: 0,
    examples: [] as EffectExample[],
  });
  const lost = side();
  const gained = side();
  // The policy reads only a job's package: jobs of one package stand or fall together, so each
  // student's policy is read once per package, and the job's rules only where the answer changes.
  const byPackage = new Map<number | null, SnapshotJob[]>();
  for (const job of jobs) {
    const same = byPackage.get(job.package_lpa);
    if (same) same.push(job);
    else byPackage.set(job.package_lpa, [job]);
  }
  for (const student of students) {
    for (const [lpa, ofPackage] of byPackage) {
      const was = placementAdmits(before, lpa, student);
      if (was === placementAdmits(after, lpa, student)) continue;
      const into = was ? lost : gained;
      for (const job of ofPackage) {
        if (!meetsRules(job.rules, student)) continue;
        into.pairs += 1;
        into.jobs.add(job.id);
        if (into.students.has(student.id)) continue;
        into.students.add(student.id);
        if (into.examples.length < EFFECT_EXAMPLES)
          into.examples.push({
            rollNumber: student.roll_number,
            name: student.full_name,
            job: jobName(job),
            reason: jobIneligibilityReasons(job, was ? after : before, student).join("; "),
          });
      }
    }
  }
  const done = (s: ReturnType<typeof side>): EffectSide => ({
    students: s.students.size,
    jobs: s.jobs.size,
    pairs: s.pairs,
    examples: s.examples,
  });
  return {
    openJobs: jobs.length,
    studentsRead: students.length,
    ineligible: done(lost),
    eligibleAgain: done(gained),
    ms: performance.now() - started,
  };
}

// ---------------------------------------------------------------------------------------------
// Saving and removing, guarded by the `updated_at` the form showed

/** Whether two policies say the same. */
export function samePolicy(a: PlacementPolicy | undefined, b: PlacementPolicy | undefined) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** A time strictly after `previous`: a change never carries the `updated_at` of the one before. */
function nextUpdatedAt(now: Date, previous: string | undefined): string {
  const prev = previous === undefined ? Number.NEGATIVE_INFINITY : Date.parse(previous);
  return new Date(Math.max(now.getTime(), prev + 1)).toISOString();
}

function columnsOf(policy: PlacementPolicy) {
  return {
    max_accepted: policy.maxAccepted,
    tiers: JSON.stringify(policy.tiers),
    placed_may_apply: policy.placedMayApply,
    package_multiple: policy.placedMayApply === "multiple" ? policy.packageMultiple : null,
    block_on_decline: policy.blockOnDecline ? 1 : 0,
    ppo_in_campus: policy.ppoInCampus ? 1 : 0,
  };
}

export type PolicyChange =
  | { ok: true; before: PlacementPolicy | undefined }
  /** Another change came first: nothing was written; `current` is the policy now. */
  | { ok: false; current: StoredPolicy | null };

/** The subject of a policy's audit entries. */
export const policySubject = (year: number) => `Placement policy of the ${year} batch`;

/**
 * Sets a year's policy, if it is still the one the form showed (`base`: its `updated_at`, null
 * when there was none). The statement that writes decides: an UPDATE of the row whose
 * `updated_at` is `base`, or an INSERT that does nothing when a row exists; when it writes
 * nothing, another change came first and nothing is done. Audited with the old and new policy.
 */
export async function savePolicy(
  ctx: Pick<AppContext, "db" | "dialect" | "clock">,
  actor: Actor,
  policy: PlacementPolicy,
  base: string | null,
): Promise<PolicyChange> {
  const year = policy.graduationYear;
  return inTransaction(ctx.db, async (trx) => {
    // Read (and on PostgreSQL held) for the audit's "from"; the guarded write below decides.
    const row = await lockForUpdate(
      trx.selectFrom("placement_policies").selectAll().where("graduation_year", "=", year),
      ctx.dialect,
    ).executeTakeFirst();
    const updatedAt = nextUpdatedAt(ctx.clock.now(), row?.updated_at);
    const written =
      base === null
        ? await trx
            .insertInto("placement_policies")
            .values({
              graduation_year: year,
              ...columnsOf(policy),
              updated_by: actor.id,
              updated_at: updatedAt,
            })
            .onConflict((oc) => oc.column("graduation_year").doNothing())
            .returning("graduation_year")
            .executeTakeFirst()
        : await trx
            .updateTable("placement_policies")
            .set({ ...columnsOf(policy), updated_by: actor.id, updated_at: updatedAt })
            .where("graduation_year", "=", year)
            .where("updated_at", "=", base)
            .returning("graduation_year")
            .executeTakeFirst();
    if (!written) return { ok: false, current: await storedPolicy({ db: trx }, year) };
    const before = row ? policyOfRow(row) : undefined;
    await recordAudit(trx, ctx, actor, {
      action: before ? "placement_policy.edit" : "placement_policy.set",
      subject: policySubject(year),
      details: { graduationYear: year, from: before ?? null, to: policy },
    });
    return { ok: true, before };
  });
}

/** Removes a year's policy, if it is still the one the page showed (`base`); audited. */
export async function removePolicy(
  ctx: Pick<AppContext, "db" | "dialect" | "clock">,
  actor: Actor,
  year: number,
  base: string,
): Promise<PolicyChange> {
  return inTransaction(ctx.db, async (trx) => {
    const row = await lockForUpdate(
      trx.selectFrom("placement_policies").selectAll().where("graduation_year", "=", year),
      ctx.dialect,
    ).executeTakeFirst();
    const removed = await trx
      .deleteFrom("placement_policies")
      .where("graduation_year", "=", year)
      .where("updated_at", "=", base)
      .returning("graduation_year")
      .executeTakeFirst();
    if (!removed || !row) return { ok: false, current: await storedPolicy({ db: trx }, year) };
    const before = policyOfRow(row);
    await recordAudit(trx, ctx, actor, {
      action: "placement_policy.remove",
      subject: policySubject(year),
      details: { graduationYear: year, from: before, to: null },
    });
    return { ok: true, before };
  });
}
