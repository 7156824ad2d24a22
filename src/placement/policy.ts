import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from "kysely";
import { z } from "zod";
import type { DB, PlacementPoliciesTable, Student } from "../db/schema.ts";
import { plural } from "../web/format.ts";

/**
 * The college's placement policy, one per graduation year, as part of the one eligibility rule
 * (decision 006, decision 034): what a student who holds accepted offers may still apply to. Read
 * four ways like the rest of the rule: `placementReasons` (words for the student, and the apply
 * check), `placementAdmits` (the open-jobs snapshot's list), `placementStudentFilter` (SQL on
 * `students` for one job: the alert fan-out, the nudge, previews) and `placementJobFilter` (SQL on
 * `jobs` for one student). policy.test.ts holds the four equal over random seasons.
 *
 * A student with no accepted offer, no declined acceptance and not opted out is never held back by
 * the policy, so the pages read a policy only for those who are (`policyMatters`).
 */

export interface Tier {
  name: string;
  /** The lowest package of the tier, in lakh a year; the first tier starts at 0. */
  fromLpa: number;
}

export const PLACED_MAY_APPLY = ["none", "higher_tier", "multiple"] as const;
export type PlacedMayApply = (typeof PLACED_MAY_APPLY)[number];

export interface PlacementPolicy {
  graduationYear: number;
  /** How many offers a student may hold accepted; at that number only an upgrade is open. */
  maxAccepted: number;
  /** Lowest first, the first from 0. */
  tiers: Tier[];
  /** What a student at `maxAccepted` may still apply to: nothing, a higher tier, N times the pay. */
  placedMayApply: PlacedMayApply;
  /** With "multiple": a job must pay at least this many times the best accepted package. */
  packageMultiple: number | null;
  /** Declining an offer after accepting it ends campus placement. */
  blockOnDecline: boolean;
  /** Students holding an accepted pre-placement offer still take part in campus placement. */
  ppoInCampus: boolean;
}

/** What the policy reads of a student (kept on `students` by every offer write). */
export type PlacementFacts = Pick<
  Student,
  | "graduation_year"
  | "accepted_offers"
  | "best_offer_lpa"
  | "accepted_ppos"
  | "reneged_at"
  | "placement_opted_out_at"
>;

export type Policies = ReadonlyMap<number, PlacementPolicy>;

export const DEFAULT_TIERS: Tier[] = [
  { name: "Regular", fromLpa: 0 },
  { name: "Dream", fromLpa: 6 },
  { name: "Super dream", fromLpa: 12 },
];

/** Lakh a year in words: "7.5 LPA". */
export function formatLpa(lpa: number): string {
  return `${Number(lpa.toFixed(2))} LPA`;
}

/** The index of the tier a package falls in (the last whose floor it reaches). */
export function tierIndex(tiers: readonly Tier[], lpa: number): number {
  let index = 0;
  for (let i = 0; i < tiers.length; i++) if (lpa >= tiers[i]!.fromLpa) index = i;
  return index;
}

export function tierName(tiers: readonly Tier[], lpa: number | null): string {
  return lpa === null ? "No tier (package not known)" : tiers[tierIndex(tiers, lpa)]!.name;
}

/** Whether a job paying `jobLpa` is an upgrade the policy opens to a student whose best is `best`. */
export function isUpgrade(policy: PlacementPolicy, jobLpa: number | null, best: number): boolean {
  if (jobLpa === null) return false;
  switch (policy.placedMayApply) {
    case "none":
      return false;
    case "higher_tier":
      return tierIndex(policy.tiers, jobLpa) > tierIndex(policy.tiers, best);
    case "multiple":
      return jobLpa >= best * (policy.packageMultiple ?? 1);
  }
}

/** Whether the policy can hold this student back at all (else no policy need be read). */
export function policyMatters(student: PlacementFacts): boolean {
  return student.accepted_offers > 0 || student.reneged_at !== null || student.accepted_ppos > 0;
}

interface PlacementCheck {
  fails(policy: PlacementPolicy | undefined, jobLpa: number | null, s: PlacementFacts): boolean;
  reason(policy: PlacementPolicy, jobLpa: number | null, s: PlacementFacts): string;
}

