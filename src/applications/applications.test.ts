// @both-databases: one application per student and job under concurrency.
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
  useTestApp,
} from "#test/support/app.ts";
import { loginAs, pdfBytes, type TestClient } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import type { ApplicationStatus } from "../db/schema.ts";
import { moverOf, TRANSITIONS } from "../placement/stages.ts";
import { putResume } from "../students/resume-store.ts";

const t = useTestApp();

async function student(overrides: Parameters<typeof createStudent>[1] = {}) {
  const s = await createStudent(t.ctx, { approved: true, ...overrides });
  return { ...s, client: await loginAs(t.app, s.email, s.password) };
}

async function admin(): Promise<TestClient> {
  const a = await createAdmin(t.ctx, "placement-admin@college.test");
  return loginAs(t.app, a.email, a.password);
}

function applicationOf(studentId: number, jobId: number) {
  return t.ctx.db
    .selectFrom("applications")
    .selectAll()
    .where("student_id", "=", studentId)
    .where("job_id", "=", jobId)
    .executeTakeFirstOrThrow();
}

/** An application of `studentId` already at stage `status`, on a new job titled `title`. */
async function applicationAt(studentId: number, status: ApplicationStatus, title: string) {
  const { id: jobId } = await postJob(t.ctx, { title });
  const now = new Date().toISOString();
  const app = await t.ctx.db
    .insertInto("applications")
    .values({ job_id: jobId, student_id: studentId, status, created_at: now, updated_at: now })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { jobId, app };
}

function statusSms() {
  return t.ctx.db
    .selectFrom("sms_messages")
    .selectAll()
    .where("kind", "=", "status_update")
    .orderBy("id")
    .execute();
}

describe("jobs as a student sees them", () => {
  it("lists the jobs they may apply to, and the others with the reason", async () => {
    const me = await student({
      department: "CSE",
      cgpa: 6.8,
      active_backlogs: 0,
      graduation_year: 2027,
    });
    await postJob(t.ctx, { company: "Open To All", title: "Analyst" });
    await postJob(t.ctx, { company: "Picky Corp", title: "Engineer", min_cgpa: 7 });
    await postJob(t.ctx, { company: "ECE Only", title: "VLSI", departments: ["ECE"] });
    const late = await postJob(t.ctx, { company: "Late Ltd", title: "Trainee" });
    await t.ctx.db
      .updateTable("jobs")
      .set({ apply_by: new Date(Date.now() - 60_000).toISOString() })
      .where("id", "=", late.id)
      .execute();

    const page = await me.client.get("/student/jobs");
    expect(page.statusCode).toBe(200);
    const [mine, others] = page.body.split("Other open jobs");
    expect(mine).toContain("Open To All");
    expect(mine).not.toContain("Picky Corp");
    expect(others).toContain("CGPA below 7.00");
    expect(others).toContain("Only for ECE");
    // Past its apply-by date a job is closed to applications: listed last, as closed, never open.
    const [open, closed] = page.body.split("Closed to applications");
    expect(open).not.toContain("Late Ltd");
    expect(closed).toContain("Late Ltd");
    expect(closed).toContain("Deadline passed");
  });
});

