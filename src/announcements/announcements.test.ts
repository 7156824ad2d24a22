import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import { quietHoursAroundNow } from "#test/support/sms.ts";
import { quietUntil } from "../sms/quiet-hours.ts";

const t = useTestApp();

describe("announcements", () => {
  it("are posted, shown on the student dashboard, optionally sent by SMS to every approved student, and deleted", async () => {
    const reader = await createStudent(t.ctx, { approved: true });
    await createStudent(t.ctx, { approved: true });
    await createStudent(t.ctx, { approved: false });
    const optedOut = await createStudent(t.ctx, { approved: true });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", optedOut.id)
      .execute();
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);

    const response = await staff.post("/admin/announcements", {
      submission_id: randomUUID(),
      title: "Pre-placement talk",
      message: "Infosys PPT on Monday, 10 am, seminar hall.",
      send_sms: "on",
    });
    expect(response.statusCode).toBe(303);
    expect((await staff.get("/admin/announcements")).body).toContain(
      "Announcement posted for 3 students; 2 SMS queued (2 segments).",
    );
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("kind", "=", "custom")
      .execute();
    expect(sms).toHaveLength(2);
    expect(sms[0]!.body).toBe(
      "Placement Office: Pre-placement talk. Infosys PPT on Monday, 10 am, seminar hall.",
    );

    await staff.post("/admin/announcements", {
      submission_id: randomUUID(),
      title: "Quiet note",
      message: "No SMS for this one.",
    });
    expect(
      await t.ctx.db.selectFrom("sms_messages").selectAll().where("kind", "=", "custom").execute(),
    ).toHaveLength(2);

    const asStudent = await loginAs(t.app, reader.email, reader.password);
    const dashboard = await asStudent.get("/student");
    expect(dashboard.body).toContain("Pre-placement talk");
    expect(dashboard.body).toContain("Quiet note");

    const row = await t.ctx.db
      .selectFrom("announcements")
      .select("id")
      .where("title", "=", "Quiet note")
      .executeTakeFirstOrThrow();
    // Delete… asks first; the announcement stays until confirmed.
    const asked = await staff.post(`/admin/announcements/${row.id}/delete`);
    expect(pageText(asked.body)).toContain("Delete the announcement “Quiet note”?");
    expect(pageText(asked.body)).toContain("Nobody gets an SMS.");
    expect((await asStudent.get("/student")).body).toContain("Quiet note");
    await confirm(staff, asked);
    expect((await asStudent.get("/student")).body).not.toContain("Quiet note");
  });

  it("refuses an empty title; a long message goes out as a short SMS pointing to the portal", async () => {
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);
    const empty = await staff.post("/admin/announcements", {
      submission_id: randomUUID(),
      title: "",
      message: "x",
    });
    expect(empty.statusCode).toBe(422);
    expect(empty.body).toMatch(/id="f-title-error"[^>]*>Enter a title\./);
    const reader = await createStudent(t.ctx, { approved: true });
    const long = await staff.post("/admin/announcements", {
      submission_id: randomUUID(),
      title: "Long",
      message: "word ".repeat(390),
      send_sms: "on",
    });
    expect(long.statusCode).toBe(303);
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("kind", "=", "custom")
      .executeTakeFirstOrThrow();
    expect(sms.student_id).toBe(reader.id);
    expect(sms.body).toMatch(/ wo?r?d?\.\.\. Read it all on the Placement Portal\.$/);
    expect(sms.encoding).toBe("GSM-7");
    expect(sms.segments).toBeLessThanOrEqual(3);
    const stored = await t.ctx.db
      .selectFrom("announcements")
      .select("message")
      .executeTakeFirstOrThrow();
    expect(stored.message).toHaveLength("word ".repeat(390).trim().length);
  });

  it("post once when the same form is submitted twice", async () => {
    await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);
    const blank = await staff.get("/admin/announcements");
    const submission_id = /name="submission_id" value="([0-9a-f-]{36})"/.exec(blank.body)![1]!;
    const form = { title: "Once", message: "Only once.", send_sms: "on", submission_id };
    await Promise.all([
      staff.post("/admin/announcements", form),
      staff.post("/admin/announcements", form),
    ]);
    expect(await t.ctx.db.selectFrom("announcements").select("id").execute()).toHaveLength(1);
    expect(
      await t.ctx.db.selectFrom("sms_messages").select("id").where("kind", "=", "custom").execute(),
    ).toHaveLength(1);
  });
});

