import type { ExpressionBuilder } from "kysely";
import type { DB, Job } from "../db/schema.ts";
import { formatCgpa, plural } from "../web/format.ts";
import { isOpenForApplications } from "./open.ts";
import {
  type PlacementFacts,
  type PlacementPolicy,
  type Policies,
  placementAdmits,
  placementJobFilter,
  placementReasons,
  placementStudentFilter,
} from "./policy.ts";

/**
 * Who may apply to a job. One rule, `CHECKS`, read four ways: `ineligibilityReasons` explains it
 * to a student (and is checked again at apply time); `eligibleStudentFilter` selects the same
 * students in SQL (a job's alert and its preview, an announcement's audience); the open-jobs
 * snapshot builds its bit sets from each check's `fails` (jobs/open-jobs.ts); and
 * `jobAcceptsStudent` selects in SQL the jobs one student may apply to when their "Only jobs I
 * can apply to" list is searched. Tests hold them to the same answers.
 */

export interface EligibilityRules {
  departments: string[];
  graduationYears: number[];
  semesters: number[];
  minCgpa: number | null;
  maxBacklogs: number | null;
}

export interface StudentFacts {
  department: string;
  cgpa: number;
  active_backlogs: number;
  graduation_year: number;
  semester: number | null;
}

function list(values: (string | number)[]): string {
  return values.join(", ");
}

export const MISSING_SEMESTER_REASON = "Add your semester in your profile to apply";

/**
 * The rule, one check per part: whether the student fails it, and the words that say why. Both
 * TypeScript readings below walk this one list.
 */
export interface EligibilityCheck {
  fails(rules: EligibilityRules, student: StudentFacts): boolean;
  reason(rules: EligibilityRules, student: StudentFacts): string;
}

export const CHECKS: readonly EligibilityCheck[] = [
  {
    fails: (rules, student) =>
      rules.departments.length > 0 && !rules.departments.includes(student.department),
    reason: (rules) => `Only for ${list(rules.departments)}`,
  },
  {
    fails: (rules, student) => rules.minCgpa !== null && student.cgpa < rules.minCgpa,
    reason: (rules) => `CGPA below ${formatCgpa(rules.minCgpa!)}`,
  },
  {
    fails: (rules, student) =>
      rules.maxBacklogs !== null && student.active_backlogs > rules.maxBacklogs,
    reason: (rules) =>
      rules.maxBacklogs === 0
        ? "No active backlogs allowed"
        : `More than ${plural(rules.maxBacklogs!, "active backlog")}`,
  },
  {
    fails: (rules, student) =>
      rules.graduationYears.length > 0 && !rules.graduationYears.includes(student.graduation_year),
    reason: (rules) =>
      `Only for the ${list(rules.graduationYears)} batch${rules.graduationYears.length > 1 ? "es" : ""}`,
  },
  {
    // A blank semester is not in any list (SQL: NULL IN (...) is not true), so every reading
    // leaves the student out; the student is told what to do about it instead of a bare "only for".
    fails: (rules, student) =>
      rules.semesters.length > 0 &&
      (student.semester === null || !rules.semesters.includes(student.semester)),
    reason: (rules, student) =>
      student.semester === null
        ? MISSING_SEMESTER_REASON
        : `Only for semester${rules.semesters.length > 1 ? "s" : ""} ${list(rules.semesters)}`,
  },
];

/** Why this student may not apply; empty when they may (as far as the rules go). */
export function ineligibilityReasons(rules: EligibilityRules, student: StudentFacts): string[] {
  return CHECKS.filter((check) => check.fails(rules, student)).map((check) =>
    check.reason(rules, student),
  );
}

/**
 * Whether the student may apply (as far as the rules go): `ineligibilityReasons(...)` is empty,
 * without building the words. The reference the open-jobs bit sets are tested against
 * (eligibility-index.unit.test.ts).
 */
export function meetsRules(rules: EligibilityRules, student: StudentFacts): boolean {
  for (const check of CHECKS) if (check.fails(rules, student)) return false;
  return true;
}

/** Why nobody may apply right now (closed, deadline passed); empty when the job takes applications. */
export function closedReasons(job: Pick<Job, "status" | "apply_by">, now: Date): string[] {
  if (isOpenForApplications(job, now)) return [];
  return job.status === "closed" ? ["Applications are closed"] : ["Deadline passed"];
}

/** The same rules as a WHERE condition on `students`. */
export function eligibleStudentFilter(rules: EligibilityRules) {
  return (eb: ExpressionBuilder<DB, "students">) => {
    const conditions = [eb("students.approved_at", "is not", null)];
    if (rules.departments.length > 0)
      conditions.push(eb("students.department", "in", rules.departments));
    if (rules.minCgpa !== null) conditions.push(eb("students.cgpa", ">=", rules.minCgpa));
    if (rules.maxBacklogs !== null)
      conditions.push(eb("students.active_backlogs", "<=", rules.maxBacklogs));
    if (rules.graduationYears.length > 0)
      conditions.push(eb("students.graduation_year", "in", rules.graduationYears));
    if (rules.semesters.length > 0) conditions.push(eb("students.semester", "in", rules.semesters));
    return eb.and(conditions);
  };
}