describe("the student's job list", () => {
  it("is paginated, open jobs with the soonest deadline first, and so are the applications", async () => {
    const me = await student();
    const first = await postJob(t.ctx, { company: "Company 00" });
    for (let i = 1; i < 55; i++) {
      await postJob(
        t.ctx,
        {
          company: `Company ${String(i).padStart(2, "0")}`,
          apply_by: new Date(Date.now() + (7 + i) * 24 * 3600 * 1000).toISOString(),
        },
        first.admin,
      );
    }
    const page1 = await me.client.get("/student/jobs");
    expect(page1.body.match(/<li class="job-row">/g)).toHaveLength(50);
    expect(page1.body).toContain("Company 00");
    expect(page1.body).not.toContain("Company 54");
    expect(page1.body).toContain('href="/student/jobs?page=2"');
    const page2 = await me.client.get("/student/jobs?page=2");
    expect(page2.body.match(/<li class="job-row">/g)).toHaveLength(5);
    expect(page2.body).toContain("Company 54");

    // Applications page too: 25 a page, newest first.
    const jobs = await t.ctx.db.selectFrom("jobs").select("id").orderBy("id").limit(30).execute();
    for (const job of jobs) await me.client.post(`/student/jobs/${job.id}/apply`);
    const apps1 = await me.client.get("/student/applications");
    expect(apps1.body.match(/<li class="card">/g)).toHaveLength(25);
    expect(apps1.body).toContain('href="/student/applications?page=2"');
    const apps2 = await me.client.get("/student/applications?page=2");
    expect(apps2.body.match(/<li class="card">/g)).toHaveLength(5);
  });
});