describe("deleting an announcement", () => {
  it("cancels its SMS not sent yet, keeps the sent ones, and is audited", async () => {
    await createStudent(t.ctx, { approved: true });
    await createStudent(t.ctx, { approved: true });
    await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);
    await staff.post("/admin/announcements", {
      submission_id: randomUUID(),
      title: "Drive postponed",
      message: "The TCS drive moves to Friday.",
      send_sms: "on",
    });
    const { id } = await t.ctx.db
      .selectFrom("announcements")
      .select("id")
      .executeTakeFirstOrThrow();
    const rows = () =>
      t.ctx.db
        .selectFrom("sms_messages")
        .selectAll()
        .where("reference", "=", `announcement:${id}`)
        .orderBy("id")
        .execute();
    const [sent, sending] = await rows();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "sent", twilio_sid: `SM${"7".repeat(32)}` })
      .where("id", "=", sent!.id)
      .execute();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "sending" })
      .where("id", "=", sending!.id)
      .execute();

    // A form without its CSRF token is refused and changes nothing.
    const forged = await staff.post(
      `/admin/announcements/${id}/delete`,
      { confirm: "yes" },
      { csrf: false },
    );
    expect(forged.statusCode).toBe(403);
    expect((await rows()).map((r) => r.status)).toEqual(["sent", "sending", "queued"]);

    const asked = await staff.post(`/admin/announcements/${id}/delete`);
    expect(pageText(asked.body)).toContain(
      "Nobody gets an SMS. 1 SMS of it not sent yet is cancelled. 2 SMS already sent or being sent stay on record.",
    );
    expect((await rows()).map((r) => r.status)).toEqual(["sent", "sending", "queued"]);
    expect((await confirm(staff, asked)).statusCode).toBe(303);
    expect((await staff.get("/admin/announcements")).body).toContain(
      "Announcement deleted; 1 SMS not sent yet was cancelled.",
    );
    const after = await rows();
    expect(after.map((r) => r.status)).toEqual(["sent", "sending", "cancelled"]);
    expect(after[2]!.error_message).toContain("the announcement was deleted");
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["details", "actor_email"])
      .where("action", "=", "announcement.delete")
      .executeTakeFirstOrThrow();
    expect(audit.actor_email).toBe(admin.email);
    expect(JSON.parse(audit.details)).toMatchObject({ announcementId: id, smsCancelled: 1 });
  });

  it("is for admins only", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    const response = await asStudent.post("/admin/announcements/1/delete");
    expect(response.statusCode).toBe(403);
  });
});

describe("an announcement's SMS in quiet hours", () => {
  it("wait for them to end unless the office marks the announcement urgent", async () => {
    const app = await createTestApp({ SMS_QUIET_HOURS: quietHoursAroundNow() });
    try {
      await createStudent(app.ctx, { approved: true });
      const admin = await createAdmin(app.ctx);
      const staff = await loginAs(app.app, admin.email, admin.password);
      const form = await staff.get("/admin/announcements");
      expect(form.body).toContain('name="sms_urgent"');
      expect(form.body).toMatch(
        /Urgent: send the SMS even in quiet hours \(\d\d:\d\d-\d\d:\d\d India time\)/,
      );
      const post = (title: string, urgent: boolean) =>
        staff.post("/admin/announcements", {
          submission_id: randomUUID(),
          title,
          message: "Venue changed to the seminar hall.",
          send_sms: "on",
          ...(urgent ? { sms_urgent: "on" } : {}),
        });
      const before = new Date();
      expect((await post("Tomorrow's talk", false)).statusCode).toBe(303);
      expect((await staff.get("/admin/announcements")).body).toContain(
        "They wait for the end of quiet hours",
      );
      expect((await post("Venue changed", true)).statusCode).toBe(303);
      expect((await staff.get("/admin/announcements")).body).not.toContain(
        "They wait for the end of quiet hours",
      );
      const rows = await app.ctx.db
        .selectFrom("sms_messages")
        .select(["body", "quiet", "next_attempt_at"])
        .where("kind", "=", "custom")
        .orderBy("id")
        .execute();
      expect(rows.map((r) => r.quiet)).toEqual([1, 0]);
      const until = quietUntil(before, app.ctx.config.SMS_QUIET_HOURS);
      expect(Date.parse(rows[0]!.next_attempt_at)).toBe(until!.getTime());
      expect(Date.parse(rows[1]!.next_attempt_at)).toBeLessThanOrEqual(Date.now());
    } finally {
      await app.close();
    }
  });
});
