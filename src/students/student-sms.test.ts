import { afterEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { queueSms } from "../sms/outbox-api.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("the student page's SMS", () => {
  it("lists the latest 20 in words with links, links to all of them, and says SMS is on", async () => {
    t = await createTestApp();
    const student = await createStudent(t.ctx, { approved: true }); // the approval SMS: 1
    for (let i = 1; i <= 24; i++)
      await queueSms(t.ctx.db, t.ctx, {
        kind: "status_update",
        dedupeKey: `student-sms-test:${i}`,
        studentId: student.id,
        toE164: student.phone,
        body: `Update number ${i}`,
        priority: 0,
      });
    const latest = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("student_id", "=", student.id)
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    const admin = await createAdmin(t.ctx, "history-admin@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);
    const page = await staff.get(`/admin/students/${student.id}`);
    const section =
      /<section class="card" aria-labelledby="student-sms">([\s\S]*?)<\/section>/.exec(
        page.body,
      )?.[1];
    expect(section).toBeDefined();
    expect(section!.match(/<tr>/g)).toHaveLength(21); // the header and 20 messages
    expect(section).toContain(`href="/admin/sms/${latest.id}"`);
    const text = pageText(section!);
    expect(text).toContain("Status update");
    expect(text).toContain("Queued");
    expect(text).toContain("Update number 24");
    expect(text).not.toContain("Update number 4 ");
    expect(text).not.toContain("status_update");
    expect(text).toContain(`SMS on: messages go to ${student.phone}.`);
    expect(text).toContain("All 25 SMS to this student");
    expect(section).toContain(`href="/admin/sms?student_id=${student.id}"`);
  });

  it("says clearly when the student turned SMS off", async () => {
    t = await createTestApp();
    const student = await createStudent(t.ctx, { approved: true });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: "2026-12-02T04:34:00.000Z" })
      .where("id", "=", student.id)
      .execute();
    const admin = await createAdmin(t.ctx, "history-admin@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);
    const text = pageText((await staff.get(`/admin/students/${student.id}`)).body);
    expect(text).toContain("SMS turned off by the student on 2 Dec 2026, 10:04 am (replied STOP)");
  });
});