describe("applying", () => {
  it("applies once; a double submit is a no-op with a friendly message", async () => {
    const me = await student();
    const { id } = await postJob(t.ctx);
    const [a, b] = await Promise.all([
      me.client.post(`/student/jobs/${id}/apply`),
      me.client.post(`/student/jobs/${id}/apply`),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    const again = await me.client.post(`/student/jobs/${id}/apply`);
    expect(again.headers.location).toBe(`/student/jobs/${id}`);
    expect((await me.client.get(`/student/jobs/${id}`)).body).toContain(
      "You have already applied to this job.",
    );
    const rows = await t.ctx.db.selectFrom("applications").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe("applied");
    const events = await t.ctx.db.selectFrom("application_events").selectAll().execute();
    expect(events).toMatchObject([{ from_status: null, to_status: "applied", by_role: "student" }]);
  });

  it("enforces eligibility, the deadline and closing on the server, whatever the page showed", async () => {
    const me = await student({ cgpa: 6 });
    const picky = await postJob(t.ctx, { min_cgpa: 7 });
    const refused = await me.client.post(`/student/jobs/${picky.id}/apply`);
    expect(refused.statusCode).toBe(303);
    expect((await me.client.get(`/student/jobs/${picky.id}`)).body).toContain(
      "You cannot apply: CGPA below 7.00.",
    );

    const late = await postJob(t.ctx, { title: "Late" });
    await t.ctx.db
      .updateTable("jobs")
      .set({ apply_by: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", late.id)
      .execute();
    await me.client.post(`/student/jobs/${late.id}/apply`);

    const closed = await postJob(t.ctx, { title: "Closed" });
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "closed" })
      .where("id", "=", closed.id)
      .execute();
    await me.client.post(`/student/jobs/${closed.id}/apply`);
    expect((await me.client.get(`/student/jobs/${closed.id}`)).body).toContain(
      "Applications are closed",
    );

    expect(await t.ctx.db.selectFrom("applications").selectAll().execute()).toHaveLength(0);
    expect((await me.client.post("/student/jobs/999999/apply")).statusCode).toBe(404);
  });
});

describe("application statuses", () => {
  it("moves Applied -> Shortlisted -> Interview -> Selected, one SMS per change, a timeline for the student", async () => {
    const me = await student({ full_name: "Kavya Menon", phone: "+919812345678" });
    const { id: jobId } = await postJob(t.ctx, { company: "Wipro", title: "Project Engineer" });
    await me.client.post(`/student/jobs/${jobId}/apply`);
    const app = await applicationOf(me.id, jobId);
    const staff = await admin();

    for (const to of ["shortlisted", "interview", "selected"]) {
      // Selected, a decision, asks first: this is the confirmed post.
      const response = await staff.post(`/admin/applications/${app.id}/status?to=${to}`, {
        back: `/admin/jobs/${jobId}/applicants`,
        ...(to === "selected" ? { confirm: "yes" } : {}),
      });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe(`/admin/jobs/${jobId}/applicants`);
    }
    expect((await applicationOf(me.id, jobId)).status).toBe("selected");
    const sms = await statusSms();
    expect(sms.map((m) => m.body)).toEqual([
      "Dear Kavya, your status for Wipro - Project Engineer has been updated to 'Shortlisted'. Check the Placement Portal for details.",
      "Dear Kavya, your status for Wipro - Project Engineer has been updated to 'Interview'. Check the Placement Portal for details.",
      "Dear Kavya, your status for Wipro - Project Engineer has been updated to 'Selected'. Check the Placement Portal for details.",
    ]);
    expect(
      sms.every((m) => m.to_e164 === "+919812345678" && m.priority === 0 && m.status === "queued"),
    ).toBe(true);
    const events = await t.ctx.db
      .selectFrom("application_events")
      .selectAll()
      .where("application_id", "=", app.id)
      .orderBy("id")
      .execute();
    expect(events.map((e) => [e.from_status, e.to_status, e.by_role])).toEqual([
      [null, "applied", "student"],
      ["applied", "shortlisted", "admin"],
      ["shortlisted", "interview", "admin"],
      ["interview", "selected", "admin"],
    ]);
    expect(sms.map((m) => m.dedupe_key)).toEqual(events.slice(1).map((e) => `status:${e.id}`));

    const timeline = await me.client.get("/student/applications");
    expect(timeline.body).toContain("Selected");
    expect(
      timeline.body.match(/<li>[^<]*: (Applied|Shortlisted|Interview|Selected)/g),
    ).toHaveLength(4);
    expect(timeline.body).not.toContain("Withdraw this application");
  });

  it("refuses every invalid transition with a clear message and queues nothing for it", async () => {
    const staff = await admin();
    for (const [from, targets] of Object.entries(TRANSITIONS)) {
      for (const to of ["shortlisted", "interview", "selected", "rejected"] as const) {
        if ((targets as readonly string[]).includes(to)) continue;
        const me = await createStudent(t.ctx, { approved: true });
        const { jobId, app } = await applicationAt(
          me.id,
          from as ApplicationStatus,
          `${from}-${to}`,
        );
        const before = (await statusSms()).length;
        await staff.post(`/admin/applications/${app.id}/status?to=${to}`, {
          back: `/admin/jobs/${jobId}/applicants`,
          confirm: "yes",
        });
        const page = await staff.get(`/admin/jobs/${jobId}/applicants`);
        expect(page.body, `${from} -> ${to}`).toMatch(
          /Not changed: .*(already|cannot go from|is final)/,
        );
        expect((await applicationOf(me.id, jobId)).status).toBe(from);
        expect((await statusSms()).length).toBe(before);
      }
    }
  });

  it("allows every move the stages allow: the new status, one event, and an SMS for each admin move", async () => {
    const staff = await admin();
    for (const [from, targets] of Object.entries(TRANSITIONS)) {
      for (const to of targets) {
        // Only the student's own moves log them in (logins per address are limited).
        const me = await createStudent(t.ctx, { approved: true });
        const { jobId, app } = await applicationAt(
          me.id,
          from as ApplicationStatus,
          `${from}-${to}`,
        );
        const before = (await statusSms()).length;
        const mine = moverOf(to) === "student" ? await loginAs(t.app, me.email, me.password) : null;
        if (to === "withdrawn")
          await mine!.post(`/student/applications/${app.id}/withdraw`, { confirm: "yes" });
        else if (to === "applied") await mine!.post(`/student/jobs/${jobId}/apply`);
        else await staff.post(`/admin/applications/${app.id}/status?to=${to}`, { confirm: "yes" });
        expect((await applicationOf(me.id, jobId)).status, `${from} -> ${to}`).toBe(to);
        const events = await t.ctx.db
          .selectFrom("application_events")
          .selectAll()
          .where("application_id", "=", app.id)
          .execute();
        expect(events.map((e) => [e.from_status, e.to_status])).toEqual([[from, to]]);
        expect((await statusSms()).length - before).toBe(moverOf(to) === "student" ? 0 : 1);
      }
    }
  });

  it("bulk-shortlists a selection in one go, reporting the ones it could not move", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const apps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const me = await student();
      await me.client.post(`/student/jobs/${jobId}/apply`);
      apps.push((await applicationOf(me.id, jobId)).id);
    }
    const staff = await admin();
    await staff.post(`/admin/applications/${apps[3]}/status?to=rejected`, {
      back: `/admin/jobs/${jobId}/applicants`,
      confirm: "yes",
    });
    const response = await staff.post("/admin/applications/status", {
      ids: apps.map(String),
      to: "shortlisted",
      back: `/admin/jobs/${jobId}/applicants`,
      confirm: "yes",
    });
    expect(response.statusCode).toBe(303);
    const statuses = await t.ctx.db
      .selectFrom("applications")
      .select(["id", "status"])
      .orderBy("id")
      .execute();
    expect(statuses.map((s) => s.status)).toEqual([
      "shortlisted",
      "shortlisted",
      "shortlisted",
      "rejected",
    ]);
    expect(await statusSms()).toHaveLength(4); // 1 rejection + 3 shortlists
    const page = await staff.get(`/admin/jobs/${jobId}/applicants`);
    expect(page.body).toContain("3 moved to Shortlisted");
    expect(page.body).toMatch(/Not changed: .*Rejected is final/);
    // Repeating the same request queues nothing new.
    await staff.post("/admin/applications/status", {
      ids: apps.map(String),
      to: "shortlisted",
      back: `/admin/jobs/${jobId}/applicants`,
      confirm: "yes",
    });
    expect(await statusSms()).toHaveLength(4);
  });

  it("says after a move who gets an SMS, as the confirmation page did", async () => {
    const reachable = await createStudent(t.ctx, { approved: true });
    const silent = await createStudent(t.ctx, { approved: true });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", silent.id)
      .execute();
    const first = await applicationAt(reachable.id, "applied", "Analyst");
    const second = await applicationAt(silent.id, "applied", "Engineer");
    const staff = await admin();
    const move = (ids: number[], to: string) =>
      staff.post("/admin/applications/status", {
        ids: ids.map(String),
        to,
        back: "/admin/jobs",
        confirm: "yes",
      });
    await move([first.app.id, second.app.id], "shortlisted");
    let page = pageText((await staff.get("/admin/jobs")).body);
    expect(page).toContain(
      "2 moved to Shortlisted; 1 student gets an SMS; 1 does not (opted out of SMS).",
    );
    await move([second.app.id], "interview");
    page = pageText((await staff.get("/admin/jobs")).body);
    expect(page).toContain("1 moved to Interview; nobody gets an SMS (opted out of SMS).");
    expect(page).not.toContain("notified by SMS");
    await move([first.app.id], "interview");
    page = pageText((await staff.get("/admin/jobs")).body);
    expect(page).toContain("1 moved to Interview; the student gets an SMS.");
  });

  it("lets a student withdraw before a decision, not after, and only their own", async () => {
    const me = await student();
    const other = await student();
    const { id: jobId } = await postJob(t.ctx);
    await me.client.post(`/student/jobs/${jobId}/apply`);
    await other.client.post(`/student/jobs/${jobId}/apply`);
    const mine = await applicationOf(me.id, jobId);
    const theirs = await applicationOf(other.id, jobId);

    expect(
      (await me.client.post(`/student/applications/${theirs.id}/withdraw`, { confirm: "yes" }))
        .statusCode,
    ).toBe(404);
    await me.client.post(`/student/applications/${mine.id}/withdraw`, { confirm: "yes" });
    expect((await applicationOf(me.id, jobId)).status).toBe("withdrawn");
    expect(await statusSms()).toHaveLength(0);

    const staff = await admin();
    for (const to of ["shortlisted", "interview", "selected"])
      await staff.post(`/admin/applications/${theirs.id}/status?to=${to}`, { confirm: "yes" });
    await other.client.post(`/student/applications/${theirs.id}/withdraw`, { confirm: "yes" });
    expect((await applicationOf(other.id, jobId)).status).toBe("selected");
    expect((await other.client.get("/student/applications")).body).toContain(
      "You cannot withdraw it: Selected is final.",
    );
  });
});

