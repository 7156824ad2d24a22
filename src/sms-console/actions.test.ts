// @both-databases: cancel and resend races settled in one statement.
import { afterEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { confirm, confirmForm, pageText } from "#test/support/confirm.ts";
import { queueTestMessages, smsRow } from "#test/support/sms.ts";
import type { SmsStatus } from "../db/schema.ts";
import { PRIORITY_BULK, queueSms } from "../sms/outbox-api.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(env: Record<string, string> = {}) {
  t = await createTestApp(env);
  const admin = await createAdmin(t.ctx, "steer-admin@college.test");
  const staff = await loginAs(t.app, admin.email, admin.password);
  return { t, staff, admin };
}

let keys = 0;

/** One message to `studentId` (or to a bare number), then put in `status`. */
async function message(
  app: TestApp,
  options: { studentId?: number | null; to?: string; status?: SmsStatus; reference?: string } = {},
): Promise<number> {
  keys += 1;
  const { id } = await queueSms(app.ctx.db, app.ctx, {
    kind: options.studentId ? "status_update" : "test",
    dedupeKey: `steer-test:${process.pid}:${keys}`,
    reference: options.reference ?? null,
    studentId: options.studentId ?? null,
    toE164: options.to ?? "+919845012345",
    body: `Message ${keys}`,
    priority: PRIORITY_BULK,
  });
  if (options.status && options.status !== "queued")
    await app.ctx.db
      .updateTable("sms_messages")
      .set({ status: options.status, error_code: options.status === "failed" ? 21211 : null })
      .where("id", "=", id!)
      .execute();
  return id!;
}

