// @both-databases: the counters are kept by triggers per dialect.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyToJob, changeStatus } from "#src/applications/service.ts";
import { APPLICATION_STATUSES, type ApplicationStatus, type Job } from "#src/db/schema.ts";
import { deleteJob, type JobInput, updateJob } from "#src/jobs/service.ts";
import { isOpenForApplications } from "#src/placement/open.ts";
import { registerStudent } from "#src/students/registration.ts";
import { approveStudents, rejectStudent } from "#src/students/verification.ts";
import {
  createAdmin,
  createTestApp,
  postJob,
  studentInput,
  type TestApp,
} from "#test/support/app.ts";
import { adminDashboard, type DashboardFilters } from "./service.ts";

/**
 * The dashboard's counters are kept by triggers (decision 019). After any sequence of writes,
 * through the services or by hand in SQL (cascades included), the summary must equal what the
 * raw rows say, and so must the dashboard read from it.
 */

const SEED = Number(process.env.COUNTERS_SEED ?? 20261203);
const RUNS = Number(process.env.COUNTERS_RUNS ?? 15);

const DEPARTMENTS = ["CSE", "ECE", "ME"] as const;
// Wipro posts no job at first: a job's company edited to it is the only way it gets applications.
const COMPANIES = ["Infosys", "TCS"] as const;
const EDITED_TO = [...COMPANIES, "Wipro"] as const;

