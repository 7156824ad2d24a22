// @both-databases: the audience is one INSERT ... SELECT per dialect.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
} from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";

let t: TestApp;
afterEach(async () => {
  await t.close();
});

async function staffClient() {
  const admin = await createAdmin(t.ctx);
  return loginAs(t.app, admin.email, admin.password);
}

async function optOut(studentId: number) {
  await t.ctx.db
    .updateTable("students")
    .set({ sms_opted_out_at: new Date().toISOString() })
    .where("id", "=", studentId)
    .execute();
}

/** The student ids an announcement's SMS went to, sorted. */
async function smsRecipients(title: string): Promise<number[]> {
  const row = await t.ctx.db
    .selectFrom("announcements")
    .select("id")
    .where("title", "=", title)
    .executeTakeFirstOrThrow();
  const rows = await t.ctx.db
    .selectFrom("sms_messages")
    .select("student_id")
    .where("reference", "=", `announcement:${row.id}`)
    .execute();
  return rows.map((r) => r.student_id!).sort((a, b) => a - b);
}

/** The announcements section of a student's dashboard (the rest lists jobs, which share names). */
async function dashboardOf(student: { email: string; password: string }): Promise<string> {
  const client = await loginAs(t.app, student.email, student.password);
  const body = (await client.get("/student")).body;
  const start = body.indexOf("<h2>Announcements</h2>");
  expect(start).toBeGreaterThan(0);
  return body.slice(start, body.indexOf("</section>", start));
}

function post(staff: TestClient, fields: Record<string, string | string[]>) {
  return staff.post("/admin/announcements", {
    submission_id: randomUUID(),
    message: "Details in the seminar hall.",
    send_sms: "on",
    ...fields,
  });
}

