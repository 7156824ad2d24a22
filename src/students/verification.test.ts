import { readdirSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { expectConsoleError } from "#test/support/setup.ts";
import { saveResume } from "./resume-store.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function adminClient() {
  const admin = await createAdmin(t.ctx);
  return loginAs(t.app, admin.email, admin.password);
}

function smsRows() {
  return t.ctx.db.selectFrom("sms_messages").selectAll().orderBy("id").execute();
}

describe("verification queue", () => {
  it("lists pending registrations, with search and filters", async () => {
    await createStudent(t.ctx, {
      full_name: "Meera Iyer",
      department: "ECE",
      graduation_year: 2027,
    });
    await createStudent(t.ctx, {
      full_name: "Rahul Nair",
      department: "CSE",
      graduation_year: 2028,
    });
    await createStudent(t.ctx, { full_name: "Approved Person", approved: true });
    const admin = await adminClient();

    const all = await admin.get("/admin/students?status=pending");
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain("Meera Iyer");
    expect(all.body).toContain("Rahul Nair");
    expect(all.body).not.toContain("Approved Person");
    expect(all.body).toContain("2 students");

    const search = await admin.get("/admin/students?status=pending&q=meera");
    expect(search.body).toContain("Meera Iyer");
    expect(search.body).not.toContain("Rahul Nair");

    const byDepartment = await admin.get("/admin/students?status=pending&department=CSE");
    expect(byDepartment.body).toContain("Rahul Nair");
    expect(byDepartment.body).not.toContain("Meera Iyer");

    const byYear = await admin.get("/admin/students?status=pending&year=2027");
    expect(byYear.body).toContain("Meera Iyer");
    expect(byYear.body).not.toContain("Rahul Nair");

    const approved = await admin.get("/admin/students?status=approved");
    expect(approved.body).toContain("Approved Person");
  });

  it("treats % and _ in a search as plain characters", async () => {
    await createStudent(t.ctx, { full_name: "Meera Iyer" });
    const admin = await adminClient();
    const response = await admin.get(`/admin/students?status=pending&q=${encodeURIComponent("%")}`);
    expect(response.body).not.toContain("Meera Iyer");
  });

  it("approves a student and queues the approval SMS in the same step", async () => {
    const student = await createStudent(t.ctx, { phone: "+919876543210", full_name: "Asha Rao" });
    const admin = await adminClient();

    const response = await admin.post(`/admin/students/${student.id}/approve`);
    expect(response.statusCode).toBe(303);

    const row = await t.ctx.db
      .selectFrom("students")
      .selectAll()
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.approved_at).not.toBeNull();
    const sms = await smsRows();
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({
      kind: "approval",
      status: "queued",
      to_e164: "+919876543210",
      student_id: student.id,
      dedupe_key: `approval:${student.id}`,
      encoding: "GSM-7",
      segments: 1,
    });
    expect(sms[0]!.body).toContain("Dear Asha");

    // The admin sees the queued SMS on the student's page.
    const page = await admin.get(`/admin/students/${student.id}`);
    expect(page.body).toContain("approved");
    expect(page.body).toContain("queued");
    expect(page.body).toContain("Dear Asha");
  });

  it("writes one SMS for a double click on approve", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    const [a, b] = await Promise.all([
      admin.post(`/admin/students/${student.id}/approve`),
      admin.post(`/admin/students/${student.id}/approve`),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    await admin.post(`/admin/students/${student.id}/approve`);
    expect(await smsRows()).toHaveLength(1);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.approve")
      .execute();
    expect(audit).toHaveLength(1);
  });

  it("rolls the approval back when its SMS cannot be written", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    await sql`drop table sms_messages`.execute(t.ctx.db);
    expectConsoleError();
    const response = await admin.post(`/admin/students/${student.id}/approve`);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain("sms_messages"); // 5xx details stay hidden
    const row = await t.ctx.db
      .selectFrom("students")
      .select("approved_at")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.approved_at).toBeNull();
  });

  it("lets an approval and a rejection racing for one student end as exactly one of them", async () => {
    const admin = await adminClient();
    const second = await createAdmin(t.ctx, "second-admin@college.test", "admin-password-2");
    const other = await loginAs(t.app, second.email, second.password);
    for (let round = 0; round < 5; round++) {
      const student = await createStudent(t.ctx);
      await Promise.all([
        admin.post(`/admin/students/${student.id}/approve`),
        other.post(`/admin/students/${student.id}/reject`, { reason: "race" }),
      ]);
      const kinds = (
        await t.ctx.db
          .selectFrom("sms_messages")
          .select("kind")
          .where("dedupe_key", "in", [`approval:${student.id}`, `rejection:${student.id}`])
          .execute()
      ).map((r) => r.kind);
      const row = await t.ctx.db
        .selectFrom("students")
        .select("approved_at")
        .where("id", "=", student.id)
        .executeTakeFirst();
      if (row) expect(kinds).toEqual(["approval"]);
      else expect(kinds).toEqual(["rejection"]);
    }
  });

  it("bulk-approves a selection", async () => {
    const a = await createStudent(t.ctx);
    const b = await createStudent(t.ctx);
    const c = await createStudent(t.ctx);
    const admin = await adminClient();
    const response = await admin.post("/admin/students/approve", {
      ids: [String(a.id), String(b.id)],
    });
    expect(response.statusCode).toBe(303);
    const approved = await t.ctx.db
      .selectFrom("students")
      .select("id")
      .where("approved_at", "is not", null)
      .orderBy("id")
      .execute();
    expect(approved.map((r) => r.id)).toEqual([a.id, b.id]);
    expect((await smsRows()).map((r) => r.student_id)).toEqual([a.id, b.id]);
    expect(c.id).toBeGreaterThan(0);
  });

  it("rejects a registration: SMS queued, audit kept, user, profile and resume deleted", async () => {
    const student = await createStudent(t.ctx, { full_name: "Kiran Das" });
    const resume = await saveResume(t.dataDir, pdfBytes("kiran"));
    await t.ctx.db
      .updateTable("students")
      .set({ resume_path: resume })
      .where("id", "=", student.id)
      .execute();
    expect(readdirSync(join(t.dataDir, "uploads"))).toHaveLength(1);
    const admin = await adminClient();

    const response = await admin.post(`/admin/students/${student.id}/reject`, {
      reason: "Roll number not on the rolls",
    });
    expect(response.statusCode).toBe(303);

    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(0);
    expect(readdirSync(join(t.dataDir, "uploads"))).toHaveLength(0);
    expect(
      await t.ctx.db.selectFrom("users").select("id").where("email", "=", student.email).execute(),
    ).toHaveLength(0);

    const sms = await smsRows();
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ kind: "rejection", status: "queued", to_e164: student.phone });
    expect(sms[0]!.body).toContain("Roll number not on the rolls");

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.reject")
      .execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({
      rollNumber: student.roll_number,
      name: "Kiran Das",
      reason: "Roll number not on the rolls",
    });

    // That person can no longer log in.
    const login = await new TestClient(t.app).post("/login", {
      email: student.email,
      password: student.password,
    });
    expect(login.statusCode).toBe(401);

    // A second click does nothing more.
    await admin.post(`/admin/students/${student.id}/reject`);
    expect(await smsRows()).toHaveLength(1);

    const log = await admin.get("/admin/audit");
    expect(log.body).toContain("student.reject");
    expect(log.body).toContain(student.roll_number);
  });
});