function flashOf(page: { body: string }): string {
  return pageText(
    [...page.body.matchAll(/<p class="flash[^"]*"[^>]*>([\s\S]*?)<\/p>/g)]
      .map((m) => m[1])
      .join(" | "),
  );
}

async function auditPage(staff: TestClient): Promise<string> {
  return pageText((await staff.get("/admin/audit")).body);
}

describe("resend", () => {
  it("queues a failed message again as a new row to the student's current number, once", async () => {
    const { t, staff } = await setup();
    const student = await createStudent(t.ctx, { approved: true, phone: "+919845011111" });
    const original = await message(t, {
      studentId: student.id,
      status: "failed",
      to: "+919845011111",
    });
    // The office corrected the number after the failure.
    await t.ctx.db
      .updateTable("students")
      .set({ phone_e164: "+919845022222" })
      .where("id", "=", student.id)
      .execute();

    const first = await staff.post(`/admin/sms/${original}/resend`);
    expect(first.statusCode).toBe(303);
    const resent = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("resend_of", "=", original)
      .execute();
    expect(resent).toHaveLength(1);
    const copy = resent[0]!;
    expect(first.headers.location).toBe(`/admin/sms/${copy.id}`);
    expect(copy).toMatchObject({
      status: "queued",
      to_e164: "+919845022222",
      kind: "status_update",
      student_id: student.id,
      priority: 0,
    });
    expect(copy.body).toBe((await smsRow(t.ctx, original)).body);
    // The original keeps its history.
    expect(await smsRow(t.ctx, original)).toMatchObject({ status: "failed", error_code: 21211 });
    expect(flashOf(await staff.get("/admin/audit"))).toContain(
      `Resent: message #${copy.id} queued.`,
    );

    // A double click, a replayed POST: nothing more.
    const again = await staff.post(`/admin/sms/${original}/resend`);
    expect(again.headers.location).toBe(`/admin/sms/${copy.id}`);
    const twice = await Promise.all([
      staff.post(`/admin/sms/${original}/resend`),
      staff.post(`/admin/sms/${original}/resend`),
    ]);
    for (const r of twice) expect(r.statusCode).toBe(303);
    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("resend_of", "=", original)
      .execute();
    expect(rows).toHaveLength(1);
    const audit = await auditPage(staff);
    expect(audit).toContain(`Resent SMS #${original}`);
    expect(audit).toContain(`Queued again as message #${copy.id}`);
    expect(audit.match(/Resent SMS #/g)).toHaveLength(1);

    // Once the resend failed as well, it may be resent again.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "undelivered" })
      .where("id", "=", copy.id)
      .execute();
    await staff.post(`/admin/sms/${original}/resend`);
    const after = await t.ctx.db
      .selectFrom("sms_messages")
      .select(["id", "dedupe_key"])
      .where("resend_of", "=", original)
      .orderBy("id")
      .execute();
    expect(after.map((r) => r.dedupe_key)).toEqual([
      `resend:${original}:0`,
      `resend:${original}:1`,
    ]);
  });

  it("refuses a delivered or queued message, an opted-out or deleted student, and changes nothing", async () => {
    const { t, staff } = await setup();
    const student = await createStudent(t.ctx, { approved: true });
    const delivered = await message(t, { studentId: student.id, status: "delivered" });
    const queued = await message(t, { studentId: student.id });
    const failed = await message(t, { studentId: student.id, status: "failed" });
    const before = await t.ctx.db
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();

    const r1 = await staff.post(`/admin/sms/${delivered}/resend`);
    expect(r1.headers.location).toBe(`/admin/sms/${delivered}`);
    expect(flashOf(await staff.get("/admin/audit"))).toContain(
      "Only a failed, undelivered or outcome-unknown message can be resent",
    );
    await staff.post(`/admin/sms/${queued}/resend`);

    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", student.id)
      .execute();
    await staff.post(`/admin/sms/${failed}/resend`);
    expect(flashOf(await staff.get("/admin/audit"))).toContain(
      "the student has turned SMS off since (replied STOP)",
    );

    const orphan = await message(t, { studentId: student.id, status: "failed" });
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ student_id: null })
      .where("id", "=", orphan)
      .execute();
    await staff.post(`/admin/sms/${orphan}/resend`);
    expect(flashOf(await staff.get("/admin/audit"))).toContain("has been deleted");

    const missing = await staff.post("/admin/sms/999999/resend");
    expect(missing.headers.location).toBe("/admin/sms");
    const after = await t.ctx.db
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n) + 1); // only the orphan made above
    expect(await auditPage(staff)).not.toContain("Resent SMS");
  });

  it("needs an admin and a CSRF token", async () => {
    const { t } = await setup();
    const failed = await message(t, { status: "failed" });
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    expect((await asStudent.post(`/admin/sms/${failed}/resend`)).statusCode).toBe(403);
    const admin = await createAdmin(t.ctx, "other-admin@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);
    expect((await staff.post(`/admin/sms/${failed}/resend`, {}, { csrf: false })).statusCode).toBe(
      403,
    );
    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("resend_of", "=", failed)
      .execute();
    expect(rows).toHaveLength(0);
  });
});

