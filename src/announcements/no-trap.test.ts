import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { confirm, confirmForm, pageText } from "#test/support/confirm.ts";

/**
 * Issue 21, "no trap": the audience is what is ticked or picked (never a switch left elsewhere),
 * the SMS is a conscious choice, and a large or priced SMS asks first on a confirmation page.
 */

const t = useTestApp();

async function staffClient() {
  const admin = await createAdmin(t.ctx);
  return loginAs(t.app, admin.email, admin.password);
}

function post(staff: TestClient, fields: Record<string, string | string[]>) {
  return staff.post("/admin/announcements", {
    submission_id: randomUUID(),
    title: "Circuits lab drive",
    message: "Details in the seminar hall.",
    ...fields,
  });
}

async function announcementCount(): Promise<number> {
  return (await t.ctx.db.selectFrom("announcements").select("id").execute()).length;
}

async function customSms(): Promise<number[]> {
  const rows = await t.ctx.db
    .selectFrom("sms_messages")
    .select("student_id")
    .where("kind", "=", "custom")
    .execute();
  return rows.map((r) => r.student_id!).sort((a, b) => a - b);
}

/** `n` approved students of CSE (a loop of the registration service, as a day's approvals). */
async function approvedStudents(n: number) {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push((await createStudent(t.ctx, { approved: true })).id);
  return ids;
}

/** Whether the form's "Also send it as an SMS" box is ticked. */
function smsBoxTicked(body: string): boolean {
  const box = /<input type="checkbox" name="send_sms"[^>]*>/.exec(body);
  expect(box).not.toBeNull();
  return /\bchecked\b/.test(box![0]);
}

describe("the announcement's audience is what is ticked or picked", () => {
  it("ECE and 2027 ticked: only those students, even with the old form's 'everyone' left on", async () => {
    const eceFinal = await createStudent(t.ctx, {
      approved: true,
      department: "ECE",
      graduation_year: 2027,
    });
    await createStudent(t.ctx, { approved: true, department: "ECE", graduation_year: 2028 });
    await createStudent(t.ctx, { approved: true, department: "CSE", graduation_year: 2027 });
    const staff = await staffClient();

    const response = await post(staff, {
      departments: "ECE",
      graduation_years: "2027",
      send_sms: "on",
    });
    expect(response.statusCode).toBe(303);
    expect(await customSms()).toEqual([eceFinal.id]);
    // A form opened before the change still sends its radio: the ticks win, never ignored.
    await post(staff, {
      title: "Second",
      audience: "everyone",
      departments: "ECE",
      graduation_years: "2027",
      send_sms: "on",
    });
    expect(await customSms()).toEqual([eceFinal.id, eceFinal.id]);
    const list = pageText((await staff.get("/admin/announcements")).body);
    expect(list).toContain("For: Students of ECE, graduating 2027 (1 student)");
  });

  it("a job picked means its applicants, without any other choice", async () => {
    const job = await postJob(t.ctx, { company: "Infosys", title: "SDE" });
    const applicant = await createStudent(t.ctx, { approved: true });
    await createStudent(t.ctx, { approved: true });
    const applied = await applyToJob(t.ctx, applicant.id, job.id);
    expect(applied.ok).toBe(true);
    const staff = await staffClient();
    expect((await post(staff, { job_id: String(job.id), send_sms: "on" })).statusCode).toBe(303);
    expect(await customSms()).toEqual([applicant.id]);
  });

  it("nothing ticked and no job: every approved student, said in words in the preview", async () => {
    await approvedStudents(2);
    const staff = await staffClient();
    const preview = await post(staff, { intent: "preview", send_sms: "on" });
    expect(preview.statusCode).toBe(200);
    expect(pageText(preview.body)).toContain(
      "Every approved student: 2 approved students are in the audience",
    );
    expect(pageText(preview.body)).toContain(
      "Nothing ticked and no job chosen: every approved student",
    );
  });

  it("a job picked together with ticks is refused with a clear error, keeping everything typed", async () => {
    const job = await postJob(t.ctx, { company: "Infosys", title: "SDE" });
    await createStudent(t.ctx, { approved: true, department: "ECE" });
    const staff = await staffClient();
    const response = await post(staff, {
      title: "Mixed up",
      message: "Which one?",
      departments: ["ECE", "CSE"],
      graduation_years: "2027",
      job_id: String(job.id),
      stage: "shortlisted",
      send_sms: "on",
    });
    expect(response.statusCode).toBe(422);
    const text = pageText(response.body);
    expect(text).toContain(
      "Choose either departments, graduation years and semesters, or the applicants of one job, not both",
    );
    expect(response.body).toContain('value="Mixed up"');
    expect(response.body).toContain("Which one?");
    expect(response.body).toMatch(/name="departments" value="ECE"[^>]*checked/);
    expect(response.body).toMatch(/name="departments" value="CSE"[^>]*checked/);
    expect(response.body).toMatch(/name="graduation_years" value="2027"[^>]*checked/);
    expect(response.body).toMatch(new RegExp(`<option value="${job.id}" selected`));
    expect(response.body).toMatch(/<option value="shortlisted" selected/);
    expect(smsBoxTicked(response.body)).toBe(true);
    expect(await announcementCount()).toBe(0);
  });

  it("a stage without a job is refused, not dropped", async () => {
    await createStudent(t.ctx, { approved: true });
    const staff = await staffClient();
    const response = await post(staff, { stage: "selected", send_sms: "on" });
    expect(response.statusCode).toBe(422);
    expect(pageText(response.body)).toContain("Choose the job whose applicants at that stage");
    expect(await announcementCount()).toBe(0);
  });
});

