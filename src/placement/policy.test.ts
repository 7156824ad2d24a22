// @both-databases: the policy's SQL readings (arithmetic on doubles, NOT IN, nulls) per dialect.
import fc from "fast-check";
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import { useTestApp } from "#test/support/app.ts";
import type { DB } from "../db/schema.ts";
import {
  type EligibilityRules,
  ineligibilityReasons,
  jobAudienceFilter,
  jobIneligibilityReasons,
  jobsTakingStudent,
  meetsJob,
  noRules,
} from "./eligibility.ts";
import { type PlacementPolicy, placementReasons, type Tier, tierIndex } from "./policy.ts";

/**
 * The placement policy is part of the one eligibility rule: over random seasons (policies per
 * year, students' accepted offers, declines and PPOs), the TypeScript reading with its words, the
 * snapshot's yes/no, the SQL on students for each job and the SQL on jobs for each student pick
 * the same pairs. The jobs' packages sit on and around the tier floors and the multiples.
 */

const t = useTestApp();

const YEARS = [2026, 2027, 2028];
const DEPARTMENTS = ["CSE", "ECE", "ME"];
const STUDENTS = 30;
// Packages on, just under and away from the floors used below, and multiples of 7.5 and 5.
const JOB_PACKAGES: (number | null)[] = [null, 3, 5.99, 6, 7.5, 9, 11.25, 12, 15, 22.5, 30];
const RUNS = 40;
const SEED = 240;

const tiersArb: fc.Arbitrary<Tier[]> = fc.constantFrom(
  [{ name: "Regular", fromLpa: 0 }],
  [
    { name: "Regular", fromLpa: 0 },
    { name: "Dream", fromLpa: 6 },
    { name: "Super dream", fromLpa: 12 },
  ],
  [
    { name: "Open", fromLpa: 0 },
    { name: "Core", fromLpa: 7.5 },
    { name: "Premium", fromLpa: 15 },
    { name: "Marquee", fromLpa: 22.5 },
  ],
);

const policyArb = (graduationYear: number): fc.Arbitrary<PlacementPolicy> =>
  fc.record({
    graduationYear: fc.constant(graduationYear),
    maxAccepted: fc.integer({ min: 1, max: 2 }),
    tiers: tiersArb,
    placedMayApply: fc.constantFrom("none", "higher_tier", "multiple") as fc.Arbitrary<
      PlacementPolicy["placedMayApply"]
    >,
    packageMultiple: fc.constantFrom(1, 1.5, 2),
    blockOnDecline: fc.boolean(),
    ppoInCampus: fc.boolean(),
  });

const factsArb = fc
  .record({
    graduation_year: fc.constantFrom(...YEARS),
    department: fc.constantFrom(...DEPARTMENTS),
    cgpa: fc.constantFrom(6, 7, 8.5),
    accepted_offers: fc.integer({ min: 0, max: 3 }),
    best: fc.constantFrom(3, 5, 6, 7.5, 10, 12, 15, 20),
    ppos: fc.integer({ min: 0, max: 1 }),
    reneged: fc.boolean(),
    optedOut: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  })
  .map((f) => ({
    graduation_year: f.graduation_year,
    department: f.department,
    cgpa: f.cgpa,
    accepted_offers: f.accepted_offers,
    best_offer_lpa: f.accepted_offers > 0 ? f.best : null,
    accepted_ppos: Math.min(f.ppos, f.accepted_offers),
    reneged_at: f.reneged ? "2026-11-01T00:00:00.000Z" : null,
    placement_opted_out_at: f.optedOut ? "2026-11-02T00:00:00.000Z" : null,
  }));

const seasonArb = fc.record({
  policies: fc.tuple(
    ...YEARS.map((year) => fc.option(policyArb(year), { nil: undefined, freq: 4 })),
  ),
  students: fc.array(factsArb, { minLength: STUDENTS, maxLength: STUDENTS }),
});