describe("cancel", () => {
  it("asks first, then cancels the queued ones and leaves those already claimed", async () => {
    const { t, staff, admin } = await setup();
    const [a, b, c] = await queueTestMessages(t.ctx, 3);
    // The dispatcher claimed c meanwhile.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "sending" })
      .where("id", "=", c!)
      .execute();

    const ask = await staff.post("/admin/sms/cancel", {
      ids: [String(a), String(b), String(c)],
      next: "/admin/sms?status=queued",
    });
    expect(ask.statusCode).toBe(200);
    expect(pageText(ask.body)).toContain("2 queued messages of 3 selected messages are not sent");
    expect((await smsRow(t.ctx, a!)).status).toBe("queued");
    // Meanwhile the dispatcher claims b too: the confirmed cancel leaves it alone.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "sending" })
      .where("id", "=", b!)
      .execute();

    const done = await confirm(staff, ask);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/admin/sms?status=queued");
    expect(await smsRow(t.ctx, a!)).toMatchObject({
      status: "cancelled",
      error_message: `Cancelled by ${admin.email}`,
    });
    expect((await smsRow(t.ctx, b!)).status).toBe("sending");
    expect((await smsRow(t.ctx, c!)).status).toBe("sending");
    const next = await staff.get("/admin/audit");
    // Being sent, they may already have reached Twilio: checked first, not recorded as cancelled.
    expect(flashOf(next)).toContain(
      "1 SMS cancelled. 2 may already have been sent and are being checked (cancelled if not).",
    );
    expect(pageText(next.body)).toContain("Cancelled 1 queued SMS of 3 selected messages");
    expect(pageText(next.body)).toContain(
      "2 messages that may already have been sent checked first",
    );
    expect(await smsRow(t.ctx, b!)).toMatchObject({ cancel_reason: `Cancelled by ${admin.email}` });

    // The same confirmed post again: nothing to do, nothing audited.
    await confirm(staff, ask);
    expect((await auditPage(staff)).match(/Cancelled 1 queued SMS/g)).toHaveLength(1);
  });

  it("cancels a selection of 1,000 in one go", { timeout: 60_000 }, async () => {
    const { t, staff } = await setup();
    const ids = await queueTestMessages(t.ctx, 1000);
    const ask = await staff.post("/admin/sms/cancel", { ids: ids.map(String) });
    expect(pageText(ask.body)).toContain("1,000 queued messages");
    // The way back does not read as the same act as the button beside it ("Cancel 1,000 SMS").
    expect(ask.body).toMatch(
      /<a href="[^"]*" class="button secondary" id="cancel">Keep them queued<\/a>/,
    );
    expect(ask.body).not.toMatch(/id="cancel">Cancel</);
    expect(confirmForm(ask).fields.ids).toHaveLength(1000);
    const done = await confirm(staff, ask);
    expect(done.statusCode).toBe(303);
    const counts = await t.ctx.db
      .selectFrom("sms_messages")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute();
    expect(counts.map((r) => [r.status, Number(r.n)])).toEqual([["cancelled", 1000]]);
    expect(flashOf(await staff.get("/admin/sms"))).toContain("1,000 SMS cancelled.");
    // More than that at once is refused whole.
    const tooMany = await staff.post("/admin/sms/cancel", {
      ids: [...ids.map(String), "1000001"],
      confirm: "yes",
    });
    expect(tooMany.statusCode).toBe(303);
    expect(flashOf(await staff.get("/admin/sms"))).toContain("At most 1,000 messages");
  });

  it("cancels by reference, back to a safe next only", async () => {
    const { t, staff } = await setup();
    const queued = [
      await message(t, { reference: "job:7" }),
      await message(t, { reference: "job:7" }),
    ];
    const sent = await message(t, { reference: "job:7", status: "sent" });
    const other = await message(t, { reference: "job:8" });
    const ask = await staff.post("/admin/sms/cancel", {
      reference: "job:7",
      next: "/admin/jobs/7",
    });
    expect(pageText(ask.body)).toContain("2 queued messages of the alerts of job #7 are not sent");
    const done = await confirm(staff, ask);
    expect(done.headers.location).toBe("/admin/jobs/7");
    for (const id of queued) expect((await smsRow(t.ctx, id)).status).toBe("cancelled");
    expect((await smsRow(t.ctx, sent)).status).toBe("sent");
    expect((await smsRow(t.ctx, other)).status).toBe("queued");
    expect(await auditPage(staff)).toContain("Cancelled 2 queued SMS (alerts of job #7)");

    for (const next of ["//evil.test/x", "https://evil.test", "/\\evil"]) {
      const r = await staff.post("/admin/sms/cancel", { reference: "job:8", next, confirm: "yes" });
      expect(r.headers.location).toBe("/admin/sms");
    }
    const bad = await staff.post("/admin/sms/cancel", { reference: "student:1", confirm: "yes" });
    expect(bad.headers.location).toBe("/admin/sms");
    expect(flashOf(await staff.get("/admin/sms"))).toContain("Choose the messages to cancel first");
  });
});