describe("the SMS box is a conscious choice", () => {
  it("is unticked on a new form, and a form shown again keeps it as it was left", async () => {
    const staff = await staffClient();
    expect(smsBoxTicked((await staff.get("/admin/announcements")).body)).toBe(false);
    // An error (no title) shows the form again: ticked stays ticked, unticked stays unticked.
    expect(smsBoxTicked((await post(staff, { title: "", send_sms: "on" })).body)).toBe(true);
    expect(smsBoxTicked((await post(staff, { title: "" })).body)).toBe(false);
  });
});

describe("an SMS to more than 100 students, or priced, asks first", () => {
  it("101 students: a confirmation with the count and segments; nothing posted or queued until confirmed", async () => {
    await approvedStudents(101);
    const staff = await staffClient();
    const asked = await post(staff, { send_sms: "on" });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Send “Circuits lab drive” by SMS to 101 students?");
    expect(text).toContain(
      "“Circuits lab drive” is posted for Every approved student: 101 approved students, and those approved later.",
    );
    expect(text).toContain(
      "101 students get an SMS: 101 messages × 1 segment (GSM-7) = 101 segments.",
    );
    expect(text).toContain("The students are counted again when you confirm");
    expect(text).toContain("Post and send 101 SMS");
    expect(await announcementCount()).toBe(0);
    expect(await customSms()).toEqual([]);

    const done = await confirm(staff, asked);
    expect(done.statusCode).toBe(303);
    expect(await announcementCount()).toBe(1);
    expect(await customSms()).toHaveLength(101);
    expect(pageText((await staff.get("/admin/announcements")).body)).toContain(
      "Announcement posted for 101 students; 101 SMS queued (101 segments).",
    );
  });

  it("100 students, no price: posted at once; without the SMS: posted at once", async () => {
    await approvedStudents(100);
    const staff = await staffClient();
    expect((await post(staff, { send_sms: "on" })).statusCode).toBe(303);
    expect(await customSms()).toHaveLength(100);
  });

  it("says so when the count changed between the confirmation and the confirm", async () => {
    await approvedStudents(101);
    const staff = await staffClient();
    const asked = await post(staff, { send_sms: "on" });
    expect(pageText(asked.body)).toContain("SMS to 101 students?");
    await approvedStudents(1);
    expect((await confirm(staff, asked)).statusCode).toBe(303);
    expect(await customSms()).toHaveLength(102);
    expect(pageText((await staff.get("/admin/announcements")).body)).toContain(
      "102 SMS queued (102 segments). The confirmation page said 101: the count changed before you confirmed.",
    );
  });

  it("Cancel goes back to the form with everything typed, and nothing is posted", async () => {
    await approvedStudents(101);
    const staff = await staffClient();
    const asked = await post(staff, {
      title: "Aptitude test",
      message: "Hall B\nBring a pencil.",
      departments: "CSE",
      semesters: ["7", "8"],
      send_sms: "on",
    });
    expect(pageText(asked.body)).toContain("SMS to 101 students?");
    const { action, fields } = confirmForm(asked);
    const back = await staff.post(action, { ...fields, back: "yes" });
    expect(back.statusCode).toBe(200);
    expect(back.body).toContain('value="Aptitude test"');
    expect(back.body).toContain("Hall B\nBring a pencil.");
    expect(back.body).toMatch(/name="departments" value="CSE"[^>]*checked/);
    expect(back.body).toMatch(/name="semesters" value="7"[^>]*checked/);
    expect(back.body).toMatch(/name="semesters" value="8"[^>]*checked/);
    expect(smsBoxTicked(back.body)).toBe(true);
    expect(await announcementCount()).toBe(0);
    expect(await customSms()).toEqual([]);
  });
});

