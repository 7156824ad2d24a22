import { describe, expect, it } from "vitest";
import { toLocalInput } from "#src/web/time.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";

/**
 * One job, one spelling; one count, one way: the main pages of a portal with 1,201 approved
 * students, all of them applicants of one job with an alert queued for each, write the job as
 * "Infosys – Systems Engineer" (web/format.ts's jobName) and every count with separators (1,201,
 * never 1201 next to another page's 1,889).
 */

const t = useTestApp();
const JOB = "Infosys \u2013 Systems Engineer";
const OTHER_SPELLINGS = ["Infosys \u2014 Systems Engineer", "Infosys - Systems Engineer"];
const MORE = 1200;

/** 1,200 approved students beside `createStudent`'s one (plain rows: registration is tested elsewhere). */
async function manyApprovedStudents() {
  const now = new Date().toISOString();
  for (let start = 0; start < MORE; start += 400) {
    const users = await t.ctx.db
      .insertInto("users")
      .values(
        Array.from({ length: 400 }, (_, i) => ({
          email: `many${start + i}@college.test`,
          password_hash: "not-a-login",
          role: "student" as const,
          created_at: now,
        })),
      )
      .returning("id")
      .execute();
    await t.ctx.db
      .insertInto("students")
      .values(
        users.map(({ id }, i) => ({
          user_id: id,
          full_name: `Student ${start + i}`,
          roll_number: `1MANY${String(start + i).padStart(5, "0")}`,
          phone_e164: `+9198451${String(start + i).padStart(5, "0")}`,
          department: "CSE",
          semester: 7,
          graduation_year: 2027,
          cgpa: 8,
          active_backlogs: 0,
          skills: "",
          approved_at: now,
          sms_opted_out_at: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
}

/** The job's spellings a page uses (the page text is too long for a readable failure). */
function spellings(text: string): string[] {
  return [JOB, ...OTHER_SPELLINGS].filter((spelling) => text.includes(spelling));
}

function expectOneSpelling(text: string) {
  expect(spellings(text)).toEqual([JOB]);
}

describe("one way to write a job and a number", () => {
  it("on the admin's and the student's main pages", { timeout: 60_000 }, async () => {
    const asha = await createStudent(t.ctx, { approved: true, department: "CSE" });
    await manyApprovedStudents();
    const job = await postJob(t.ctx, { send_sms: true });
    expect(job.alerts).toBe(MORE + 1);
    const now = new Date().toISOString();
    const students = await t.ctx.db.selectFrom("students").select("id").execute();
    for (let start = 0; start < students.length; start += 400)
      await t.ctx.db
        .insertInto("applications")
        .values(
          students.slice(start, start + 400).map((s) => ({
            job_id: job.id,
            student_id: s.id,
            status: "applied" as const,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();

    const admin = await createAdmin(t.ctx);
    const office = await loginAs(t.app, admin.email, admin.password);
    const text = async (url: string) => {
      const response = await office.get(url);
      expect(response.statusCode, url).toBe(200);
      return pageText(response.body);
    };

    const dashboard = await text("/admin");
    expect(dashboard).toContain("1,201 approved students");
    expect(dashboard).toContain("1,201 applications");
    expect(dashboard).toMatch(/CSE 1,201 1,201 0 /);

    const jobs = await text("/admin/jobs");
    expect(jobs).toMatch(/Systems Engineer .* 1,201 /);
    const jobPage = await text(`/admin/jobs/${job.id}`);
    expectOneSpelling(jobPage);
    expect(jobPage).toContain("alert SMS queued at posting: 1,201");
    expect(jobPage).toContain("1,201 still queued");

    const applicants = await text(`/admin/jobs/${job.id}/applicants`);
    expectOneSpelling(applicants);
    expect(applicants).toContain("1,201 Applied");

    // The SMS texts themselves keep their DLT template's "-" (see src/sms/templates.ts).
    const console = await text("/admin/sms");
    expect(console).toContain(`Job: ${JOB}`);
    expect(console).not.toMatch(/Job: Infosys [-\u2014]/);
    expect(console).toContain("1,202 Queued"); // the alerts and Asha's approval SMS
    expect(console).toContain("1,202 messages");
    const filtered = await text(`/admin/sms?job=${job.id}`);
    expect(filtered).toContain(`Job alert of ${JOB}`);
    expect(filtered).not.toMatch(/Job alert of Infosys [-\u2014]/);
    expectOneSpelling(await text("/admin/announcements"));
    expectOneSpelling(await text("/admin/audit"));

    const student = await loginAs(t.app, asha.email, asha.password);
    for (const url of ["/student", "/student/jobs", `/student/jobs/${job.id}`]) {
      const response = await student.get(url);
      expect(response.statusCode, url).toBe(200);
      expectOneSpelling(pageText(response.body));
    }

    // Editing the job rewrites its 1,201 queued alerts, and says so with the number written out.
    const edited = await office.post(`/admin/jobs/${job.id}`, {
      company: "Infosys",
      title: "Systems Engineer",
      type: "internship",
      description: "Join us.",
      location: "Mysuru",
      package_range: "3.6 LPA",
      official_link: "",
      apply_by: toLocalInput(job.input.apply_by),
      min_cgpa: "",
      max_backlogs: "",
    });
    expect(edited.statusCode).toBe(303);
    expect(await text(`/admin/jobs/${job.id}`)).toContain(
      "1,201 alerts not sent yet now carry the new text",
    );

    // No page writes a count of a thousand or more without its separator.
    for (const page of [dashboard, jobs, jobPage, applicants, console])
      expect(page).not.toMatch(/\b120[12]\b/);
  });
});