describe("applicant list", () => {
  it("filters by status, department and CGPA, and exports the same as CSV", async () => {
    const { id: jobId } = await postJob(t.ctx, { company: "TCS", title: "Ninja" });
    const people = [
      { full_name: "Anil Kumar", department: "CSE", cgpa: 9.1 },
      { full_name: "Bhavna Shetty", department: "ECE", cgpa: 7.2 },
      { full_name: '=HYPERLINK("http://evil")', department: "CSE", cgpa: 6.5 },
    ];
    for (const p of people) {
      const me = await student(p);
      await me.client.post(`/student/jobs/${jobId}/apply`);
    }
    const staff = await admin();
    const bhavna = await t.ctx.db
      .selectFrom("students")
      .select("id")
      .where("full_name", "=", "Bhavna Shetty")
      .executeTakeFirstOrThrow();
    const app = await applicationOf(bhavna.id, jobId);
    await staff.post(`/admin/applications/${app.id}/status?to=shortlisted`);
    const shortlisted = await staff.get(`/admin/jobs/${jobId}/applicants?status=shortlisted`);
    expect(shortlisted.body).toContain("Bhavna Shetty");
    expect(shortlisted.body).not.toContain("Anil Kumar");
    // Each list's total, with and without a filter on the students.
    const totals = {
      "": "3 applicants",
      "?status=shortlisted": "1 applicant",
      "?status=applied": "2 applicants",
      "?status=selected": "0 applicants",
      "?department=CSE": "2 applicants",
      "?status=applied&department=CSE": "2 applicants",
      "?status=applied&department=ECE": "0 applicants",
      "?min_cgpa=7": "2 applicants",
    };
    for (const [query, total] of Object.entries(totals))
      expect((await staff.get(`/admin/jobs/${jobId}/applicants${query}`)).body, query).toContain(
        `<p>${total}</p>`,
      );
    const cse = await staff.get(`/admin/jobs/${jobId}/applicants?department=CSE&min_cgpa=7`);
    expect(cse.body).toContain("Anil Kumar");
    expect(cse.body).not.toContain("Bhavna Shetty");
    expect(cse.body).toContain("1 applicant");

    const csv = await staff.get(`/admin/jobs/${jobId}/applicants.csv?department=CSE`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toBe(
      'attachment; filename="applicants-TCS-Ninja.csv"',
    );
    const rows = parse(csv.body.replace(/^\uFEFF/, ""), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows.map((r) => r.Name)).toEqual(["Anil Kumar", '\'=HYPERLINK("http://evil")']);
    expect(rows[0]).toMatchObject({
      Department: "CSE",
      Semester: "7",
      CGPA: "9.10",
      Skills: "Java, SQL",
      Status: "Applied",
      Resume: "",
    });
    expect(Object.keys(rows[0]!)).toEqual([
      "Roll number",
      "Name",
      "Email",
      "Phone",
      "Department",
      "Semester",
      "Graduation year",
      "CGPA",
      "Active backlogs",
      "Skills",
      "Status",
      "Applied at",
      "Resume",
    ]);
    // In India time, as a spreadsheet sorts it.
    expect(rows[0]!["Applied at"]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} IST$/);
  });
});

