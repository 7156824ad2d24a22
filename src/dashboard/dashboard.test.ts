// @both-databases: the dashboard's counts read the triggers' tables.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { adminDashboard } from "./service.ts";

const t = useTestApp();

async function setStatus(
  studentId: number,
  jobId: number,
  status: "applied" | "selected" | "rejected",
) {
  const now = new Date().toISOString();
  await t.ctx.db
    .insertInto("applications")
    .values({ job_id: jobId, student_id: studentId, status, created_at: now, updated_at: now })
    .execute();
}

describe("admin dashboard", () => {
  it("counts registrations, students, jobs, applications and selections, and summarises each department", async () => {
    const cse = [];
    for (let i = 0; i < 4; i++)
      cse.push(
        await createStudent(t.ctx, { approved: true, department: "CSE", graduation_year: 2027 }),
      );
    const ece = [];
    for (let i = 0; i < 2; i++)
      ece.push(
        await createStudent(t.ctx, { approved: true, department: "ECE", graduation_year: 2026 }),
      );
    await createStudent(t.ctx, { approved: false, department: "CSE" });
    const infosys = await postJob(t.ctx, { company: "Infosys" });
    const tcs = await postJob(t.ctx, { company: "TCS" });
    await setStatus(cse[0]!.id, infosys.id, "selected");
    await setStatus(cse[0]!.id, tcs.id, "selected"); // counted once as a selected student
    await setStatus(cse[1]!.id, infosys.id, "rejected");
    await setStatus(cse[2]!.id, tcs.id, "applied");
    await setStatus(ece[0]!.id, tcs.id, "selected");

    const all = await adminDashboard(t.ctx, {});
    expect(all).toMatchObject({
      pending: 1,
      approved: 6,
      openJobs: 2,
      applications: 5,
      selected: 2,
    });
    expect(all.departments).toEqual([
      { department: "CSE", students: 4, applied: 3, selected: 1, rate: 0.25 },
      { department: "ECE", students: 2, applied: 1, selected: 1, rate: 0.5 },
    ]);

    const onlyInfosys = await adminDashboard(t.ctx, { company: "Infosys" });
    expect(onlyInfosys).toMatchObject({ applications: 2, selected: 1 });
    expect(onlyInfosys.departments).toEqual([
      { department: "CSE", students: 4, applied: 2, selected: 1, rate: 0.25 },
      { department: "ECE", students: 2, applied: 0, selected: 0, rate: 0 },
    ]);
    const ece2026 = await adminDashboard(t.ctx, { department: "ECE", year: 2026 });
    expect(ece2026).toMatchObject({ approved: 2, applications: 1, selected: 1 });
    await t.ctx.db
      .updateTable("students")
      .set({ semester: 5 })
      .where("id", "=", cse[0]!.id)
      .execute();
    const semester5 = await adminDashboard(t.ctx, { semester: 5 });
    expect(semester5).toMatchObject({ approved: 1, applications: 2, selected: 1 });

    const admin = await createAdmin(t.ctx);
    const page = await (await loginAs(t.app, admin.email, admin.password)).get(
      "/admin?department=CSE",
    );
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Placement summary by department");
    expect(page.body).toContain('aria-label="25.0% placed"');
  });
});

describe("student dashboard", () => {
  it("shows eligible open jobs with deadlines and the student's own applications", async () => {
    const me = await createStudent(t.ctx, { approved: true, department: "CSE", cgpa: 8 });
    const open = await postJob(t.ctx, { company: "Accenture", title: "Associate" });
    await postJob(t.ctx, { company: "Hidden Co", title: "Only ECE", departments: ["ECE"] });
    const applied = await postJob(t.ctx, { company: "Capgemini", title: "Analyst" });
    const client = await loginAs(t.app, me.email, me.password);
    await client.post(`/student/jobs/${applied.id}/apply`);
    const page = await client.get("/student");
    const [jobs, rest] = page.body.split("My applications</h2>");
    expect(jobs).toContain("Accenture – Associate");
    expect(jobs).toContain("apply by");
    expect(jobs).not.toContain("Hidden Co");
    expect(rest).toContain("Capgemini – Analyst");
    expect(rest).toContain("Applied");
    expect(open.id).toBeGreaterThan(0);
  });
});

describe("open jobs", () => {
  it("the dashboard card counts exactly the rows of the list it links to, a passed deadline closed", async () => {
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);
    await postJob(t.ctx, { company: "Infosys", title: "Open One" }, admin);
    await postJob(t.ctx, { company: "TCS", title: "Open Two" }, admin);
    const late = await postJob(t.ctx, { company: "Infosys", title: "Deadline Gone" }, admin);
    const closed = await postJob(t.ctx, { company: "Wipro", title: "Closed By Hand" }, admin);
    await t.ctx.db
      .updateTable("jobs")
      .set({ apply_by: new Date(Date.now() - 60_000).toISOString() })
      .where("id", "=", late.id)
      .execute();
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "closed" })
      .where("id", "=", closed.id)
      .execute();

    for (const company of ["", "Infosys"]) {
      const dashboard = (await staff.get(`/admin${company ? `?company=${company}` : ""}`)).body;
      const card = /<a href="([^"]+)"><strong>(\d+)<\/strong> <span>open jobs?<\/span>/.exec(
        dashboard,
      );
      expect(card, company).not.toBeNull();
      const list = (await staff.get(card![1]!)).body;
      const rows = list.match(/<tr><td>/g) ?? [];
      expect(rows.length, company).toBe(Number(card![2]));
      expect(list).not.toContain("Deadline Gone");
      expect(list).not.toContain("Closed By Hand");
    }
    const all = await staff.get("/admin/jobs");
    expect(pageText(all.body)).toMatch(/Deadline Gone.*Deadline passed/);
    expect(pageText((await staff.get("/admin/jobs?status=closed")).body)).toContain(
      "Deadline Gone",
    );
    expect(pageText((await staff.get("/admin")).body)).toContain("2 open jobs");
    expect(pageText((await staff.get("/admin?company=Infosys")).body)).toContain("1 open job ");

    // And the student's lists agree: the same two jobs, no more.
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    const [open, closedPart] = pageText((await asStudent.get("/student/jobs")).body).split(
      "Closed to applications",
    );
    expect(open).toContain("Open One");
    expect(open).not.toContain("Deadline Gone");
    // Shown as closed, never offered: the student sees why it is gone.
    expect(closedPart).toMatch(/Deadline Gone.*Deadline passed/);
    expect(pageText((await asStudent.get("/student")).body)).toContain("Jobs you can apply to (2)");
  });
});
