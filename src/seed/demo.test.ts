import { describe, expect, it } from "vitest";
import { createAdmin, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { type EligibilityRules, meetsRules } from "../placement/eligibility.ts";
import { transitionProblem } from "../placement/stages.ts";
import { formatPhoneE164 } from "../sms/phone.ts";
import { demoPhoneNumber, isFictionalNumber, seedDemo } from "./demo.ts";

const t = useTestApp();

const count = async (
  table: "students" | "jobs" | "applications" | "application_events" | "sms_messages",
) =>
  Number(
    (
      await t.ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("portal seed --demo", () => {
  it("schedules rounds over the coming two weeks, demo.student1 in one, with no SMS", async () => {
    const seeded = await seedDemo(t.ctx, {
      students: 200,
      jobs: 10,
      applications: 600,
      password: "demo-student",
    });
    expect(seeded.rounds).toBeGreaterThan(0);
    const slots = await t.ctx.db.selectFrom("round_slots").select("starts_at").execute();
    const now = Date.now();
    for (const slot of slots) {
      expect(Date.parse(slot.starts_at)).toBeGreaterThan(now);
      expect(Date.parse(slot.starts_at)).toBeLessThan(now + 15 * 86_400_000);
    }
    const asFirst = await loginAs(t.app, seeded.firstStudentEmail!, "demo-student");
    const dashboard = await asFirst.get("/student");
    expect(dashboard.body).toContain("Aptitude test");
    expect(dashboard.body).toMatch(/href="\/calendar\/\d+\/[\w-]+\/rounds\.ics"/);
    expect(await count("sms_messages")).toBe(0);
  });

  it("adds the asked numbers of students, jobs and applications, queues no SMS, and can run twice", async () => {
    const first = await seedDemo(t.ctx, {
      students: 300,
      jobs: 8,
      applications: 400,
      password: "demo-student",
    });
    expect(first).toMatchObject({ students: 300, jobs: 8 });
    // The asked number, and one more when demo.student1 had none in the running (for its rounds).
    expect([400, 401]).toContain(first.applications);
    expect(await count("students")).toBe(300);
    expect(await count("jobs")).toBe(8);
    expect(await count("applications")).toBe(first.applications);
    // One event per stage of each timeline (Applied, then the moves after it).
    expect(await count("application_events")).toBeGreaterThan(400);
    expect(await count("sms_messages")).toBe(0);
    await seedDemo(t.ctx, { students: 10, jobs: 1, applications: 5, password: "demo-student" });
    expect(await count("students")).toBe(310);
    const client = await loginAs(t.app, first.firstStudentEmail!, "demo-student").catch(
      async () => {
        // The first demo student may be one of the 5 % left pending; then the login says so.
        return null;
      },
    );
    const approved = await t.ctx.db
      .selectFrom("students")
      .innerJoin("users", "users.id", "students.user_id")
      .select("users.email")
      .where("approved_at", "is not", null)
      .orderBy("students.id")
      .executeTakeFirstOrThrow();
    const asStudent = client ?? (await loginAs(t.app, approved.email, "demo-student"));
    expect((await asStudent.get("/student/applications")).statusCode).toBe(200);
  });

  it("starts at demo.student1, approved, the README's example login, whatever admins exist", async () => {
    await createAdmin(t.ctx, "office@college.test");
    const seeded = await seedDemo(t.ctx, {
      students: 20,
      jobs: 1,
      applications: 5,
      password: "demo-student",
    });
    expect(seeded.firstStudentEmail).toBe("demo.student1@college.test");
    const client = await loginAs(t.app, "demo.student1@college.test", "demo-student");
    expect((await client.get("/student")).statusCode).toBe(200);
  });

  it("can never text a stranger: every demo student is opted out, with a number no carrier routes", async () => {
    await seedDemo(t.ctx, { students: 250, jobs: 2, applications: 10, password: "demo-student" });
    const students = await t.ctx.db
      .selectFrom("students")
      .select(["phone_e164", "sms_opted_out_at"])
      .execute();
    expect(students).toHaveLength(250);
    for (const student of students) {
      expect(student.sms_opted_out_at).not.toBeNull();
      expect(isFictionalNumber(student.phone_e164)).toBe(true);
      // A number the portal's own validation accepts, so a demo student's profile can be saved.
      expect(formatPhoneE164(student.phone_e164, "IN")).toBe(student.phone_e164);
    }
    expect(new Set(students.map((s) => s.phone_e164)).size).toBe(250);
  });
});

describe("demoPhoneNumber", () => {
  it("gives numbers in North America's fictional 555-0100..0199 block, all valid mobiles", () => {
    expect(demoPhoneNumber(0)).toBe("+12015550100");
    expect(demoPhoneNumber(199)).toBe("+12025550199");
    for (let n = 0; n < 2000; n++) {
      const number = demoPhoneNumber(n);
      expect(number).toMatch(/^\+1\d{3}55501\d{2}$/);
      expect(formatPhoneE164(number, "IN")).toBe(number);
    }
    expect(new Set(Array.from({ length: 2000 }, (_, n) => demoPhoneNumber(n))).size).toBe(2000);
    expect(isFictionalNumber("+919876543210")).toBe(false);
    expect(isFictionalNumber("+12125550200")).toBe(false);
  });
});

describe("the demo data follows the portal's own rules", () => {
  // The README's size (`seed --demo --students 2000`: 100 jobs, 20,000 applications asked for).
  it("at 2,000 students: applicants eligible, timelines from Applied in order, one Selected per student, types that match titles, demo.student1 approved", async () => {
    const seeded = await seedDemo(t.ctx, {
      students: 2000,
      jobs: 100,
      applications: 20_000,
      password: "demo-student",
    });
    expect(seeded.students).toBe(2000);
    expect(seeded.applications).toBeGreaterThan(10_000);
    const db = t.ctx.db;

    const jobs = await db.selectFrom("jobs").selectAll().execute();
    const lists = async (
      table: "job_departments" | "job_graduation_years" | "job_semesters",
      column: "department" | "graduation_year" | "semester",
    ) => {
      const byJob = new Map<number, (string | number)[]>();
      const rows = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
      for (const row of rows) {
        const jobId = row.job_id as number;
        byJob.set(jobId, [...(byJob.get(jobId) ?? []), row[column] as string | number]);
      }
      return byJob;
    };
    const departments = await lists("job_departments", "department");
    const years = await lists("job_graduation_years", "graduation_year");
    const semesters = await lists("job_semesters", "semester");
    const rules = new Map<number, EligibilityRules>(
      jobs.map((job) => [
        job.id,
        {
          departments: (departments.get(job.id) ?? []) as string[],
          graduationYears: (years.get(job.id) ?? []) as number[],
          semesters: (semesters.get(job.id) ?? []) as number[],
          minCgpa: job.min_cgpa,
          maxBacklogs: job.max_backlogs,
        },
      ]),
    );
    const jobById = new Map(jobs.map((job) => [job.id, job]));

    // Types that match titles: a title with "Intern" is an internship, every other full-time.
    const mismatched = jobs.filter(
      (job) => /\bIntern\b/.test(job.title) !== (job.type === "internship"),
    );
    expect(mismatched.map((j) => `${j.title} (${j.type})`)).toEqual([]);
    expect(jobs.some((job) => job.type === "internship")).toBe(true);

    const students = new Map(
      (await db.selectFrom("students").selectAll().execute()).map((s) => [s.id, s]),
    );
    const applications = await db.selectFrom("applications").selectAll().execute();
    expect(applications).toHaveLength(seeded.applications);

    // No applicant outside a job's eligibility (the portal's one rule), and only approved students.
    const outside: string[] = [];
    for (const application of applications) {
      const student = students.get(application.student_id)!;
      if (student.approved_at === null || !meetsRules(rules.get(application.job_id)!, student))
        outside.push(`application ${application.id}`);
    }
    expect(outside).toEqual([]);

    // Every timeline starts at Applied (the student's act, before the deadline) and moves along the
    // allowed stages, in time order, to the application's status.
    const events = await db
      .selectFrom("application_events")
      .selectAll()
      .orderBy("application_id")
      .orderBy("id")
      .execute();
    const timelines = new Map<number, typeof events>();
    for (const event of events)
      timelines.set(event.application_id, [...(timelines.get(event.application_id) ?? []), event]);
    const broken: string[] = [];
    for (const application of applications) {
      const timeline = timelines.get(application.id) ?? [];
      const first = timeline[0];
      const problems: string[] = [];
      if (!first || first.from_status !== null || first.to_status !== "applied")
        problems.push("does not start at Applied");
      else if (first.by_role !== "student") problems.push("Applied not by the student");
      else if (String(first.at) > String(jobById.get(application.job_id)!.apply_by))
        problems.push("applied after the deadline");
      for (let i = 1; i < timeline.length; i++) {
        const before = timeline[i - 1]!;
        const event = timeline[i]!;
        if (event.from_status !== before.to_status)
          problems.push(`${event.from_status} after ${before.to_status}`);
        else {
          const problem = transitionProblem(
            event.from_status!,
            event.to_status,
            event.by_role as "admin" | "student",
          );
          if (problem) problems.push(problem);
        }
        if (String(event.at) < String(before.at)) problems.push("out of time order");
      }
      if (timeline.at(-1)?.to_status !== application.status)
        problems.push(`ends at ${timeline.at(-1)?.to_status}, status ${application.status}`);
      if (first && String(application.created_at) !== String(first.at))
        problems.push("created_at is not the time applied");
      if (problems.length > 0) broken.push(`application ${application.id}: ${problems.join(", ")}`);
    }
    expect(broken.slice(0, 5)).toEqual([]);
    // The stages are all there, so the demo shows every one.
    const statuses = new Set(applications.map((a) => a.status));
    for (const status of [
      "applied",
      "shortlisted",
      "interview",
      "selected",
      "rejected",
      "withdrawn",
    ])
      expect(statuses).toContain(status);

    // At most one Selected per student (the college's one-offer policy).
    const selected = applications.filter((a) => a.status === "selected").map((a) => a.student_id);
    expect(selected.length).toBeGreaterThan(0);
    expect(selected.length).toBe(new Set(selected).size);

    // The README's demo login: exists, approved, logs in with the README's password.
    const first = await db
      .selectFrom("users")
      .innerJoin("students", "students.user_id", "users.id")
      .select(["students.approved_at"])
      .where("users.email", "=", "demo.student1@college.test")
      .executeTakeFirst();
    expect(first?.approved_at).not.toBeNull();
    const client = await loginAs(t.app, "demo.student1@college.test", "demo-student");
    expect((await client.get("/student")).statusCode).toBe(200);
  });
});

describe("the demo season", () => {
  it("writes offers of every status and source, facts that match them, and a policy per year", async () => {
    const seeded = await seedDemo(t.ctx, {
      students: 600,
      jobs: 30,
      applications: 6000,
      password: "demo-student",
    });
    const db = t.ctx.db;
    const now = Date.now();
    const offers = await db.selectFrom("offers").selectAll().execute();
    expect(offers).toHaveLength(seeded.offers);

    // One campus offer per Selected application, from its job: company, title, location.
    const selected = await db
      .selectFrom("applications")
      .innerJoin("jobs", "jobs.id", "applications.job_id")
      .select([
        "applications.id",
        "applications.student_id",
        "jobs.company",
        "jobs.title",
        "jobs.location",
      ])
      .where("applications.status", "=", "selected")
      .execute();
    const campus = offers.filter((o) => o.source === "campus");
    expect(campus.map((o) => o.application_id).sort()).toEqual(selected.map((a) => a.id).sort());
    for (const a of selected) {
      const offer = campus.find((o) => o.application_id === a.id)!;
      expect(offer).toMatchObject({
        student_id: a.student_id,
        company: a.company,
        role: a.title,
        location: a.location,
      });
    }
    for (const o of offers) {
      expect(o.ctc_lpa).toBeGreaterThan(0);
      expect(Math.abs(o.fixed_lpa + o.variable_lpa - o.ctc_lpa)).toBeLessThan(0.005);
      expect(o.joining_date).toMatch(/^\d{4}-07-(01|15)$/);
      if (o.status === "pending") expect(Date.parse(o.answer_by)).toBeGreaterThan(now);
      if (o.status === "lapsed") expect(Date.parse(o.answer_by)).toBeLessThan(now);
      if (o.status === "accepted") expect(o.accepted_at).not.toBeNull();
    }
    // Some of each: every source, and every status a season goes through.
    expect(new Set(offers.map((o) => o.source))).toEqual(new Set(["campus", "ppo", "off_campus"]));
    const statuses = new Set(offers.map((o) => o.status));
    for (const status of ["pending", "accepted", "declined", "lapsed", "withdrawn"])
      expect(statuses, status).toContain(status);

    // What the policy reads of each student is a recount of their offers; a student who declined
    // an offer after accepting it is marked, and nobody else.
    const students = await db.selectFrom("students").selectAll().execute();
    const declinedAfterAccepting = new Set(
      offers
        .filter((o) => o.status === "declined" && o.accepted_at !== null)
        .map((o) => o.student_id),
    );
    expect(declinedAfterAccepting.size).toBeGreaterThan(0);
    const wrong: string[] = [];
    for (const s of students) {
      const accepted = offers.filter((o) => o.student_id === s.id && o.status === "accepted");
      const facts = {
        accepted_offers: accepted.length,
        best_offer_lpa: accepted.length ? Math.max(...accepted.map((o) => o.ctc_lpa)) : null,
        accepted_ppos: accepted.filter((o) => o.source === "ppo").length,
        reneged: declinedAfterAccepting.has(s.id),
      };
      const stored = {
        accepted_offers: s.accepted_offers,
        best_offer_lpa: s.best_offer_lpa,
        accepted_ppos: s.accepted_ppos,
        reneged: s.reneged_at !== null,
      };
      if (JSON.stringify(facts) !== JSON.stringify(stored))
        wrong.push(`${s.roll_number}: ${JSON.stringify(stored)} for ${JSON.stringify(facts)}`);
      // The demo policy allows one accepted offer.
      if (accepted.length > 1) wrong.push(`${s.roll_number} holds ${accepted.length} accepted`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);

    // The office's usual policy for every graduation year seeded.
    const policies = await db.selectFrom("placement_policies").selectAll().execute();
    expect(policies.map((p) => p.graduation_year).sort()).toEqual(
      [...new Set(students.map((s) => s.graduation_year))].sort(),
    );
    for (const p of policies) {
      expect(JSON.parse(p.tiers)).toEqual([
        { name: "Regular", fromLpa: 0 },
        { name: "Dream", fromLpa: 6 },
        { name: "Super dream", fromLpa: 12 },
      ]);
      expect(p).toMatchObject({
        max_accepted: 1,
        placed_may_apply: "higher_tier",
        block_on_decline: 1,
        ppo_in_campus: 0,
      });
    }

    // demo.student1 holds a pending offer: the campus one of their Selected application.
    const first = students.find((s) => s.roll_number === "DEMO000001")!;
    const mine = offers.filter((o) => o.student_id === first.id && o.status === "pending");
    expect(mine.map((o) => o.source)).toEqual(["campus"]);
    expect(await count("sms_messages")).toBe(0);
  });
});
