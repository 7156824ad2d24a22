// @both-databases: the open-jobs snapshot is loaded with SQL per dialect.
import { describe, expect, it } from "vitest";
import { buildContext } from "#src/app-context.ts";
import { openDatabase } from "#src/db/database.ts";
import { createAdmin, createStudent, postJob, testLogger, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import {
  deleteJob,
  jobsForStudentFromSnapshot,
  jobsForStudentInSql,
  setJobStatus,
  updateJob,
} from "./service.ts";

const t = useTestApp();

/** The job titles linked from a page, in order. */
function titles(html: string): string[] {
  return [...html.matchAll(/<a href="\/student\/jobs\/\d+">([^<]*)<\/a>/g)].map((m) => m[1]!);
}

describe("the open-jobs snapshot", () => {
  it("lists, pages, counts and explains exactly what the SQL reading does", async () => {
    const admin = await createAdmin(t.ctx, "rules-admin@college.test");
    const departments = ["CSE", "ECE", "ME", "ISE"];
    // A small deterministic generator: the same jobs each run, every rule kind mixed.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const jobIds: number[] = [];
    for (let i = 0; i < 30; i++) {
      const { id } = await postJob(
        t.ctx,
        {
          company: `Company ${i}`,
          title: `Role ${i}`,
          departments: next(2) ? [...new Set([departments[next(4)]!, departments[next(4)]!])] : [],
          graduation_years: next(3) === 0 ? [2026 + next(3)] : [],
          semesters: next(3) === 0 ? [...new Set([1 + next(8), 1 + next(8)])] : [],
          min_cgpa: next(2) ? 5 + next(40) / 10 : null,
          max_backlogs: next(2) ? next(3) : null,
          // Some share a deadline: the order falls back to the id.
          apply_by: new Date(Date.now() + (1 + (i % 7)) * 3600_000).toISOString(),
        },
        admin,
      );
      jobIds.push(id);
    }
    // Closed by an admin (left out), and past the deadline (listed last, as closed).
    await setJobStatus(t.ctx, admin, jobIds[3]!, "closed");
    for (const id of [jobIds[4]!, jobIds[5]!, jobIds[6]!])
      await t.ctx.db
        .updateTable("jobs")
        .set({ apply_by: new Date(Date.now() - (id % 3) * 60_000 - 1000).toISOString() })
        .where("id", "=", id)
        .execute();

    for (let i = 0; i < 12; i++) {
      const s = await createStudent(t.ctx, {
        approved: true,
        department: departments[i % 4]!,
        cgpa: 5 + ((i * 37) % 50) / 10,
        active_backlogs: i % 3,
        graduation_year: 2026 + (i % 3),
        semester: 1 + (i % 8),
      });
      if (i % 5 === 0)
        await t.ctx.db
          .updateTable("students")
          .set({ semester: null })
          .where("id", "=", s.id)
          .execute();
      // Applications in every state, withdrawn ones included (those may be sent again).
      for (const [k, status] of (["applied", "withdrawn", "shortlisted"] as const).entries()) {
        const jobId = jobIds[(i * 3 + k * 7) % jobIds.length]!;
        await t.ctx.db
          .insertInto("applications")
          .values({
            job_id: jobId,
            student_id: s.id,
            status,
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      for (const eligibleOnly of [false, true]) {
        // Page 8 is the unfiltered list's last (29 jobs, 4 a page), page 9 is past its end.
        for (const [page, q] of [[1], [2], [3], [8], [9], [1, "role 1"], [2, "COMPANY"]] as const) {
          const filters = { eligibleOnly, page, q };
          const options = { pageSize: 4 };
          const inSql = await jobsForStudentInSql(t.ctx, s.id, filters, options);
          const { locations: _, ...fromSnapshot } = await jobsForStudentFromSnapshot(
            t.ctx,
            s.id,
            filters,
            options,
          );
          expect(fromSnapshot, JSON.stringify({ student: i, ...filters })).toEqual(inSql);
        }
      }
    }
  });

  it("sees a job posted, changed, closed or deleted through another process on the next load", async () => {
    // A second connection pool with its own snapshot: another web process, or another machine.
    const other = openDatabase(t.database.url);
    try {
      const elsewhere = buildContext(t.ctx.config, other, { log: testLogger() });
      const s = await createStudent(t.ctx, { approved: true, department: "CSE" });
      const me = await loginAs(t.app, s.email, s.password);
      const admin = await createAdmin(elsewhere, "elsewhere@college.test");
      const dashboard = async () => (await me.get("/student")).body;
      expect(await dashboard()).toContain("Jobs you can apply to (0)");

      const { id } = await postJob(elsewhere, { company: "Acme", title: "Analyst" }, admin);
      expect(titles(await dashboard())).toEqual(["Acme – Analyst"]);

      const input = {
        company: "Acme",
        title: "Analyst",
        type: "placement" as const,
        description: "",
        location: "",
        package_range: "",
        official_link: null,
        departments: ["ECE"],
        graduation_years: [],
        semesters: [],
        min_cgpa: null,
        max_backlogs: null,
        apply_by: new Date(Date.now() + 3600_000).toISOString(),
        send_sms: false,
        nudge_hours: null,
        submission_id: null,
      };
      await updateJob(elsewhere, admin, id, input);
      expect(await dashboard()).toContain("Jobs you can apply to (0)");
      expect((await me.get("/student/jobs")).body).toContain("Only for ECE");

      // A rule written by hand, outside the services: the triggers still see it.
      await other.db.deleteFrom("job_departments").where("job_id", "=", id).execute();
      expect(titles(await dashboard())).toEqual(["Acme – Analyst"]);

      await setJobStatus(elsewhere, admin, id, "closed");
      expect(titles((await me.get("/student/jobs")).body)).toEqual([]);
      await setJobStatus(elsewhere, admin, id, "open");
      expect(titles(await dashboard())).toEqual(["Acme – Analyst"]);

      await deleteJob(elsewhere, admin, id);
      expect(titles((await me.get("/student/jobs")).body)).toEqual([]);
    } finally {
      await other.destroy();
    }
  });
});

describe("the open jobs' version read with the session", () => {
  it("is the snapshot's version, new after a change, and spares the page its own read", async () => {
    const { findSessionUser } = await import("#src/accounts/service.ts");
    const { openJobsSnapshot } = await import("./open-jobs.ts");
    const { withRules } = await import("./service.ts");
    const admin = await createAdmin(t.ctx, "version-admin@college.test");
    const student = await createStudent(t.ctx, {
      approved: true,
      email: "version-student@college.test",
    });
    const loadRules = (jobs: Parameters<typeof withRules>[1]) => withRules(t.ctx, jobs);
    const sessionVersion = async () => {
      const user = await t.ctx.db
        .selectFrom("students")
        .innerJoin("users", "users.id", "students.user_id")
        .select(["users.id", "users.session_version"])
        .where("students.id", "=", student.id)
        .executeTakeFirstOrThrow();
      return (await findSessionUser(t.ctx, user.id, user.session_version))!.openJobsVersion;
    };
    const before = await sessionVersion();
    expect(before).toBe((await openJobsSnapshot(t.ctx, loadRules)).version);
    await postJob(t.ctx, { title: "Posted meanwhile" }, admin);
    const after = await sessionVersion();
    expect(after).not.toBe(before);
    const snapshot = await openJobsSnapshot(t.ctx, loadRules, after);
    expect(snapshot.version).toBe(after);
    // With the version known, a snapshot of it answers without a statement.
    const executor = t.ctx.db.getExecutor();
    const run = executor.executeQuery.bind(executor);
    let statements = 0;
    executor.executeQuery = ((...args: Parameters<typeof run>) => {
      statements++;
      return run(...args);
    }) as typeof executor.executeQuery;
    try {
      expect(await openJobsSnapshot(t.ctx, loadRules, after)).toBe(snapshot);
    } finally {
      executor.executeQuery = run;
    }
    expect(statements).toBe(0);
  });
});