describe("confirming applicant moves", () => {
  it("asks before rejecting one applicant, saying who gets which SMS; moves before a decision go straight", async () => {
    const me = await student({ full_name: "Kavya Menon", phone: "+919812345678" });
    const { id: jobId } = await postJob(t.ctx, { company: "Wipro", title: "Project Engineer" });
    await me.client.post(`/student/jobs/${jobId}/apply`);
    const app = await applicationOf(me.id, jobId);
    const staff = await admin();
    const back = `/admin/jobs/${jobId}/applicants`;

    const list = await staff.get(back);
    // Reject… is the red-outlined one, after the forward move and Selected….
    expect(list.body).toMatch(
      /Selected…<\/button><button type="submit" class="small danger" formaction="\/admin\/applications\/\d+\/status\?to=rejected" aria-label="Reject: Kavya Menon">Reject…<\/button>/,
    );

    const asked = await staff.post(`/admin/applications/${app.id}/status?to=rejected`, { back });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Reject Kavya Menon?");
    expect(text).toContain("1 application for Wipro – Project Engineer will move to Rejected.");
    expect(text).toContain(
      "Rejected is a decision: to undo it, use “Correct…” on its row (with a reason; the student gets an SMS).",
    );
    expect(text).toContain(
      "Kavya Menon will get an SMS at +919812345678: “Dear Kavya, your status for Wipro - Project Engineer has been updated to 'Rejected'. Check the Placement Portal for details.”",
    );
    expect(asked.body).toContain(`href="${back}" class="button secondary" id="cancel"`);
    expect((await applicationOf(me.id, jobId)).status).toBe("applied");
    expect(await statusSms()).toHaveLength(0);

    const done = await confirm(staff, asked);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(back);
    expect((await applicationOf(me.id, jobId)).status).toBe("rejected");
    expect(await statusSms()).toHaveLength(1);
  });

  it("asks before a bulk move: how many move, who gets an SMS, which cannot move", async () => {
    const { id: jobId } = await postJob(t.ctx, { company: "TCS", title: "Ninja" });
    const people = ["Anil Kumar", "Bhavna Shetty", "Chetan Gowda"];
    const apps: number[] = [];
    for (const full_name of people) {
      const me = await student({ full_name });
      await me.client.post(`/student/jobs/${jobId}/apply`);
      apps.push((await applicationOf(me.id, jobId)).id);
    }
    await t.ctx.db
      .updateTable("applications")
      .set({ status: "rejected" })
      .where("id", "=", apps[2]!)
      .execute();
    const staff = await admin();
    const back = `/admin/jobs/${jobId}/applicants`;

    const list = await staff.get(back);
    expect(list.body).toContain('data-select-all="ids"');
    expect(list.body).toContain('<script src="/assets/select-all.js" defer></script>');
    expect(list.body).toContain("Move selected…");

    const asked = await staff.post("/admin/applications/status", {
      ids: apps.map(String),
      to: "shortlisted",
      back,
    });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Move 2 applicants to Shortlisted?");
    expect(text).toContain("Anil Kumar");
    expect(text).toContain("Applied → Shortlisted");
    expect(text).toContain("2 students will get an SMS, each with their own name");
    expect(text).toContain("Not moved: 1 selected application (Chetan Gowda: Rejected is final)");
    const statuses = async () =>
      (await t.ctx.db.selectFrom("applications").select("status").orderBy("id").execute()).map(
        (r) => r.status,
      );
    expect(await statuses()).toEqual(["applied", "applied", "rejected"]);
    expect(await statusSms()).toHaveLength(0);

    expect((await confirm(staff, asked)).statusCode).toBe(303);
    expect(await statuses()).toEqual(["shortlisted", "shortlisted", "rejected"]);
    expect(await statusSms()).toHaveLength(2);

    // The audit log names the students and the job, in words.
    const log = pageText((await staff.get("/admin/audit")).body);
    expect(log).toContain("Moved 2 applications for TCS – Ninja to Shortlisted");
    expect(log).toContain("Anil Kumar (from Applied), Bhavna Shetty (from Applied)");
    expect(log).not.toContain("application.status");
  });

  it("says in the audit log whose application moved where", async () => {
    const me = await student({ full_name: "Asha Rao", roll_number: "1XY22CS001" });
    const { id: jobId } = await postJob(t.ctx, { company: "Infosys", title: "Systems Engineer" });
    await me.client.post(`/student/jobs/${jobId}/apply`);
    const app = await applicationOf(me.id, jobId);
    const staff = await admin();
    await staff.post(`/admin/applications/${app.id}/status?to=shortlisted`);
    const log = pageText((await staff.get("/admin/audit")).body);
    expect(log).toContain(
      "Moved Asha Rao's application for Infosys – Systems Engineer from Applied to Shortlisted",
    );
    expect(log).toContain("Approved student Asha Rao (1XY22CS001)");
    expect(log).not.toMatch(/applicationIds|"to":/);
  });
});

