import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EligibilityRules, meetsRules, type StudentFacts } from "../placement/eligibility.ts";
import {
  countBitsFrom,
  EligibilityIndex,
  firstOpenIndex,
  hasBit,
  type SnapshotJob,
} from "./open-jobs.ts";

const DEPARTMENTS = ["CSE", "ECE", "ME", "ISE"];
const rules: fc.Arbitrary<EligibilityRules> = fc.record({
  departments: fc.uniqueArray(fc.constantFrom(...DEPARTMENTS), { maxLength: 3 }),
  graduationYears: fc.uniqueArray(fc.integer({ min: 2026, max: 2028 }), { maxLength: 2 }),
  semesters: fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 3 }),
  minCgpa: fc.option(fc.integer({ min: 50, max: 100 }).map((n) => n / 10)),
  maxBacklogs: fc.option(fc.integer({ min: 0, max: 3 })),
});
const student: fc.Arbitrary<StudentFacts> = fc.record({
  department: fc.constantFrom(...DEPARTMENTS),
  cgpa: fc.integer({ min: 50, max: 100 }).map((n) => n / 10),
  active_backlogs: fc.integer({ min: 0, max: 4 }),
  graduation_year: fc.integer({ min: 2026, max: 2028 }),
  semester: fc.option(fc.integer({ min: 1, max: 8 })),
});

function jobsOf(list: EligibilityRules[], deadlines: number[]): SnapshotJob[] {
  return list.map((r, id) => ({ id, rules: r, applyByMs: deadlines[id] ?? 0 }) as SnapshotJob);
}

describe("the open-jobs eligibility index", () => {
  it("lets through exactly the jobs meetsRules does, for students asked in any order", () => {
    fc.assert(
      fc.property(
        fc.array(rules, { maxLength: 140 }),
        fc.array(student, { minLength: 1, maxLength: 8 }),
        (list, students) => {
          const jobs = jobsOf(list, []);
          const index = new EligibilityIndex(jobs);
          // Asked twice: the second answer comes from the kept sets.
          for (const s of [...students, ...students]) {
            const bits = index.forStudent(s);
            const expected = jobs.map((j) => meetsRules(j.rules, s));
            expect(jobs.map((_, j) => hasBit(bits, j))).toEqual(expected);
            for (const from of [0, 1, 31, 32, 33, 64, jobs.length]) {
              const naive = expected.slice(from).filter(Boolean).length;
              expect(countBitsFrom(bits, from)).toBe(naive);
            }
          }
        },
      ),
      { seed: 20261203, numRuns: 200 },
    );
  });

  it("finds the first job whose deadline is after now", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 })),
        fc.integer({ min: -1, max: 51 }),
        (ds, now) => {
          const sorted = [...ds].sort((a, b) => a - b);
          const jobs = jobsOf(
            sorted.map(() => ({}) as EligibilityRules),
            sorted,
          );
          const expected = sorted.findIndex((d) => d > now);
          expect(firstOpenIndex(jobs, now)).toBe(expected === -1 ? sorted.length : expected);
        },
      ),
      { seed: 20261203 },
    );
  });
});
