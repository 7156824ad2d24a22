import { afterEach, describe, expect, it } from "vitest";
import {
  capturedLog,
  createAdmin,
  createStudent,
  createTestApp,
  type TestApp,
} from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { smsLogWith, startDispatcher, startWatchedDispatcher, waitFor } from "#test/support/sms.ts";
import type { Dispatcher } from "../sms/dispatcher.ts";
import { RESET_CODE_MINUTES } from "./password-reset.ts";

/**
 * Issue 20, "No way in": a reset code reaches the student's phone and nobody else. Admins read
 * the SMS console and the students' pages; the code must stand in none of them, nor in a log, and
 * the database keeps it only while it works.
 */

let t: TestApp | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  await t?.close();
  dispatcher = t = undefined;
});

/** The code itself, not some longer number that happens to hold its digits (a phone number). */
const holds = (text: string, code: string) => new RegExp(`(?<!\\d)${code}(?!\\d)`).test(text);

const MASKED = "••••••";

async function resetSms(app: TestApp, studentId: number) {
  return app.ctx.db
    .selectFrom("sms_messages")
    .selectAll()
    .where("student_id", "=", studentId)
    .where("kind", "=", "password_reset")
    .orderBy("id", "desc")
    .executeTakeFirstOrThrow();
}

/** The code as the student reads it on the phone: from the text the outbox holds for sending. */
async function codeSent(app: TestApp, studentId: number): Promise<string> {
  return /(?<!\d)(\d{6})(?!\d)/.exec((await resetSms(app, studentId)).body)![1]!;
}

/** A student asks for a code on the forgot-password page, `agoMs` back in time. */
async function askForCode(app: TestApp, email: string, agoMs = 0): Promise<TestClient> {
  const clock = app.ctx.clock;
  app.ctx.clock = { now: () => new Date(Date.now() - agoMs) };
  try {
    const client = new TestClient(app.app);
    const response = await client.post("/password/forgot", { email });
    expect(response.statusCode).toBe(303);
    return client;
  } finally {
    app.ctx.clock = clock;
  }
}

describe("reset codes stay out of admins' sight", () => {
  it("shows the code in no admin page and no log, only masked", async () => {
    const log = capturedLog();
    t = await createTestApp({}, { log: log.log });
    dispatcher = await startDispatcher(t.ctx);
    const student = await createStudent(t.ctx, { approved: true, full_name: "Meera Iyer" });
    const admin = await createAdmin(t.ctx);
    await askForCode(t, student.email);
    const app = t;
    await waitFor(
      async () => (await resetSms(app, student.id)).status === "captured",
      10_000,
      "the code captured",
    );
    const code = await codeSent(t, student.id);
    const sms = await resetSms(t, student.id);

    const staff = await loginAs(t.app, admin.email, admin.password);
    const pages = {
      list: `/admin/sms`,
      byKind: `/admin/sms?kind=password_reset`,
      search: `/admin/sms?student=${encodeURIComponent("Meera")}`,
      byStudent: `/admin/sms?student_id=${student.id}`,
      message: `/admin/sms/${sms.id}`,
      student: `/admin/students/${student.id}`,
      audit: `/admin/audit`,
      dashboard: `/admin`,
    };
    for (const [name, url] of Object.entries(pages)) {
      const page = await staff.get(url);
      expect(page.statusCode, name).toBe(200);
      expect(holds(page.body, code), `${name} (${url}) shows the code`).toBe(false);
      if (name !== "audit" && name !== "dashboard")
        expect(page.body, `${name} shows the text, masked`).toContain(MASKED);
    }

    const smsLog = await smsLogWith(t.ctx, "captured (not sent to a phone)");
    expect(holds(smsLog, code)).toBe(false);
    const appLog = log.lines.join("");
    // The capture works: the app's request lines are there.
    expect(appLog).toContain("/password/forgot");
    expect(holds(appLog, code)).toBe(false);
  });

  it("does not send a code that expired while queued, and drops it from the row", async () => {
    t = await createTestApp();
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    // Asked 11 minutes ago, while nothing was sending (a pause, an outage): the code is dead.
    await askForCode(t, student.email, (RESET_CODE_MINUTES + 1) * 60_000);
    const code = await codeSent(t, student.id);
    const watched = await startWatchedDispatcher(t.ctx);
    dispatcher = watched.dispatcher;
    await watched.polled();

    const sms = await resetSms(t, student.id);
    expect(sms.status).toBe("cancelled");
    expect(sms.error_message).toContain("expired before it could be sent");
    expect(holds(sms.body, code)).toBe(false);
    expect(sms.body).toContain(MASKED);
    expect(sms.twilio_sid).toBeNull();
    const attempts = await t.ctx.db
      .selectFrom("sms_attempts")
      .select("id")
      .where("message_id", "=", sms.id)
      .execute();
    expect(attempts).toEqual([]);

    const staff = await loginAs(t.app, admin.email, admin.password);
    const page = await staff.get(`/admin/sms/${sms.id}`);
    expect(page.body).toContain("The code expired before it could be sent");
  });

  it("drops a code that went out from the row once it has expired", async () => {
    t = await createTestApp();
    const student = await createStudent(t.ctx, { approved: true });
    // The code has a few seconds left: it goes out, then expires.
    await askForCode(t, student.email, RESET_CODE_MINUTES * 60_000 - 5_000);
    const code = await codeSent(t, student.id);
    const running = await startDispatcher(t.ctx);
    dispatcher = running;
    const app = t;
    await waitFor(
      async () => (await resetSms(app, student.id)).status === "captured",
      5_000,
      "the code captured while it lives",
    );
    // The dispatcher's housekeeping, run until the code's time has passed.
    const after = await waitFor(
      async () => {
        await running.maintain();
        const sms = await resetSms(app, student.id);
        return holds(sms.body, code) ? null : sms;
      },
      15_000,
      "the code gone from the row",
    );
    expect(after.status).toBe("captured");
    expect(after.body).toContain(MASKED);
    expect(after.secret_until).toBeNull();
  });

  it("never resends a code from the console, and says why", async () => {
    t = await createTestApp();
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    await askForCode(t, student.email);
    const sms = await resetSms(t, student.id);
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "failed", error_code: 30007 })
      .where("id", "=", sms.id)
      .execute();

    const staff = await loginAs(t.app, admin.email, admin.password);
    const page = await staff.get(`/admin/sms/${sms.id}`);
    expect(page.body).not.toContain(`action="/admin/sms/${sms.id}/resend"`);
    expect(page.body).toContain("is never resent");
    const refused = await staff.post(`/admin/sms/${sms.id}/resend`, {});
    expect(refused.statusCode).toBe(303);
    expect((await staff.get(`/admin/sms/${sms.id}`)).body).toContain("is not resent");
    const codes = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("kind", "=", "password_reset")
      .execute();
    expect(codes).toEqual([{ id: sms.id }]);
  });
});