describe("the applicants list and its export", () => {
  async function withResume(app: TestApp, name: string) {
    const s = await createStudent(app.ctx, { approved: true, full_name: name });
    await app.ctx.db
      .updateTable("students")
      .set({ skills: "=cmd|' /C calc'!A0" })
      .where("id", "=", s.id)
      .execute();
    await putResume(app.ctx.db, s.id, pdfBytes(name), new Date().toISOString());
    return s;
  }

  it("links each resume, and the CSV gives semester, skills, a resume link and India time", async () => {
    const withOne = await withResume(t, "Has Resume");
    const without = await createStudent(t.ctx, { approved: true, full_name: "No Resume" });
    const { id: jobId } = await postJob(t.ctx);
    for (const s of [withOne, without]) {
      await t.ctx.db
        .insertInto("applications")
        .values({
          job_id: jobId,
          student_id: s.id,
          status: "applied",
          created_at: "2026-12-02T08:35:00.000Z",
          updated_at: "2026-12-02T08:35:00.000Z",
        })
        .execute();
    }
    const staff = await admin();
    const page = await staff.get(`/admin/jobs/${jobId}/applicants`);
    expect(page.body).toContain(
      `<a href="/admin/students/${withOne.id}/resume" aria-label="Resume of Has Resume (PDF)">Resume</a>`,
    );
    expect(page.body).not.toContain(`/admin/students/${without.id}/resume`);

    const csv = await staff.get(`/admin/jobs/${jobId}/applicants.csv`);
    const rows = parse(csv.body.replace(/^\uFEFF/, ""), { columns: true }) as Record<
      string,
      string
    >[];
    const byName = Object.fromEntries(rows.map((r) => [r.Name, r]));
    expect(byName["Has Resume"]).toMatchObject({
      Semester: "7",
      Skills: "'=cmd|' /C calc'!A0",
      "Applied at": "2026-12-02 14:05 IST",
      Resume: `/admin/students/${withOne.id}/resume`,
    });
    expect(byName["No Resume"]).toMatchObject({ Resume: "", Skills: "Java, SQL" });
  });

  it("makes the resume link absolute when PUBLIC_BASE_URL is set", async () => {
    const other = await createTestApp({ PUBLIC_BASE_URL: "https://portal.college.test/" });
    try {
      const s = await withResume(other, "Has Resume");
      const { id: jobId } = await postJob(other.ctx);
      const client = await loginAs(other.app, s.email, s.password);
      await client.post(`/student/jobs/${jobId}/apply`);
      const a = await createAdmin(other.ctx, "csv-admin@college.test");
      const staff = await loginAs(other.app, a.email, a.password);
      const csv = await staff.get(`/admin/jobs/${jobId}/applicants.csv`);
      const rows = parse(csv.body.replace(/^\uFEFF/, ""), { columns: true }) as Record<
        string,
        string
      >[];
      expect(rows[0]!.Resume).toBe(`https://portal.college.test/admin/students/${s.id}/resume`);
    } finally {
      await other.close();
    }
  });
});
