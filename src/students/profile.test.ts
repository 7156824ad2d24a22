import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { storedResumes } from "#test/support/resumes.ts";

const t = useTestApp();

describe("student profile", () => {
  it("tells every error in one round and asks for a chosen resume again", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const both = await client.postMultipart("/student/profile", {
      phone: "12345",
      skills: "CAD",
      resume: { filename: "cv.pdf", data: Buffer.from("MZ\x90\x00 not a pdf") },
    });
    expect(both.statusCode).toBe(422);
    expect(both.body).toMatch(/id="f-phone-error"[^>]*>This is not a valid phone number\./);
    expect(both.body).toMatch(/id="f-resume-error"[^>]*>The resume must be a PDF file\./);

    const again = await client.postMultipart("/student/profile", {
      phone: "12345",
      skills: "CAD",
      resume: { filename: "cv.pdf", data: pdfBytes() },
    });
    expect(again.statusCode).toBe(422);
    expect(again.body).toMatch(
      /id="f-resume-error"[^>]*>Choose the file \(cv\.pdf\) again: a form sent back cannot keep it\./,
    );
  });

  it("lets a student change their skills and resume (and ask for a new phone), nothing academic", async () => {
    const student = await createStudent(t.ctx, {
      approved: true,
      cgpa: 6.5,
      active_backlogs: 2,
      department: "ME",
    });
    const client = await loginAs(t.app, student.email, student.password);
    const page = await client.get("/student/profile");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Only the placement office can change these");

    const response = await client.postMultipart("/student/profile", {
      // A new number waits for the code sent to it (phone-change.test.ts); the rest is saved.
      phone: "+91 91234 56789",
      current_password: student.password,
      skills: "CAD, SolidWorks",
      sms: "on",
      resume: { filename: "cv.pdf", data: pdfBytes("v1") },
      // Forged extra fields are ignored.
      cgpa: "9.9",
      active_backlogs: "0",
      department: "CSE",
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/student/phone");
    expect((await client.get("/student/profile")).body).toContain("Your profile has been saved.");

    const row = await t.ctx.db
      .selectFrom("students")
      .selectAll()
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      phone_e164: student.phone,
      skills: "CAD, SolidWorks",
      cgpa: 6.5,
      active_backlogs: 2,
      department: "ME",
    });
    expect((await storedResumes(t.ctx)).map((r) => r.student_id)).toEqual([student.id]);

    // Replacing the resume replaces the row: the old one is gone.
    await client.postMultipart("/student/profile", {
      phone: student.phone,
      skills: "CAD",
      resume: { filename: "cv2.pdf", data: pdfBytes("v2") },
    });
    const replaced = await storedResumes(t.ctx);
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.size).toBe(pdfBytes("v2").length);
    expect((await client.get("/student/resume")).body).toContain("v2");
    expect((await client.get("/student/resume")).body).not.toContain("v1");

    // Leaving the file input empty keeps the resume.
    await client.postMultipart("/student/profile", {
      phone: student.phone,
      skills: "CAD",
      resume: "",
    });
    expect((await client.get("/student/resume")).body).toContain("v2");
  });

  it("refuses an invalid phone and keeps what was typed", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const response = await client.postMultipart("/student/profile", { phone: "12", skills: "Go" });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('value="12"');
    expect(response.body).toContain("This is not a valid phone number.");
    const row = await t.ctx.db
      .selectFrom("students")
      .select("phone_e164")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.phone_e164).toBe(student.phone);
  });

  it("lets a student stop and restart SMS; while stopped their messages are skipped", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    expect((await client.get("/student/profile")).body).toMatch(/name="sms" checked/);
    await client.postMultipart("/student/profile", { phone: student.phone, skills: "" });
    const optedOut = async () =>
      (
        await t.ctx.db
          .selectFrom("students")
          .select("sms_opted_out_at")
          .where("id", "=", student.id)
          .executeTakeFirstOrThrow()
      ).sms_opted_out_at;
    expect(await optedOut()).not.toBeNull();
    expect((await client.get("/student/profile")).body).not.toMatch(/name="sms" checked/);

    // A status change while opted out is recorded, as skipped, never sent.
    const { id: jobId } = await postJob(t.ctx);
    await client.post(`/student/jobs/${jobId}/apply`);
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);
    const application = await t.ctx.db
      .selectFrom("applications")
      .select("id")
      .executeTakeFirstOrThrow();
    await staff.post(`/admin/applications/${application.id}/status?to=shortlisted`);
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("kind", "=", "status_update")
      .executeTakeFirstOrThrow();
    expect(sms).toMatchObject({ status: "skipped", error_message: "Student opted out of SMS" });
    expect(readFileSync(join(t.ctx.config.LOG_DIR, "sms.log"), "utf8")).toContain(
      "skipped: Student opted out of SMS",
    );

    await client.postMultipart("/student/profile", { phone: student.phone, skills: "", sms: "on" });
    expect(await optedOut()).toBeNull();
  });
});

describe("a blank semester", () => {
  it("is not a silent exclusion: the student is told, sets it once, and can then apply", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    await t.ctx.db
      .updateTable("students")
      .set({ semester: null })
      .where("id", "=", student.id)
      .execute();
    const { id: jobId } = await postJob(t.ctx, { company: "Semester Co", semesters: [7, 8] });
    const client = await loginAs(t.app, student.email, student.password);

    const jobs = pageText((await client.get("/student/jobs")).body);
    expect(jobs).toContain("Semester Co");
    expect(jobs).toContain("Add your semester in your profile to apply");
    expect(jobs).not.toContain("Only for semesters 7, 8");
    expect(pageText((await client.get("/student")).body)).toContain("Set your semester");
    const profile = await client.get("/student/profile");
    expect(profile.body).toContain('<label for="f-semester">Set your semester</label>');

    const saved = await client.postMultipart("/student/profile", {
      phone: student.phone,
      skills: "Java",
      sms: "on",
      semester: "7",
    });
    expect(saved.statusCode).toBe(303);
    const semester = async () =>
      (
        await t.ctx.db
          .selectFrom("students")
          .select("semester")
          .where("id", "=", student.id)
          .executeTakeFirstOrThrow()
      ).semester;
    expect(await semester()).toBe(7);
    expect((await client.get("/student/profile")).body).not.toContain("Set your semester");
    const after = pageText((await client.get("/student/jobs")).body);
    expect(after).not.toContain("Add your semester");
    expect((await client.post(`/student/jobs/${jobId}/apply`)).statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("applications").select("id").execute()).toHaveLength(1);

    // Once set, only the placement office changes it: a forged field is ignored.
    await client.postMultipart("/student/profile", {
      phone: student.phone,
      skills: "Java",
      sms: "on",
      semester: "3",
    });
    expect(await semester()).toBe(7);
  });
});