describe("a local trial (capture mode, development) shows the code on the reset page", () => {
  it("shows the student the code and says SMS are captured; admins still see it masked", async () => {
    t = await createTestApp({ NODE_ENV: "development" });
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    const client = await askForCode(t, student.email);
    const code = await codeSent(t, student.id);
    const page = await client.get("/password/reset");
    expect(page.body).toContain(
      "Local trial: SMS are captured on this server, not sent to phones.",
    );
    expect(page.body).toContain(`Your code is ${code}`);

    const stranger = await askForCode(t, "nobody@college.test");
    const none = await stranger.get("/password/reset");
    expect(none.body).toContain("No live code was captured for this email.");
    expect(holds(none.body, code)).toBe(false);

    const staff = await loginAs(t.app, admin.email, admin.password);
    const list = await staff.get("/admin/sms");
    expect(holds(list.body, code)).toBe(false);
    expect(list.body).toContain(MASKED);
  });

  it("shows it to no browser but one on the portal's own machine", async () => {
    t = await createTestApp({ NODE_ENV: "development" });
    const student = await createStudent(t.ctx, { approved: true });
    // A trial server left on HOST=0.0.0.0: a stranger on the network asks for the code.
    const stranger = new TestClient(t.app, { remoteAddress: "192.0.2.44" });
    expect((await stranger.post("/password/forgot", { email: student.email })).statusCode).toBe(
      303,
    );
    const code = await codeSent(t, student.id);
    const page = await stranger.get("/password/reset");
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain("Local trial");
    expect(holds(page.body, code)).toBe(false);
  });

  for (const [setting, env] of [
    [
      "Twilio",
      {
        NODE_ENV: "development",
        SMS_BACKEND: "twilio",
        TWILIO_ACCOUNT_SID: `AC${"1".repeat(32)}`,
        TWILIO_AUTH_TOKEN: "not-a-real-token-0123456789abcdef",
        TWILIO_PHONE_NUMBER: "+15005550006",
      },
    ],
    [
      "production",
      { NODE_ENV: "production", SESSION_SECRET: "a-production-secret-that-is-long-enough-0123" },
    ],
  ] as const)
    it(`never shows it with ${setting}`, async () => {
      t = await createTestApp(env);
      const student = await createStudent(t.ctx, { approved: true });
      const client = await askForCode(t, student.email);
      const code = await codeSent(t, student.id);
      const page = await client.get("/password/reset");
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain("Local trial");
      expect(holds(page.body, code)).toBe(false);
    });
});