describe("academic record", () => {
  it("is corrected by an admin, with the change in the audit log", async () => {
    const student = await createStudent(t.ctx, {
      cgpa: 7.1,
      active_backlogs: 1,
      department: "ECE",
    });
    const admin = await adminClient();
    const response = await admin.post(`/admin/students/${student.id}/academics`, {
      department: "ECE",
      semester: "7",
      graduation_year: "2027",
      cgpa: "7.45",
      active_backlogs: "0",
    });
    expect(response.statusCode).toBe(303);
    const row = await t.ctx.db
      .selectFrom("students")
      .selectAll()
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ cgpa: 7.45, active_backlogs: 0, department: "ECE" });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.update_academics")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details).changes).toEqual({
      cgpa: { from: 7.1, to: 7.45 },
      active_backlogs: { from: 1, to: 0 },
    });
    expect((await admin.get(`/admin/students/${student.id}`)).body).toContain(
      "Academic record updated (cgpa, active_backlogs)",
    );
  });

  it("refuses a CGPA out of range beside the field", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    const response = await admin.post(`/admin/students/${student.id}/academics`, {
      department: "CSE",
      graduation_year: "2027",
      cgpa: "11",
      active_backlogs: "0",
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(/id="f-cgpa-error"[^>]*>The CGPA must be between 0 and 10\./i);
    expect(response.body).toContain('value="11"');
  });
});
