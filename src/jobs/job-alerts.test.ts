// @both-databases: the fan-out is one INSERT ... SELECT per dialect.
import { afterEach, describe, expect, it } from "vitest";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
} from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import { quietHoursAroundNow } from "#test/support/sms.ts";
import type { SmsStatus } from "../db/schema.ts";
import { quietUntil } from "../sms/quiet-hours.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("the job page's alert SMS", () => {
  it("counts the alerts by status, links each figure to the console, and cancels the queued ones", async () => {
    t = await createTestApp();
    for (let i = 0; i < 7; i++) await createStudent(t.ctx, { approved: true });
    const { id, alerts } = await postJob(t.ctx, { send_sms: true });
    expect(alerts).toBe(7);
    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("reference", "=", `job:${id}`)
      .orderBy("id")
      .execute();
    const statuses: SmsStatus[] = [
      "delivered",
      "delivered",
      "sent",
      "failed",
      "undelivered",
      "sending",
    ];
    for (const [i, status] of statuses.entries())
      await t.ctx.db
        .updateTable("sms_messages")
        .set({ status })
        .where("id", "=", rows[i]!.id)
        .execute();
    // One still queued.
    const admin = await createAdmin(t.ctx, "alerts-admin@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);

    const page = await staff.get(`/admin/jobs/${id}`);
    const text = pageText(page.body);
    expect(text).toContain("7 recipients");
    expect(text).toContain("2 delivered");
    expect(text).toContain("1 sent, awaiting the delivery report");
    expect(text).toContain("2 failed or not delivered");
    expect(text).toContain("1 being sent");
    expect(text).toContain("1 still queued");
    expect(page.body).toContain(`href="/admin/sms?job=${id}&status=delivered"`);
    expect(page.body).toContain(`href="/admin/sms?job=${id}&status=failed_or_undelivered"`);
    expect(page.body).toContain(`href="/admin/sms?job=${id}&status=queued"`);
    expect(text).toContain("Cancel the 1 queued alert…");

    const ask = await staff.post("/admin/sms/cancel", {
      reference: `job:${id}`,
      next: `/admin/jobs/${id}`,
    });
    expect(pageText(ask.body)).toContain(
      `1 queued message of the alerts of job #${id} is not sent`,
    );
    const done = await confirm(staff, ask);
    expect(done.headers.location).toBe(`/admin/jobs/${id}`);
    const after = await staff.get(`/admin/jobs/${id}`);
    expect(pageText(after.body)).toContain("1 SMS cancelled.");
    expect(pageText(after.body)).toContain("1 cancelled");
    expect(pageText(after.body)).not.toContain("queued alert…");
  });

  it("says when a job has no alerts", async () => {
    t = await createTestApp();
    const { id } = await postJob(t.ctx, { send_sms: false });
    const admin = await createAdmin(t.ctx, "alerts-admin@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);
    expect(pageText((await staff.get(`/admin/jobs/${id}`)).body)).toContain(
      "No alert SMS for this job.",
    );
  });
});

describe("a job alert posted in quiet hours", () => {
  it("waits for them to end: every alert is due at their close, marked quiet", async () => {
    t = await createTestApp({ SMS_QUIET_HOURS: quietHoursAroundNow() });
    for (let i = 0; i < 3; i++) await createStudent(t.ctx, { approved: true });
    const before = new Date();
    const { id, alerts } = await postJob(t.ctx, { send_sms: true });
    expect(alerts).toBe(3);
    const until = quietUntil(before, t.ctx.config.SMS_QUIET_HOURS);
    expect(until).not.toBeNull();
    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .select(["status", "quiet", "next_attempt_at"])
      .where("reference", "=", `job:${id}`)
      .execute();
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({ status: "queued", quiet: 1 });
      expect(Date.parse(row.next_attempt_at)).toBe(until!.getTime());
    }
  });
});