const pick = fc.nat({ max: 1000 });
const group = fc.record({
  department: fc.constantFrom(...DEPARTMENTS),
  year: fc.constantFrom(2026, 2027),
  semester: fc.option(fc.constantFrom(5, 6), { nil: null }),
});
const op = fc.oneof(
  fc.record({ kind: fc.constant("register" as const), group, approved: fc.boolean() }),
  fc.record({ kind: fc.constant("approve" as const), student: pick }),
  fc.record({ kind: fc.constant("reject" as const), student: pick }),
  fc.record({ kind: fc.constant("deleteStudent" as const), student: pick }),
  fc.record({ kind: fc.constant("moveStudent" as const), student: pick, group }),
  fc.record({ kind: fc.constant("unapprove" as const), student: pick }),
  fc.record({ kind: fc.constant("postJob" as const), company: fc.constantFrom(...COMPANIES) }),
  fc.record({ kind: fc.constant("deleteJob" as const), job: pick }),
  {
    arbitrary: fc.record({
      kind: fc.constant("editCompany" as const),
      job: pick,
      company: fc.constantFrom(...EDITED_TO),
      viaService: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("apply" as const), student: pick, job: pick }),
    weight: 12,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("setStatus" as const),
      application: pick,
      status: fc.constantFrom(...APPLICATION_STATUSES),
    }),
    weight: 4,
  },
  {
    // Three steps from applied to selected: often enough that runs reach selected students.
    arbitrary: fc.record({ kind: fc.constant("advance" as const), application: pick }),
    weight: 8,
  },
  fc.record({ kind: fc.constant("deleteApplication" as const), application: pick }),
  fc.record({ kind: fc.constant("reassign" as const), application: pick, student: pick }),
  fc.record({ kind: fc.constant("moveApplication" as const), application: pick, job: pick }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const NEXT: Partial<Record<ApplicationStatus, "shortlisted" | "interview" | "selected">> = {
  applied: "shortlisted",
  shortlisted: "interview",
  interview: "selected",
};

let t: TestApp;
let admin: { id: number; email: string };
beforeAll(async () => {
  t = await createTestApp();
  admin = await createAdmin(t.ctx);
});
afterAll(async () => {
  await t.close();
});

async function ids(table: "students" | "jobs" | "applications"): Promise<number[]> {
  const rows = await t.ctx.db.selectFrom(table).select("id").orderBy("id").execute();
  return rows.map((r) => r.id);
}
const at = (list: number[], n: number) => (list.length === 0 ? undefined : list[n % list.length]);

/** The edit form's input for a job as stored (the test's jobs have no eligibility lists). */
function jobInput(job: Job): JobInput {
  return {
    company: job.company,
    title: job.title,
    type: job.type,
    description: job.description,
    location: job.location,
    package_range: job.package_range,
    official_link: job.official_link,
    departments: [],
    graduation_years: [],
    semesters: [],
    min_cgpa: job.min_cgpa,
    max_backlogs: job.max_backlogs,
    apply_by: new Date(job.apply_by).toISOString(),
    nudge_hours: job.nudge_hours,
    send_sms: false,
    submission_id: null,
  };
}

async function apply(operation: Op): Promise<void> {
  const db = t.ctx.db;
  const now = new Date().toISOString();
  switch (operation.kind) {
    case "register": {
      const { group: g } = operation;
      const result = await registerStudent(
        t.ctx,
        studentInput({
          department: g.department,
          graduation_year: g.year,
          semester: g.semester ?? undefined,
        }),
        undefined,
      );
      if (!result.ok) throw new Error(JSON.stringify(result.errors));
      if (operation.approved) await approveStudents(t.ctx, admin, [result.value.studentId]);
      return;
    }
    case "approve": {
      const id = at(await ids("students"), operation.student);
      if (id) await approveStudents(t.ctx, admin, [id]);
      return;
    }
    case "reject": {
      // Only a pending registration can be rejected: the user, the student and their
      // applications go by cascade.
      const id = at(await ids("students"), operation.student);
      if (id) await rejectStudent(t.ctx, admin, id, "test");
      return;
    }
    case "deleteStudent": {
      const id = at(await ids("students"), operation.student);
      if (!id) return;
      const { user_id } = await db
        .selectFrom("students")
        .select("user_id")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      await db.deleteFrom("users").where("id", "=", user_id).execute();
      return;
    }
    case "moveStudent": {
      const id = at(await ids("students"), operation.student);
      const { group: g } = operation;
      if (id)
        await db
          .updateTable("students")
          .set({ department: g.department, graduation_year: g.year, semester: g.semester })
          .where("id", "=", id)
          .execute();
      return;
    }
    case "unapprove": {
      const id = at(await ids("students"), operation.student);
      if (id)
        await db.updateTable("students").set({ approved_at: null }).where("id", "=", id).execute();
      return;
    }
    case "postJob":
      await postJob(t.ctx, { company: operation.company }, admin);
      return;
    case "deleteJob": {
      const id = at(await ids("jobs"), operation.job);
      if (!id) return;
      // The service keeps a job with applications; by hand, they go with it by cascade.
      const result = await deleteJob(t.ctx, admin, id);
      if (result && !result.deleted) await db.deleteFrom("jobs").where("id", "=", id).execute();
      return;
    }
    case "editCompany": {
      const id = at(await ids("jobs"), operation.job);
      if (!id) return;
      if (operation.viaService) {
        // The edit form's path: every field written back, the company changed.
        const job = await db
          .selectFrom("jobs")
          .selectAll()
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
        const result = await updateJob(t.ctx, admin, id, {
          ...jobInput(job),
          company: operation.company,
        });
        expect(result).not.toBeNull();
      } else {
        await db
          .updateTable("jobs")
          .set({ company: operation.company })
          .where("id", "=", id)
          .execute();
      }
      return;
    }
    case "apply": {
      const student = at(await ids("students"), operation.student);
      const job = at(await ids("jobs"), operation.job);
      if (student && job) await applyToJob(t.ctx, student, job);
      return;
    }
    case "setStatus": {
      // Any status to any other, to and from selected included (a correction in SQL).
      const id = at(await ids("applications"), operation.application);
      if (id)
        await db
          .updateTable("applications")
          .set({ status: operation.status, updated_at: now })
          .where("id", "=", id)
          .execute();
      return;
    }
    case "advance": {
      const id = at(await ids("applications"), operation.application);
      if (!id) return;
      const { status } = await db
        .selectFrom("applications")
        .select("status")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const next = NEXT[status];
      if (next) {
        const result = await changeStatus(t.ctx, admin, [id], next);
        expect(result.changed).toBe(1);
      }
      return;
    }
    case "deleteApplication": {
      const id = at(await ids("applications"), operation.application);
      if (id) await db.deleteFrom("applications").where("id", "=", id).execute();
      return;
    }
    case "reassign": {
      const id = at(await ids("applications"), operation.application);
      const student = at(await ids("students"), operation.student);
      if (!id || !student) return;
      // The application changes hands (unique per job and student: skip if taken).
      const { job_id } = await db
        .selectFrom("applications")
        .select("job_id")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const taken = await db
        .selectFrom("applications")
        .select("id")
        .where("job_id", "=", job_id)
        .where("student_id", "=", student)
        .executeTakeFirst();
      if (!taken)
        await db
          .updateTable("applications")
          .set({ student_id: student })
          .where("id", "=", id)
          .execute();
      return;
    }
    case "moveApplication": {
      // An application moved to another job (a correction in SQL), possibly another company's.
      const id = at(await ids("applications"), operation.application);
      const job = at(await ids("jobs"), operation.job);
      if (!id || !job) return;
      const { student_id } = await db
        .selectFrom("applications")
        .select("student_id")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      const taken = await db
        .selectFrom("applications")
        .select("id")
        .where("job_id", "=", job)
        .where("student_id", "=", student_id)
        .executeTakeFirst();
      if (!taken)
        await db.updateTable("applications").set({ job_id: job }).where("id", "=", id).execute();
      return;
    }
  }
}

interface Raw {
  students: {
    id: number;
    department: string;
    graduation_year: number;
    semester: number | null;
    approved: boolean;
    applications_count: number;
    selected_count: number;
  }[];
  applications: { student_id: number; status: string; company: string }[];
  jobs: { company: string; open: boolean }[];
}

async function rawRows(): Promise<Raw> {
  const students = await t.ctx.db
    .selectFrom("students")
    .select([
      "id",
      "department",
      "graduation_year",
      "semester",
      "approved_at",
      "applications_count",
      "selected_count",
    ])
    .execute();
  const applications = await t.ctx.db
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .select(["applications.student_id", "applications.status", "jobs.company"])
    .execute();
  const now = t.ctx.clock.now();
  const jobs = (
    await t.ctx.db.selectFrom("jobs").select(["company", "status", "apply_by"]).execute()
  ).map((j) => ({ company: j.company, open: isOpenForApplications(j, now) }));
  return {
    jobs,
    students: students.map((s) => ({
      ...s,
      approved: s.approved_at !== null,
      applications_count: Number(s.applications_count),
      selected_count: Number(s.selected_count),
    })),
    applications,
  };
}

/** The summary as the raw rows say it should read, key by key; all-zero rows left out. */
function expectedSummary(raw: Raw) {
  const rows = new Map<string, number[]>();
  for (const s of raw.students) {
    const own = raw.applications.filter((a) => a.student_id === s.id);
    const applied = own.length > 0;
    const selected = own.some((a) => a.status === "selected");
    const key = `${s.department}/${s.graduation_year}/${s.semester ?? 0}`;
    const row = rows.get(key) ?? [0, 0, 0, 0, 0, 0];
    const add = [
      1,
      +s.approved,
      own.length,
      +selected,
      +(s.approved && applied),
      +(s.approved && selected),
    ];
    rows.set(
      key,
      row.map((v, i) => v + add[i]!),
    );
  }
  return Object.fromEntries([...rows].sort(([a], [b]) => a.localeCompare(b)));
}

async function storedSummary() {
  const rows = await t.ctx.db.selectFrom("placement_summary").selectAll().execute();
  return Object.fromEntries(
    rows
      .map(
        (r) =>
          [
            `${r.department}/${r.graduation_year}/${r.semester}`,
            [
              r.students,
              r.approved,
              r.applications,
              r.selected,
              r.approved_applied,
              r.approved_selected,
            ].map(Number),
          ] as const,
      )
      .filter(([, values]) => values.some((v) => v !== 0))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The company summary and per-(student, company) counts as the raw rows say they should read. */
function expectedCompanyCounts(raw: Raw) {
  const counts = new Map<string, number[]>();
  const summary = new Map<string, number[]>();
  for (const s of raw.students) {
    const own = raw.applications.filter((a) => a.student_id === s.id);
    for (const company of new Set(own.map((a) => a.company))) {
      const mine = own.filter((a) => a.company === company);
      const selected = mine.filter((a) => a.status === "selected").length;
      counts.set(`${s.id}/${company}`, [mine.length, selected]);
      const key = `${company}/${s.department}/${s.graduation_year}/${s.semester ?? 0}`;
      const add = [mine.length, +(selected > 0), +s.approved, +(s.approved && selected > 0)];
      summary.set(
        key,
        (summary.get(key) ?? [0, 0, 0, 0]).map((v, i) => v + add[i]!),
      );
    }
  }
  const sorted = (m: Map<string, number[]>) =>
    Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
  return { counts: sorted(counts), summary: sorted(summary) };
}

async function storedCompanyCounts() {
  const counts = await t.ctx.db.selectFrom("company_student_counts").selectAll().execute();
  const summary = await t.ctx.db.selectFrom("company_placement_summary").selectAll().execute();
  return {
    counts: Object.fromEntries(
      counts
        .map(
          (r) =>
            [`${r.student_id}/${r.company}`, [r.applications, r.selected].map(Number)] as const,
        )
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
    summary: Object.fromEntries(
      summary
        .map(
          (r) =>
            [
              `${r.company}/${r.department}/${r.graduation_year}/${r.semester}`,
              [r.applications, r.selected, r.approved_applied, r.approved_selected].map(Number),
            ] as const,
        )
        .filter(([, values]) => values.some((v) => v !== 0))
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  };
}

/** The dashboard computed from raw rows the way the page defines its numbers. */
function expectedDashboard(raw: Raw, filters: DashboardFilters) {
  const students = raw.students.filter(
    (s) =>
      (!filters.department || s.department === filters.department) &&
      (!filters.year || s.graduation_year === filters.year) &&
      (!filters.semester || s.semester === filters.semester),
  );
  const applications = raw.applications.filter(
    (a) => !filters.company || a.company === filters.company,
  );
  const of = (id: number) => applications.filter((a) => a.student_id === id);
  const isSelected = (id: number) => of(id).some((a) => a.status === "selected");
  const approved = students.filter((s) => s.approved);
  const departments = [...new Set(approved.map((s) => s.department))].sort();
  return {
    pending: students.length - approved.length,
    approved: approved.length,
    openJobs: raw.jobs.filter((j) => j.open && (!filters.company || j.company === filters.company))
      .length,
    companies: [...new Set(raw.jobs.map((j) => j.company))].sort(),
    applications: students.reduce((n, s) => n + of(s.id).length, 0),
    selected: students.filter((s) => isSelected(s.id)).length,
    departments: departments.map((department) => {
      const inDept = approved.filter((s) => s.department === department);
      const selected = inDept.filter((s) => isSelected(s.id)).length;
      return {
        department,
        students: inDept.length,
        applied: inDept.filter((s) => of(s.id).length > 0).length,
        selected,
        rate: selected / inDept.length,
      };
    }),
  };
}

/** The most applications and selected students one run reached: the runs must reach some. */
const reached = { applications: 0, selected: 0, departments: 0, edited: 0 };

async function expectCountersMatch() {
  const raw = await rawRows();
  reached.applications = Math.max(reached.applications, raw.applications.length);
  reached.selected = Math.max(
    reached.selected,
    new Set(raw.applications.filter((a) => a.status === "selected").map((a) => a.student_id)).size,
  );
  reached.departments = Math.max(
    reached.departments,
    new Set(raw.students.map((s) => s.department)).size,
  );
  // Wipro has no job but by an edit of a job's company.
  reached.edited = Math.max(
    reached.edited,
    raw.applications.filter((a) => a.company === "Wipro").length,
  );
  for (const s of raw.students) {
    const own = raw.applications.filter((a) => a.student_id === s.id);
    expect([s.applications_count, s.selected_count], `student ${s.id}`).toEqual([
      own.length,
      own.filter((a) => a.status === "selected").length,
    ]);
  }
  expect(await storedSummary()).toEqual(expectedSummary(raw));
  expect(await storedCompanyCounts()).toEqual(expectedCompanyCounts(raw));
  for (const filters of [
    {},
    { department: "CSE" },
    { year: 2027, semester: 6 },
    { company: "Infosys" },
    { department: "ECE", company: "TCS" },
    { company: "Wipro" },
    { company: "Infosys", year: 2027, semester: 6 },
    { department: "CSE", company: "TCS", year: 2026 },
  ] satisfies DashboardFilters[]) {
    const shown = await adminDashboard(t.ctx, filters);
    expect(shown, JSON.stringify(filters)).toEqual(expectedDashboard(raw, filters));
  }
}

describe("dashboard counters", () => {
  it("equal the raw rows after any sequence of registrations, approvals, rejections, applications, status changes, job company edits and deletions", async () => {
    await fc.assert(
      fc.asyncProperty(
        // A few students and jobs first, so that most operations find something to act on.
        fc.array(
          fc.record({ kind: fc.constant("register" as const), group, approved: fc.boolean() }),
          { minLength: 3, maxLength: 8, size: "max" },
        ),
        fc.array(
          fc.record({
            kind: fc.constant("postJob" as const),
            company: fc.constantFrom(...COMPANIES),
          }),
          { minLength: 1, maxLength: 4, size: "max" },
        ),
        fc.array(op, { minLength: 30, maxLength: 70, size: "max" }),
        async (students, jobs, operations) => {
          // Each run starts empty, by the same cascades the operations use.
          await t.ctx.db.deleteFrom("users").where("role", "=", "student").execute();
          await t.ctx.db.deleteFrom("jobs").execute();
          expect(await storedSummary()).toEqual({});
          expect(await storedCompanyCounts()).toEqual({ counts: {}, summary: {} });
          for (const operation of [...students, ...jobs, ...operations]) await apply(operation);
          await expectCountersMatch();
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    // A generator that never applied or selected anyone would prove nothing.
    expect(reached.applications).toBeGreaterThanOrEqual(8);
    expect(reached.selected).toBeGreaterThanOrEqual(2);
    expect(reached.departments).toBeGreaterThanOrEqual(2);
    expect(reached.edited).toBeGreaterThanOrEqual(1);
    // Each run is 50-100 writes and a full check, on PostgreSQL too: more than the default 30 s.
  }, 120_000);
});