describe("with SMS_PRICE_PER_SEGMENT set", () => {
  const priced = useTestApp({ SMS_PRICE_PER_SEGMENT: "0.25" });

  it("any SMS asks first with its cost; posting without the SMS does not", async () => {
    await createStudent(priced.ctx, { approved: true });
    await createStudent(priced.ctx, { approved: true });
    const admin = await createAdmin(priced.ctx);
    const staff = await loginAs(priced.app, admin.email, admin.password);
    const asked = await post(staff, { send_sms: "on" });
    expect(asked.statusCode).toBe(200);
    expect(pageText(asked.body)).toContain(
      "2 students get an SMS: 2 messages × 1 segment (GSM-7) = 2 segments, about INR 0.50.",
    );
    expect(await priced.ctx.db.selectFrom("announcements").select("id").execute()).toEqual([]);
    expect((await post(staff, { title: "No SMS" })).statusCode).toBe(303);
    expect((await confirm(staff, asked)).statusCode).toBe(303);
    expect(
      await priced.ctx.db
        .selectFrom("sms_messages")
        .select("id")
        .where("kind", "=", "custom")
        .execute(),
    ).toHaveLength(2);
  });
});

describe("the job picker", () => {
  it("lists open jobs first by deadline, then closed ones, each with its state, deadline, posting date and number", async () => {
    const day = 24 * 3600 * 1000;
    const at = (days: number) => new Date(Date.now() + days * day).toISOString();
    const later = await postJob(t.ctx, { company: "Infosys", title: "SDE", apply_by: at(20) });
    const sooner = await postJob(t.ctx, { company: "Wipro", title: "Analyst", apply_by: at(3) });
    const twin = await postJob(t.ctx, { company: "Infosys", title: "SDE", apply_by: at(10) });
    const closed = await postJob(t.ctx, { company: "TCS", title: "Ninja", apply_by: at(5) });
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "closed" })
      .where("id", "=", closed.id)
      .execute();
    const passed = await postJob(t.ctx, { company: "Bosch", title: "GET", apply_by: at(30) });
    await t.ctx.db
      .updateTable("jobs")
      .set({ apply_by: at(-2) })
      .where("id", "=", passed.id)
      .execute();
    const staff = await staffClient();

    const body = (await staff.get("/admin/announcements")).body;
    const select = /<select id="f-job_id"[\s\S]*?<\/select>/.exec(body)![0];
    const order = [...select.matchAll(/<option value="(\d+)"[^>]*>([^<]*)</g)].map((m) => ({
      id: Number(m[1]),
      label: pageText(m[2]!),
    }));
    expect(order.map((o) => o.id)).toEqual([sooner.id, twin.id, later.id, closed.id, passed.id]);
    expect(select).toMatch(/<optgroup label="Open to applications, nearest deadline first">/);
    expect(select).toMatch(/<optgroup label="Closed, latest deadline first">/);
    const label = (id: number) => order.find((o) => o.id === id)!.label;
    expect(label(sooner.id)).toMatch(
      /^Wipro – Analyst · open, apply by .+ · posted .+ · no\. \d+$/,
    );
    expect(label(closed.id)).toMatch(/^TCS – Ninja · closed, apply-by was .+ · posted/);
    expect(label(passed.id)).toMatch(/^Bosch – GET · deadline passed, apply-by was /);
    // Two jobs alike read differently.
    expect(label(twin.id)).not.toBe(label(later.id));
    expect(label(twin.id)).toContain(`no. ${twin.id}`);
  });
});