const CHECKS: readonly PlacementCheck[] = [
  {
    fails: (_policy, _lpa, s) => s.placement_opted_out_at !== null,
    reason: () => "You opted out of campus placement (the placement office can change that)",
  },
  {
    fails: (policy, _lpa, s) => policy?.blockOnDecline === true && s.reneged_at !== null,
    reason: (policy) =>
      `You declined an offer after accepting it; under the ${policy.graduationYear} placement policy that ends campus placement`,
  },
  {
    fails: (policy, _lpa, s) => policy !== undefined && !policy.ppoInCampus && s.accepted_ppos > 0,
    reason: (policy) =>
      `You accepted a pre-placement offer; under the ${policy.graduationYear} placement policy PPO holders do not take part in campus placement`,
  },
  {
    fails: (policy, lpa, s) =>
      policy !== undefined &&
      s.accepted_offers >= policy.maxAccepted &&
      !isUpgrade(policy, lpa, s.best_offer_lpa ?? 0),
    reason: (policy, lpa, s) => {
      const best = s.best_offer_lpa ?? 0;
      const held = `You accepted an offer of ${formatLpa(best)}`;
      if (policy.placedMayApply === "none")
        return policy.maxAccepted === 1
          ? `${held}; the placement policy allows one accepted offer`
          : `${held}; you hold ${plural(s.accepted_offers, "accepted offer")}, the most the placement policy allows`;
      if (lpa === null) return `${held}; this job's package is not known, so it is no upgrade`;
      if (policy.placedMayApply === "higher_tier") {
        const mine = tierIndex(policy.tiers, best);
        const theirs = tierIndex(policy.tiers, lpa);
        return `${held} (${policy.tiers[mine]!.name}); this job is in ${
          theirs === mine ? "the same tier" : `a lower tier (${policy.tiers[theirs]!.name})`
        }`;
      }
      const multiple = policy.packageMultiple ?? 1;
      return `${held}; the placement policy opens only jobs paying at least ${multiple} times that (${formatLpa(best * multiple)})`;
    },
  },
];

/** Why the policy keeps this student from a job paying `jobLpa`; empty when it does not. */
export function placementReasons(
  policy: PlacementPolicy | undefined,
  jobLpa: number | null,
  student: PlacementFacts,
): string[] {
  return CHECKS.filter((c) => c.fails(policy, jobLpa, student)).map((c) =>
    c.reason(policy as PlacementPolicy, jobLpa, student),
  );
}

/** `placementReasons(...)` is empty, without the words. */
export function placementAdmits(
  policy: PlacementPolicy | undefined,
  jobLpa: number | null,
  student: PlacementFacts,
): boolean {
  for (const check of CHECKS) if (check.fails(policy, jobLpa, student)) return false;
  return true;
}

const never = sql<SqlBool>`1 = 0`;
const always = sql<SqlBool>`1 = 1`;

/** The policy as a WHERE condition on `students`, for one job paying `jobLpa`. */
export function placementStudentFilter(policies: Policies, jobLpa: number | null) {
  return (eb: ExpressionBuilder<DB, "students">): Expression<SqlBool> => {
    const perYear = [...policies.values()].map((policy) => {
      const holds: Expression<SqlBool>[] = [];
      if (policy.blockOnDecline) holds.push(eb("students.reneged_at", "is", null));
      if (!policy.ppoInCampus) holds.push(eb("students.accepted_ppos", "=", 0));
      const upgrade: Expression<SqlBool> =
        jobLpa === null || policy.placedMayApply === "none"
          ? never
          : policy.placedMayApply === "higher_tier"
            ? eb(
                "students.best_offer_lpa",
                "<",
                policy.tiers[tierIndex(policy.tiers, jobLpa)]!.fromLpa,
              )
            : eb(
                sql<number>`${sql.ref("students.best_offer_lpa")} * ${policy.packageMultiple ?? 1}`,
                "<=",
                jobLpa,
              );
      holds.push(eb.or([eb("students.accepted_offers", "<", policy.maxAccepted), upgrade]));
      return eb.and([eb("students.graduation_year", "=", policy.graduationYear), ...holds]);
    });
    const years = [...policies.keys()];
    return eb.and([
      eb("students.placement_opted_out_at", "is", null),
      years.length === 0
        ? always
        : eb.or([eb("students.graduation_year", "not in", years), ...perYear]),
    ]);
  };
}