describe("an announcement's audience", () => {
  it("by department: only that department's approved students are texted (not the opted-out) and see it", async () => {
    t = await createTestApp();
    const cse = await createStudent(t.ctx, { approved: true, department: "CSE" });
    const cseOptedOut = await createStudent(t.ctx, { approved: true, department: "CSE" });
    await optOut(cseOptedOut.id);
    const ece = await createStudent(t.ctx, { approved: true, department: "ECE" });
    const mech = await createStudent(t.ctx, { approved: true, department: "ME" });
    const pending = await createStudent(t.ctx, { approved: false, department: "CSE" });
    const staff = await staffClient();

    const response = await post(staff, {
      title: "Circuits lab drive",
      audience: "students",
      departments: ["CSE", "ECE"],
    });
    expect(response.statusCode).toBe(303);
    expect(pageText((await staff.get("/admin/announcements")).body)).toContain(
      "Announcement posted for 3 students; 2 SMS queued",
    );
    expect(await smsRecipients("Circuits lab drive")).toEqual(
      [cse.id, ece.id].sort((a, b) => a - b),
    );
    await post(staff, { title: "Mechanical only", audience: "students", departments: "ME" });

    expect(await dashboardOf(cse)).toContain("Circuits lab drive");
    expect(await dashboardOf(cseOptedOut)).toContain("Circuits lab drive");
    expect(await dashboardOf(ece)).toContain("Circuits lab drive");
    expect(await dashboardOf(cse)).not.toContain("Mechanical only");
    const mechDashboard = await dashboardOf(mech);
    expect(mechDashboard).not.toContain("Circuits lab drive");
    expect(mechDashboard).toContain("Mechanical only");
    expect(pending.id).toBeGreaterThan(0);

    const list = pageText((await staff.get("/admin/announcements")).body);
    expect(list).toContain("For: Students of CSE, ECE (3 students) · sent by SMS to 2 students");
    expect(list).toContain("For: Students of ME (1 student)");
    const audit = pageText((await staff.get("/admin/audit")).body);
    expect(audit).toContain(
      "Posted the announcement “Circuits lab drive” Sent by SMS to 2 students, for Students of CSE, ECE (3 students)",
    );
  });

  it("by graduation year and semester: AND between the lists, OR within one", async () => {
    t = await createTestApp();
    const a = await createStudent(t.ctx, { approved: true, graduation_year: 2027, semester: 7 });
    const b = await createStudent(t.ctx, { approved: true, graduation_year: 2028, semester: 5 });
    const c = await createStudent(t.ctx, { approved: true, graduation_year: 2027, semester: 5 });
    await createStudent(t.ctx, { approved: true, graduation_year: 2029, semester: 7 });
    const staff = await staffClient();
    const response = await post(staff, {
      title: "Final years",
      audience: "students",
      graduation_years: ["2027", "2028"],
      semesters: ["7", "5"],
    });
    expect(response.statusCode).toBe(303);
    expect(await smsRecipients("Final years")).toEqual([a.id, b.id, c.id].sort((x, y) => x - y));
    await post(staff, {
      title: "Seventh semester of 2027",
      audience: "students",
      graduation_years: "2027",
      semesters: "7",
    });
    expect(await smsRecipients("Seventh semester of 2027")).toEqual([a.id]);
    expect(await dashboardOf(c)).not.toContain("Seventh semester of 2027");
    expect(pageText((await staff.get("/admin/announcements")).body)).toContain(
      "Students graduating 2027, 2028, in semesters 5, 7",
    );
  });

  it("the applicants of one job, all of them or at one stage; withdrawn applicants are never in it", async () => {
    t = await createTestApp();
    const job = await postJob(t.ctx, { company: "Infosys", title: "SDE" });
    const other = await postJob(t.ctx, { company: "Wipro", title: "Analyst" });
    const applied = await createStudent(t.ctx, { approved: true });
    const shortlisted = await createStudent(t.ctx, { approved: true });
    const withdrawn = await createStudent(t.ctx, { approved: true });
    const elsewhere = await createStudent(t.ctx, { approved: true });
    const applications: Record<string, number> = {};
    for (const [name, student] of Object.entries({ applied, shortlisted, withdrawn })) {
      const result = await applyToJob(t.ctx, student.id, job.id);
      if (!result.ok) throw new Error(result.message);
      applications[name] = result.applicationId;
    }
    const otherApplication = await applyToJob(t.ctx, elsewhere.id, other.id);
    expect(otherApplication.ok).toBe(true);
    await t.ctx.db
      .updateTable("applications")
      .set({ status: "shortlisted" })
      .where("id", "=", applications.shortlisted!)
      .execute();
    await t.ctx.db
      .updateTable("applications")
      .set({ status: "withdrawn" })
      .where("id", "=", applications.withdrawn!)
      .execute();
    const staff = await staffClient();

    await post(staff, {
      title: "All Infosys applicants",
      audience: "applicants",
      job_id: String(job.id),
    });
    expect(await smsRecipients("All Infosys applicants")).toEqual(
      [applied.id, shortlisted.id].sort((a, b) => a - b),
    );
    await post(staff, {
      title: "Infosys interview list",
      audience: "applicants",
      job_id: String(job.id),
      stage: "shortlisted",
    });
    expect(await smsRecipients("Infosys interview list")).toEqual([shortlisted.id]);

    expect(await dashboardOf(shortlisted)).toContain("Infosys interview list");
    const appliedDashboard = await dashboardOf(applied);
    expect(appliedDashboard).toContain("All Infosys applicants");
    expect(appliedDashboard).not.toContain("Infosys interview list");
    expect(await dashboardOf(withdrawn)).not.toContain("Infosys");
    expect(await dashboardOf(elsewhere)).not.toContain("Infosys");

    // The audience was fixed when posted: moving on later neither adds nor removes anyone.
    await t.ctx.db
      .updateTable("applications")
      .set({ status: "interview" })
      .where("id", "=", applications.shortlisted!)
      .execute();
    expect(await dashboardOf(shortlisted)).toContain("Infosys interview list");

    const list = pageText((await staff.get("/admin/announcements")).body);
    expect(list).toContain("For: Shortlisted for Infosys – SDE (1 student)");
    expect(list).toContain("For: Applicants to Infosys – SDE (not withdrawn) (2 students)");
  });

  it("refuses, with a message beside the field and nothing posted, a missing job, an empty selection and an empty audience", async () => {
    t = await createTestApp();
    await createStudent(t.ctx, { approved: true, department: "CSE" });
    const job = await postJob(t.ctx);
    const staff = await staffClient();
    const cases: [Record<string, string | string[]>, string][] = [
      [{ audience: "applicants", job_id: "999999" }, "That job does not exist any more."],
      [{ stage: "selected" }, "Choose the job whose applicants at that stage it is for"],
      [{ audience: "applicants", job_id: String(job.id) }, "Nobody is in this audience"],
      [{ job_id: String(job.id), departments: "CSE" }, "not both"],
      [{ audience: "students", departments: "ECE" }, "Nobody is in this audience"],
    ];
    for (const [fields, message] of cases) {
      const response = await post(staff, { title: "Refused", ...fields });
      expect(response.statusCode, JSON.stringify(fields)).toBe(422);
      expect(pageText(response.body)).toContain(message);
    }
    // Hostile values: a field error, never a 500.
    const hostile: Record<string, string | string[]>[] = [
      { audience: "students", departments: "XYZ" },
      { audience: "students", graduation_years: "1e3" },
      { audience: "students", semesters: ["7", "99"] },
      { audience: "applicants", job_id: "-1" },
      { audience: "applicants", job_id: "99999999999999999999" },
      { audience: "applicants", job_id: "1; drop table jobs" },
      { audience: "applicants", job_id: String(job.id), stage: "withdrawn" },
      { audience: "applicants", job_id: [String(job.id), "2"] },
    ];
    for (const fields of hostile) {
      const response = await post(staff, { title: "Hostile", ...fields });
      expect(response.statusCode, JSON.stringify(fields)).toBe(422);
    }
    expect(await t.ctx.db.selectFrom("announcements").select("id").execute()).toEqual([]);
    expect(await t.ctx.db.selectFrom("announcement_recipients").selectAll().execute()).toEqual([]);
  });

  it("a repeated submit of the same form posts the aimed announcement and texts its audience once", async () => {
    t = await createTestApp();
    await createStudent(t.ctx, { approved: true, department: "CSE" });
    const staff = await staffClient();
    const fields = {
      submission_id: randomUUID(),
      title: "Once",
      message: "Only once.",
      send_sms: "on",
      audience: "students",
      departments: "CSE",
    };
    expect((await staff.post("/admin/announcements", fields)).statusCode).toBe(303);
    expect((await staff.post("/admin/announcements", fields)).statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("announcements").select("id").execute()).toHaveLength(1);
    expect(await t.ctx.db.selectFrom("announcement_recipients").selectAll().execute()).toHaveLength(
      1,
    );
    expect(await smsRecipients("Once")).toHaveLength(1);
  });
});