describe("pause and resume", () => {
  it("keeps the first admin's pause, shows it on every admin page with a Resume button, and resumes", async () => {
    const { t, staff, admin } = await setup();
    const r = await staff.post("/admin/sms/pause", {
      reason: "Wrong date in the alerts",
      next: "/admin/jobs",
    });
    expect(r.headers.location).toBe("/admin/jobs");
    const state = await t.ctx.db
      .selectFrom("sms_dispatch_state")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(state.admin_paused_by_email).toBe(admin.email);
    expect(state.admin_pause_reason).toBe("Wrong date in the alerts");

    const second = await createAdmin(t.ctx, "second-admin@college.test");
    const other = await loginAs(t.app, second.email, second.password);
    await other.post("/admin/sms/pause", { reason: "Another reason" });
    const again = await t.ctx.db
      .selectFrom("sms_dispatch_state")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(again.admin_paused_at).toBe(state.admin_paused_at);
    expect(again.admin_paused_by_email).toBe(admin.email);
    expect(flashOf(await other.get("/admin/students"))).toContain(
      `Sending was already paused by ${admin.email}`,
    );

    for (const path of ["/admin", "/admin/jobs", "/admin/audit"]) {
      const page = await staff.get(path);
      const text = pageText(page.body);
      expect(text).toContain(`Sending paused by ${admin.email} since`);
      expect(text).toContain("“Wrong date in the alerts”");
      expect(page.body).toMatch(/<form method="post" action="\/admin\/sms\/resume"/);
    }
    const audit = await auditPage(staff);
    expect(audit).toContain("Paused all SMS sending");
    expect(audit).toContain("Reason: Wrong date in the alerts");
    expect(audit.match(/Paused all SMS sending/g)).toHaveLength(1);

    const resumed = await staff.post("/admin/sms/resume", { next: "/admin/jobs" });
    expect(resumed.headers.location).toBe("/admin/jobs");
    const after = await t.ctx.db
      .selectFrom("sms_dispatch_state")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(after.admin_paused_at).toBeNull();
    const page = pageText((await staff.get("/admin")).body);
    expect(page).not.toContain("Sending paused by");
    expect(await auditPage(staff)).toContain(`Resumed SMS sending Paused by ${admin.email}`);
    await staff.post("/admin/sms/resume");
    expect((await auditPage(staff)).match(/Resumed SMS sending/g)).toHaveLength(1);
  });
});

describe("the banner on admin pages", () => {
  it("says capture mode, and counts the last 24 hours' failures with a link", async () => {
    const { t, staff } = await setup();
    const page = pageText((await staff.get("/admin")).body);
    expect(page).toContain("SMS capture mode");
    expect(page).not.toContain("failed or not been delivered");

    await message(t, { status: "failed" });
    await message(t, { status: "undelivered" });
    const old = await message(t, { status: "failed" });
    await message(t, { status: "delivered" });
    const dayAgo = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ updated_at: dayAgo })
      .where("id", "=", old)
      .execute();

    const before = Date.now();
    const body = (await staff.get("/admin/students")).body;
    expect(pageText(body)).toContain(
      "2 SMS have failed or not been delivered in the last 24 hours.",
    );
    const href =
      /<a href="(\/admin\/sms\?status=failed_or_undelivered(?:&amp;|&)since=[^"]+)"/.exec(
        body,
      )?.[1];
    expect(href).toBeDefined();
    const since = decodeURIComponent(
      new URL(href!.replace(/&amp;/g, "&"), "http://x").searchParams.get("since")!,
    );
    expect(Math.abs(Date.parse(since) - (before - 24 * 3_600_000))).toBeLessThan(60_000);
  });

  it("says when SMS is disabled, and shows nothing to students", async () => {
    const { t, staff } = await setup({ SMS_ENABLED: "false" });
    expect(pageText((await staff.get("/admin")).body)).toContain(
      "SMS is disabled (SMS_ENABLED=false)",
    );
    await staff.post("/admin/sms/pause", {});
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    const page = (await asStudent.get("/student")).body;
    expect(page).not.toContain('class="banner"');
  });

  it("says when Twilio refused the credentials or rate-limited us", async () => {
    const { t, staff } = await setup();
    await t.ctx.db
      .updateTable("sms_dispatch_state")
      .set({
        credentials_error: "Authenticate (20003)",
        credentials_error_at: new Date().toISOString(),
        paused_until: new Date(Date.now() + 60_000).toISOString(),
      })
      .execute();
    const page = pageText((await staff.get("/admin")).body);
    expect(page).toContain("Twilio refused the credentials (Authenticate (20003))");
    expect(page).toContain("Sending paused by Twilio's rate limit until");
  });
});