/** A job as far as who may apply to it goes: its rules and the package its tier is read from. */
export interface JobEligibility {
  rules: EligibilityRules;
  package_lpa: number | null;
}

/**
 * The whole rule for one job and one student: the job's rules, then the placement policy of the
 * student's year (`policy`: undefined when none applies or the student holds no offer).
 */
export function jobIneligibilityReasons(
  job: JobEligibility,
  policy: PlacementPolicy | undefined,
  student: StudentFacts & PlacementFacts,
): string[] {
  return [
    ...ineligibilityReasons(job.rules, student),
    ...placementReasons(policy, job.package_lpa, student),
  ];
}

/** `jobIneligibilityReasons(...)` is empty, without the words. */
export function meetsJob(
  job: JobEligibility,
  policy: PlacementPolicy | undefined,
  student: StudentFacts & PlacementFacts,
): boolean {
  return meetsRules(job.rules, student) && placementAdmits(policy, job.package_lpa, student);
}

/** The whole rule for one job in SQL: the approved students it takes under every year's policy. */
export function jobAudienceFilter(job: JobEligibility, policies: Policies) {
  return (eb: ExpressionBuilder<DB, "students">) =>
    eb.and([
      eligibleStudentFilter(job.rules)(eb),
      placementStudentFilter(policies, job.package_lpa)(eb),
    ]);
}

/** The whole rule for one student in SQL: the jobs that take them, under their year's policy. */
export function jobsTakingStudent(
  student: StudentFacts & PlacementFacts,
  policy: PlacementPolicy | undefined,
) {
  return (eb: ExpressionBuilder<DB, "jobs">) =>
    eb.and([jobAcceptsStudent(student)(eb), placementJobFilter(policy, student)(eb)]);
}

/** The same rules the other way round: a WHERE condition on `jobs` for one student's facts. */
export function jobAcceptsStudent(student: StudentFacts) {
  return (eb: ExpressionBuilder<DB, "jobs">) => {
    // No row for a job in a list table means "every department / year / semester".
    const listRule = (
      table: "job_departments" | "job_graduation_years" | "job_semesters",
      matching: ReturnType<typeof eb.exists>,
    ) =>
      eb.or([
        eb.not(eb.exists(eb.selectFrom(table).select("job_id").whereRef("job_id", "=", "jobs.id"))),
        matching,
      ]);
    return eb.and([
      eb.or([eb("jobs.min_cgpa", "is", null), eb("jobs.min_cgpa", "<=", student.cgpa)]),
      eb.or([
        eb("jobs.max_backlogs", "is", null),
        eb("jobs.max_backlogs", ">=", student.active_backlogs),
      ]),
      listRule(
        "job_departments",
        eb.exists(
          eb
            .selectFrom("job_departments")
            .select("job_id")
            .whereRef("job_departments.job_id", "=", "jobs.id")
            .where("job_departments.department", "=", student.department),
        ),
      ),
      listRule(
        "job_graduation_years",
        eb.exists(
          eb
            .selectFrom("job_graduation_years")
            .select("job_id")
            .whereRef("job_graduation_years.job_id", "=", "jobs.id")
            .where("job_graduation_years.graduation_year", "=", student.graduation_year),
        ),
      ),
      // A student with no semester on record matches only jobs with no semester rule.
      student.semester === null
        ? eb.not(
            eb.exists(
              eb
                .selectFrom("job_semesters")
                .select("job_id")
                .whereRef("job_semesters.job_id", "=", "jobs.id"),
            ),
          )
        : listRule(
            "job_semesters",
            eb.exists(
              eb
                .selectFrom("job_semesters")
                .select("job_id")
                .whereRef("job_semesters.job_id", "=", "jobs.id")
                .where("job_semesters.semester", "=", student.semester),
            ),
          ),
    ]);
  };
}

export function describeRules(rules: EligibilityRules): string[] {
  const lines: string[] = [];
  lines.push(
    rules.departments.length > 0 ? `Departments: ${list(rules.departments)}` : "Departments: all",
  );
  if (rules.minCgpa !== null) lines.push(`Minimum CGPA: ${formatCgpa(rules.minCgpa)}`);
  if (rules.maxBacklogs !== null) lines.push(`Maximum active backlogs: ${rules.maxBacklogs}`);
  if (rules.graduationYears.length > 0)
    lines.push(`Graduation year: ${list(rules.graduationYears)}`);
  if (rules.semesters.length > 0) lines.push(`Semester: ${list(rules.semesters)}`);
  return lines;
}

export const noRules: EligibilityRules = {
  departments: [],
  graduationYears: [],
  semesters: [],
  minCgpa: null,
  maxBacklogs: null,
};