describe("the preview", () => {
  async function setUp(env: Record<string, string> = {}) {
    t = await createTestApp(env);
    await createStudent(t.ctx, { approved: true, department: "CSE" });
    await createStudent(t.ctx, { approved: true, department: "CSE" });
    const optedOut = await createStudent(t.ctx, { approved: true, department: "CSE" });
    await optOut(optedOut.id);
    await createStudent(t.ctx, { approved: true, department: "ECE" });
    return staffClient();
  }
  const longMessage = "Bring two copies of your resume and your college ID card. ".repeat(3);

  it("counts the audience, who can get the SMS, its segments and encoding, and posts nothing", async () => {
    const staff = await setUp();
    const response = await post(staff, {
      title: "Drive",
      message: longMessage,
      audience: "students",
      departments: "CSE",
      intent: "preview",
    });
    expect(response.statusCode).toBe(200);
    const text = pageText(response.body);
    expect(text).toContain(
      "Students of CSE: 3 approved students are in the audience; 2 can get the SMS (1 opted out): 2 messages × 2 segments (GSM-7) = 4 segments.",
    );
    expect(text).not.toContain("about INR");
    // The form keeps the choice.
    expect(response.body).toMatch(/name="departments" value="CSE"[^>]*checked/);
    expect(await t.ctx.db.selectFrom("announcements").select("id").execute()).toEqual([]);
    expect(
      await t.ctx.db.selectFrom("sms_messages").select("id").where("kind", "=", "custom").execute(),
    ).toEqual([]);
  });

  it("prices the segments when SMS_PRICE_PER_SEGMENT is set, for announcements and job postings", async () => {
    const staff = await setUp({ SMS_PRICE_PER_SEGMENT: "0.25" });
    const announcement = pageText(
      (
        await post(staff, {
          title: "Drive",
          message: longMessage,
          audience: "everyone",
          intent: "preview",
        })
      ).body,
    );
    expect(announcement).toContain(
      "Every approved student: 4 approved students are in the audience; 3 can get the SMS (1 opted out): 3 messages × 2 segments (GSM-7) = 6 segments, about INR 1.50.",
    );
    await staff.get("/admin/jobs/new");
    const job = await staff.post("/admin/jobs/new", {
      submission_id: randomUUID(),
      company: "Infosys",
      title: "SDE",
      type: "placement",
      apply_by: "2099-01-01T10:00",
      departments: "CSE",
      send_sms: "on",
      intent: "preview",
    });
    expect(job.statusCode).toBe(200);
    expect(pageText(job.body)).toMatch(/= 2 segments, about INR 0\.50\./);
  });

  it("without a price, the job posting preview shows no cost", async () => {
    const staff = await setUp();
    await staff.get("/admin/jobs/new");
    const job = await staff.post("/admin/jobs/new", {
      submission_id: randomUUID(),
      company: "Infosys",
      title: "SDE",
      type: "placement",
      apply_by: "2099-01-01T10:00",
      departments: "CSE",
      send_sms: "on",
      intent: "preview",
    });
    expect(pageText(job.body)).toMatch(/= 2 segments\. Text:/);
  });
});