/** The policy the other way round: a WHERE condition on `jobs` for one student. */
export function placementJobFilter(policy: PlacementPolicy | undefined, student: PlacementFacts) {
  return (eb: ExpressionBuilder<DB, "jobs">): Expression<SqlBool> => {
    if (student.placement_opted_out_at !== null) return never;
    if (policy === undefined) return always;
    if (policy.blockOnDecline && student.reneged_at !== null) return never;
    if (!policy.ppoInCampus && student.accepted_ppos > 0) return never;
    if (student.accepted_offers < policy.maxAccepted) return always;
    const best = student.best_offer_lpa ?? 0;
    if (policy.placedMayApply === "none") return never;
    if (policy.placedMayApply === "multiple")
      return eb("jobs.package_lpa", ">=", best * (policy.packageMultiple ?? 1));
    const next = policy.tiers[tierIndex(policy.tiers, best) + 1];
    return next === undefined ? never : eb("jobs.package_lpa", ">=", next.fromLpa);
  };
}

export function policyOfRow(row: PlacementPoliciesTable): PlacementPolicy {
  return {
    graduationYear: row.graduation_year,
    maxAccepted: row.max_accepted,
    tiers: tiersSchema.parse(JSON.parse(row.tiers)),
    placedMayApply: row.placed_may_apply,
    packageMultiple: row.package_multiple,
    blockOnDecline: row.block_on_decline === 1,
    ppoInCampus: row.ppo_in_campus === 1,
  };
}

export const tiersSchema = z
  .array(z.object({ name: z.string().min(1).max(40), fromLpa: z.number().min(0).max(1000) }))
  .min(1)
  .max(6)
  .refine((tiers) => tiers[0]!.fromLpa === 0, "The first tier starts at 0 LPA.")
  .refine(
    (tiers) => tiers.every((t, i) => i === 0 || t.fromLpa > tiers[i - 1]!.fromLpa),
    "Each tier starts above the one before it.",
  );

/** Every year's policy. */
export async function loadPolicies(db: Kysely<DB>): Promise<Policies> {
  const rows = await db.selectFrom("placement_policies").selectAll().execute();
  return new Map(rows.map((row) => [row.graduation_year, policyOfRow(row)]));
}

/** One year's policy, if the office set one. */
export async function policyFor(
  db: Kysely<DB>,
  graduationYear: number,
): Promise<PlacementPolicy | undefined> {
  const row = await db
    .selectFrom("placement_policies")
    .selectAll()
    .where("graduation_year", "=", graduationYear)
    .executeTakeFirst();
  return row ? policyOfRow(row) : undefined;
}

/** The student's policy, read only when it can hold them back. */
export async function policyForStudent(
  db: Kysely<DB>,
  student: PlacementFacts,
): Promise<PlacementPolicy | undefined> {
  return policyMatters(student) ? policyFor(db, student.graduation_year) : undefined;
}

/** The policy in sentences, for its page and the confirmation of accepting an offer. */
export function describePolicy(policy: PlacementPolicy): string[] {
  const tiers = policy.tiers
    .map((t, i) => {
      const next = policy.tiers[i + 1];
      return next
        ? `${t.name} from ${formatLpa(t.fromLpa)} to below ${formatLpa(next.fromLpa)}`
        : `${t.name} from ${formatLpa(t.fromLpa)}`;
    })
    .join("; ");
  const atLimit =
    policy.placedMayApply === "none"
      ? "may apply to no more campus jobs"
      : policy.placedMayApply === "higher_tier"
        ? "may apply only to jobs in a higher tier than their best accepted offer"
        : `may apply only to jobs paying at least ${policy.packageMultiple ?? 1} times their best accepted offer`;
  return [
    `A student may hold ${plural(policy.maxAccepted, "accepted offer")}; one who does ${atLimit}.`,
    `Tiers: ${tiers}.`,
    policy.blockOnDecline
      ? "Declining an offer after accepting it ends campus placement."
      : "Declining an offer after accepting it does not end campus placement.",
    policy.ppoInCampus
      ? "Students who accepted a pre-placement offer take part in campus placement like the others."
      : "Students who accepted a pre-placement offer take no part in campus placement.",
  ];
}