async function insertPool(db: Kysely<DB>) {
  const now = new Date().toISOString();
  const studentIds: number[] = [];
  for (let i = 0; i < STUDENTS; i++) {
    const user = await db
      .insertInto("users")
      .values({
        email: `policy${i}@college.test`,
        password_hash: "x",
        role: "student",
        created_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const student = await db
      .insertInto("students")
      .values({
        user_id: user.id,
        full_name: `Student ${i}`,
        roll_number: `POL${i}`,
        phone_e164: `+9198765${String(43000 + i).padStart(5, "0")}`,
        department: "CSE",
        semester: 7,
        graduation_year: 2027,
        cgpa: 8,
        active_backlogs: 0,
        skills: "",
        // Every fourth one is not approved: no job takes them, whatever the policy.
        approved_at: i % 4 === 3 ? null : now,
        approved_by: null,
        sms_opted_out_at: null,
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    studentIds.push(student.id);
  }
  const jobs: { id: number; rules: EligibilityRules; package_lpa: number | null }[] = [];
  for (const [i, lpa] of JOB_PACKAGES.entries()) {
    // Half the jobs limit the department or the CGPA, so the job's rules and the policy combine.
    const rules: EligibilityRules = {
      ...noRules,
      departments: i % 3 === 1 ? ["CSE", "ECE"] : [],
      minCgpa: i % 4 === 2 ? 7 : null,
    };
    const job = await db
      .insertInto("jobs")
      .values({
        company: `Company ${i}`,
        title: "Engineer",
        type: "placement",
        description: "",
        location: "Pune",
        package_range: lpa === null ? "Best in industry" : `${lpa} LPA`,
        package_lpa: lpa,
        official_link: null,
        min_cgpa: rules.minCgpa,
        max_backlogs: null,
        apply_by: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        status: "open",
        submission_id: null,
        posted_by: null,
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (rules.departments.length > 0)
      await db
        .insertInto("job_departments")
        .values(rules.departments.map((department) => ({ job_id: job.id, department })))
        .execute();
    jobs.push({ id: job.id, rules, package_lpa: lpa });
  }
  return { studentIds, jobs };
}

describe("the placement policy in the eligibility rule", () => {
  it("is read alike in TypeScript and in SQL, both ways, over random seasons", async () => {
    const db = t.ctx.db;
    const { studentIds, jobs } = await insertPool(db);
    const reached = new Map<string, number>();
    const count = (what: string) => reached.set(what, (reached.get(what) ?? 0) + 1);

    await fc.assert(
      fc.asyncProperty(seasonArb, async (season) => {
        const policies = new Map(
          season.policies.flatMap((p) => (p ? [[p.graduationYear, p] as const] : [])),
        );
        for (const [i, facts] of season.students.entries())
          await db.updateTable("students").set(facts).where("id", "=", studentIds[i]!).execute();
        const students = await db
          .selectFrom("students")
          .selectAll()
          .where("id", "in", studentIds)
          .orderBy("id")
          .execute();

        // For each job: the students SQL selects are those the words find nothing against.
        for (const job of jobs) {
          const expected = students
            .filter((s) => {
              const policy = policies.get(s.graduation_year);
              const words = jobIneligibilityReasons(job, policy, s);
              expect(meetsJob(job, policy, s)).toBe(words.length === 0);
              if (ineligibilityReasons(job.rules, s).length === 0) {
                const held = placementReasons(policy, job.package_lpa, s);
                for (const w of held) count(w.replace(/[0-9.]+ LPA|\d{4}|\(.*?\)/g, "#"));
                if (policy && s.accepted_offers >= policy.maxAccepted && held.length === 0)
                  count(`upgrade open: ${policy.placedMayApply}`);
              }
              return s.approved_at !== null && words.length === 0;
            })
            .map((s) => s.id);
          const selected = await db
            .selectFrom("students")
            .select("id")
            .where("id", "in", studentIds)
            .where(jobAudienceFilter(job, policies))
            .orderBy("id")
            .execute();
          expect(selected.map((s) => s.id)).toEqual(expected);
        }

        // For each student: the jobs SQL finds are those the words find nothing against.
        for (const s of students) {
          const policy = policies.get(s.graduation_year);
          const expected = jobs
            .filter((job) => jobIneligibilityReasons(job, policy, s).length === 0)
            .map((j) => j.id);
          const found = await db
            .selectFrom("jobs")
            .select("id")
            .where(
              "id",
              "in",
              jobs.map((j) => j.id),
            )
            .where(jobsTakingStudent(s, policy))
            .orderBy("id")
            .execute();
          expect(found.map((j) => j.id)).toEqual(expected);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );

    // The property reached every way the policy holds a student back, and every way it lets an
    // upgrade through (a property that never met a case proves nothing about it).
    const keys = [...reached.keys()].join("\n");
    for (const needle of [
      "opted out",
      "ends campus placement",
      "PPO holders",
      "allows one accepted offer",
      "the most the placement policy allows",
      "not known",
      "the same tier",
      "a lower tier",
      "times that",
      "upgrade open: higher_tier",
      "upgrade open: multiple",
    ])
      expect(keys, needle).toContain(needle);
  }, 180_000);

  it("places packages in tiers by their floors", () => {
    const tiers = [
      { name: "Regular", fromLpa: 0 },
      { name: "Dream", fromLpa: 6 },
      { name: "Super dream", fromLpa: 12 },
    ];
    expect([0, 5.99, 6, 11.99, 12, 40].map((lpa) => tierIndex(tiers, lpa))).toEqual([
      0, 0, 1, 1, 2, 2,
    ]);
  });
});