describe("the console shows the actions", () => {
  it("links a resent message and its resend both ways, and offers Pause only while sending is live", async () => {
    const { t, staff } = await setup();
    const student = await createStudent(t.ctx, { approved: true });
    const original = await message(t, { studentId: student.id, status: "failed" });
    expect((await staff.post(`/admin/sms/${original}/resend`)).statusCode).toBe(303);
    const resent = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("resend_of", "=", original)
      .executeTakeFirstOrThrow();
    const originalPage = pageText((await staff.get(`/admin/sms/${original}`)).body);
    expect(originalPage).toContain(`Resent as SMS ${resent.id} (Queued)`);
    const resentPage = pageText((await staff.get(`/admin/sms/${resent.id}`)).body);
    expect(resentPage).toContain(`Resend of SMS ${original}`);

    const live = (await staff.get("/admin/sms")).body;
    expect(live).toContain('action="/admin/sms/pause"');
    expect((await staff.post("/admin/sms/pause", { reason: "DLT check" })).statusCode).toBe(303);
    const paused = (await staff.get("/admin/sms")).body;
    expect(paused).not.toContain('action="/admin/sms/pause"');
    expect(paused).toContain('action="/admin/sms/resume"');
  });
});

describe("outcome unknown (decision 027)", () => {
  it("is shown in words, filtered, and resent only after a confirmation that warns it may arrive twice", async () => {
    const { t, staff } = await setup();
    const student = await createStudent(t.ctx, { approved: true });
    const unknown = await message(t, { studentId: student.id, status: "unknown" });

    const page = await staff.get(`/admin/sms/${unknown}`);
    expect(pageText(page.body)).toContain("Outcome unknown: may have been sent");
    expect(pageText(page.body)).toContain("a resend may reach the student twice");
    const list = pageText((await staff.get("/admin/sms?status=unknown")).body);
    expect(list).toContain("Outcome unknown: may have been sent");
    expect(list).toContain(`Message ${keys}`);

    const ask = await staff.post(`/admin/sms/${unknown}/resend`);
    expect(ask.statusCode).toBe(200);
    expect(pageText(ask.body)).toContain("It may arrive twice");
    expect(pageText(ask.body)).toContain("the student gets it twice");
    const none = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("resend_of", "=", unknown)
      .execute();
    expect(none).toHaveLength(0);

    const done = await confirm(staff, ask);
    expect(done.statusCode).toBe(303);
    const resent = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("resend_of", "=", unknown)
      .execute();
    expect(resent).toHaveLength(1);
    expect(done.headers.location).toBe(`/admin/sms/${resent[0]!.id}`);
    expect(await smsRow(t.ctx, unknown)).toMatchObject({ status: "unknown" });
  });

  it("a queued message whose last try may have reached Twilio is checked, not cancelled", async () => {
    const { t, staff, admin } = await setup();
    const [plain, inDoubt] = await queueTestMessages(t.ctx, 2);
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ unconfirmed_attempt_at: new Date().toISOString(), attempts: 1 })
      .where("id", "=", inDoubt!)
      .execute();
    const ask = await staff.post("/admin/sms/cancel", { ids: [String(plain), String(inDoubt)] });
    await confirm(staff, ask);
    expect(flashOf(await staff.get("/admin/audit"))).toContain(
      "1 SMS cancelled. 1 may already have been sent and is being checked (cancelled if not).",
    );
    expect((await smsRow(t.ctx, plain!)).status).toBe("cancelled");
    expect(await smsRow(t.ctx, inDoubt!)).toMatchObject({
      status: "queued",
      cancel_reason: `Cancelled by ${admin.email}`,
    });
    const page = pageText((await staff.get(`/admin/sms/${inDoubt}`)).body);
    expect(page).toContain("so it is being checked first. It is cancelled if it was not sent.");
  });
});
