// @both-databases: claims, leases and outcome writes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { testDialect } from "#test/support/database.ts";
import {
  queueTestMessages,
  smsLogWith,
  smsRow,
  startDispatcher,
  startEmulator,
  startWatchedDispatcher,
  statusCounts,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  TEST_FROM,
  TEST_MESSAGING_SERVICE_SID,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { readDispatchState } from "./outbox.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  await t?.close();
  await emulator?.close();
  dispatcher = t = emulator = undefined;
});

async function setUp(
  env: Record<string, string> = {},
  knobs: Parameters<typeof startEmulator>[0] = {},
) {
  emulator = await startEmulator(knobs);
  t = await createTestApp(twilioEnv(emulator, env));
  const watched = await startWatchedDispatcher(t.ctx);
  dispatcher = watched.dispatcher;
  return { t, emulator, dispatcher, polled: watched.polled };
}

const creates = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json"));

describe("SMS dispatcher, against the Twilio emulator", () => {
  it("sends an approved student's SMS: one well-formed request, the row sent with its SID", async () => {
    const { t, emulator } = await setUp({ PUBLIC_BASE_URL: "https://portal.college.test" });
    const student = await createStudent(t.ctx, { phone: "+919876543210", full_name: "Asha Rao" });
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const started = Date.now();
    await client.post(`/admin/students/${student.id}/approve`);
    const row = await waitFor(async () => {
      const r = await t.ctx.db.selectFrom("sms_messages").selectAll().executeTakeFirst();
      return r?.status === "sent" ? r : null;
    });
    const elapsed = Date.now() - started;
    expect(creates(emulator)).toHaveLength(1);
    const request = creates(emulator)[0]!;
    expect(request.user).toBe(TEST_ACCOUNT_SID);
    expect(request.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json`);
    expect(request.params).toEqual({
      To: "+919876543210",
      From: TEST_FROM,
      Body:
        "Dear Asha, your Placement Portal account (" +
        student.roll_number +
        ") has been approved. You can now log in and apply for jobs.",
      StatusCallback: "https://portal.college.test/webhooks/twilio/status",
    });
    expect(row.twilio_sid).toBe(emulator.messages[0]!.sid);
    expect(row.twilio_sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(row).toMatchObject({
      status: "sent",
      attempts: 1,
      provider_status: "queued",
      error_code: null,
    });
    // Woken by the commit, not by the 100 ms poll alone (a generous bound, not a benchmark).
    expect(elapsed).toBeLessThan(5000);
  });

  it("sends at once when a commit queues a message, not at the next poll", async () => {
    const { t, polled } = await setUp({ SMS_POLL_MS: "60000" });
    // The dispatcher has made its first poll, found nothing, and gone to sleep for a minute.
    expect(await polled(0)).toBe(0);
    const student = await createStudent(t.ctx);
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    await client.post(`/admin/students/${student.id}/approve`);
    await waitFor(
      async () =>
        (await t.ctx.db.selectFrom("sms_messages").select("status").executeTakeFirst())?.status ===
        "sent",
      3000,
      "sent without waiting for the 60 s poll",
    );
  });

  it("honours a 429's Retry-After: no send before it has passed, then sent", async () => {
    const { t, emulator } = await setUp();
    emulator.setKnobs({ failNext: { count: 1, status: 429, code: 20429, retryAfterSeconds: 2 } });
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher!.wake();
    const row = await waitFor(async () => {
      const r = await smsRow(t.ctx, id!);
      return r.status === "sent" ? r : null;
    }, 10_000);
    const [first, second] = creates(emulator);
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(201);
    expect(second!.at.getTime() - first!.at.getTime()).toBeGreaterThanOrEqual(2000);
    // A rate limit sends nothing, so it is not counted against the retry budget.
    expect(row.attempts).toBe(1);
    const state = await readDispatchState(t.ctx);
    expect(state.paused_until).not.toBeNull();
  });

  it("pauses every send during a 429, not only the one that got it", async () => {
    const { t, emulator } = await setUp({ SMS_CONCURRENCY: "1" });
    emulator.setKnobs({ failNext: { count: 1, status: 429, code: 20429, retryAfterSeconds: 2 } });
    await queueTestMessages(t.ctx, 3);
    dispatcher!.wake();
    await waitFor(async () => (await statusCounts(t.ctx)).sent === 3, 15_000);
    const [limited, ...rest] = creates(emulator);
    expect(limited!.status).toBe(429);
    for (const r of rest)
      expect(r.at.getTime() - limited!.at.getTime()).toBeGreaterThanOrEqual(2000);
  });

  it("fails invalid and blocked magic numbers at once with their code, and opts the blocked student out", async () => {
    // A retry, were there one, would be due at once: the next poll would take it.
    const { t, emulator, polled } = await setUp({ SMS_RETRY_DELAY_SECONDS: "0" });
    const blocked = await createStudent(t.ctx);
    await t.ctx.db
      .updateTable("students")
      .set({ phone_e164: "+15005550004" })
      .where("id", "=", blocked.id)
      .execute();
    const [invalid] = await queueTestMessages(t.ctx, 1, { to: "+15005550001" });
    const [notMobile] = await queueTestMessages(t.ctx, 1, { to: "+15005550009" });
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    await client.post(`/admin/students/${blocked.id}/approve`);
    await waitFor(async () => (await statusCounts(t.ctx)).failed === 3);
    expect(await smsRow(t.ctx, invalid!)).toMatchObject({
      status: "failed",
      error_code: 21211,
      attempts: 1,
    });
    expect(await smsRow(t.ctx, notMobile!)).toMatchObject({
      status: "failed",
      error_code: 21614,
      attempts: 1,
    });
    const approval = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("kind", "=", "approval")
      .executeTakeFirstOrThrow();
    expect(approval).toMatchObject({ status: "failed", error_code: 21610 });
    // The student is marked opted out by a second write, after the row's outcome.
    await waitFor(
      async () =>
        (
          await t.ctx.db
            .selectFrom("students")
            .select("sms_opted_out_at")
            .where("id", "=", blocked.id)
            .executeTakeFirstOrThrow()
        ).sms_opted_out_at,
      10_000,
      "the blocked student opted out",
    );
    // No retries: one request each, and the next poll finds nothing due.
    expect(await polled()).toBe(0);
    expect(creates(emulator)).toHaveLength(3);
    // Twilio's error texts quote the number; the log masks it there too.
    const log = readFileSync(join(t.ctx.config.LOG_DIR, "sms.log"), "utf8");
    expect(log).toContain("is not a valid phone number");
    expect(log).not.toMatch(/500555000[149]/);
  });

  it("gives up by age (SMS_GIVE_UP_HOURS), not by a count of attempts", async () => {
    const { t, emulator } = await setUp({ SMS_GIVE_UP_HOURS: "24" });
    await dispatcher!.stop();
    const [old, recent] = await queueTestMessages(t.ctx, 2);
    const longAgo = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ created_at: longAgo })
      .where("id", "=", old!)
      .execute();
    // The recent one has been tried many times already: a count would have given up on it.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ attempts: 40 })
      .where("id", "=", recent!)
      .execute();
    dispatcher = await startDispatcher(t.ctx);
    await waitFor(async () => (await smsRow(t.ctx, recent!)).status === "sent");
    const gaveUp = await waitFor(async () => {
      const r = await smsRow(t.ctx, old!);
      return r.status === "failed" ? r : null;
    });
    expect(gaveUp.error_message).toContain("not sent within 24 h");
    expect(creates(emulator)).toHaveLength(1);
  });

  it("pauses on refused credentials, fails nothing, and resumes once they work", async () => {
    const { t, emulator } = await setUp();
    emulator.setCredentials(TEST_ACCOUNT_SID, "the-real-token-is-different");
    const ids = await queueTestMessages(t.ctx, 3);
    dispatcher!.wake();
    const state = await waitFor(async () => {
      const s = await readDispatchState(t.ctx);
      return s.credentials_error ? s : null;
    });
    expect(state.credentials_error).toContain("credentials rejected");
    await smsLogWith(
      t.ctx,
      "Twilio refused the credentials: sending is paused and messages stay queued until they work",
    );
    // Still so after the dispatcher has checked the credentials again, twice, and been refused:
    // between the two it went round its loop in full.
    const refusedChecks = () =>
      emulator.requests.filter(
        (r) =>
          r.method === "GET" &&
          r.path === `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}.json` &&
          r.status === 401,
      ).length;
    await waitFor(() => refusedChecks() >= 2, 10_000, "two refused credential checks");
    expect(await statusCounts(t.ctx)).toEqual({ queued: 3 });
    for (const id of ids) expect((await smsRow(t.ctx, id)).attempts).toBe(0);
    // The admin sees it on every page.
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    expect((await client.get("/admin")).body).toContain("Twilio refused the credentials");

    emulator.setCredentials(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN); // fixed at Twilio's end
    await waitFor(async () => (await statusCounts(t.ctx)).sent === 3, 10_000);
    expect((await readDispatchState(t.ctx)).credentials_error).toBeNull();
    await smsLogWith(t.ctx, "credentials accepted again: sending resumes");
    expect((await client.get("/admin")).body).not.toContain("Twilio refused the credentials");
    expect(emulator.messages).toHaveLength(3);
  });

  it("recovers a lost answer by asking Twilio, instead of sending twice", async () => {
    const { t, emulator } = await setUp({ SMS_RETRY_DELAY_SECONDS: "0" });
    emulator.setKnobs({ dropAnswerNext: 1 });
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher!.wake();
    // Recovered as whatever Twilio says by then: sent, or already delivered.
    const row = await waitUntilSent(t.ctx, id!);
    expect(emulator.messages).toHaveLength(1);
    expect(row.twilio_sid).toBe(emulator.messages[0]!.sid);
    expect(
      emulator.requests.some((r) => r.method === "GET" && r.path.endsWith("/Messages.json")),
    ).toBe(true);
  });

  it("takes Twilio's final status for a message it recovered by reconciliation", async () => {
    const { t, emulator } = await setUp({ SMS_RETRY_DELAY_SECONDS: "1" });
    emulator.setKnobs({ dropAnswerNext: 1 }); // delivered at the emulator 40 ms later
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher!.wake();
    const row = await waitFor(async () => {
      const r = await smsRow(t.ctx, id!);
      return r.status === "delivered" ? r : null;
    });
    expect(row).toMatchObject({
      provider_status: "delivered",
      twilio_sid: emulator.messages[0]!.sid,
    });
    expect(row.delivered_at).not.toBeNull();
    expect(emulator.messages).toHaveLength(1);
  });

  it("sends transactional messages before bulk job alerts", async () => {
    const { t, emulator } = await setUp({ SMS_BATCH_SIZE: "1", SMS_CONCURRENCY: "1" });
    await dispatcher!.stop();
    await queueTestMessages(t.ctx, 4, { bulk: true, body: (i) => `bulk ${i}` });
    await queueTestMessages(t.ctx, 1, { body: () => "decision" });
    dispatcher = await startDispatcher(t.ctx);
    await waitFor(async () => (await statusCounts(t.ctx)).sent === 5);
    expect(emulator.messages[0]!.body).toBe("decision");
  });

  it("records rows as skipped when SMS_ENABLED=false, and sends nothing", async () => {
    const { t, emulator, polled } = await setUp({ SMS_ENABLED: "false" });
    const student = await createStudent(t.ctx);
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    await client.post(`/admin/students/${student.id}/approve`);
    const row = await t.ctx.db.selectFrom("sms_messages").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "skipped", error_message: "SMS is disabled" });
    // The commit woke the dispatcher: once it has polled since, it has passed the row over.
    expect(await polled()).toBe(0);
    expect(creates(emulator)).toHaveLength(0);
    const log = readFileSync(join(t.ctx.config.LOG_DIR, "sms.log"), "utf8");
    expect(log).toContain("SMS is disabled");
  });

  it("logs every step to sms.log with masked numbers and never the auth token", async () => {
    const { t } = await setUp();
    emulator!.setKnobs({ failNext: { count: 1, status: 500, code: 20500 } });
    const [id] = await queueTestMessages(t.ctx, 1, { to: "+919876543210" });
    dispatcher!.wake();
    await waitFor(async () => (await smsRow(t.ctx, id!)).status === "sent", 10_000);
    // The log is written asynchronously: the row can be stored before its line reaches the file.
    const log = await waitFor(() => {
      const text = readFileSync(join(t.ctx.config.LOG_DIR, "sms.log"), "utf8");
      return text.includes('"msg":"sent"') ? text : null;
    });
    const lines = log
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; to?: string; sid?: string });
    const messages = lines.map((l) => l.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        "queued",
        "sending (attempt 1)",
        "retry later",
        "sending (attempt 2)",
        "sent",
      ]),
    );
    expect(lines.find((l) => l.msg === "sent")?.sid).toMatch(/^SM/);
    expect(lines.filter((l) => l.to).every((l) => l.to === "+91******3210")).toBe(true);
    expect(log).not.toContain("9876543210");
    expect(log).not.toContain(TEST_AUTH_TOKEN);
  });

  it("gives back rows it claimed but had not started when it is stopped", async () => {
    const { t } = await setUp({ SMS_RATE_PER_SECOND: "1", SMS_BATCH_SIZE: "10" });
    await queueTestMessages(t.ctx, 6);
    dispatcher!.wake();
    await waitFor(async () => ((await statusCounts(t.ctx)).sent ?? 0) >= 1, 5000);
    await dispatcher!.stop();
    const counts = await statusCounts(t.ctx);
    expect(counts.sending ?? 0).toBe(0);
    expect((counts.sent ?? 0) + (counts.queued ?? 0)).toBe(6);
    const queued = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("status", "=", "queued")
      .execute();
    for (const row of queued)
      expect(row).toMatchObject({ attempts: 0, lease_owner: null, unconfirmed_attempt_at: null });
  });
});

// What Twilio answers and how fast the dispatcher goes: its own rules, with no SQL of their own,
// so they run in the SQLite pass only (docs/testing.md).
describe.runIf(testDialect() === "sqlite")("SMS dispatcher: Twilio's answers and the pace", () => {
  it("uses the Messaging Service as sender when one is configured", async () => {
    const mg = TEST_MESSAGING_SERVICE_SID;
    const { t, emulator } = await setUp({ TWILIO_MESSAGING_SERVICE_SID: mg });
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher!.wake();
    await waitFor(async () => (await smsRow(t.ctx, id!)).status === "sent");
    expect(creates(emulator)[0]!.params).toMatchObject({ MessagingServiceSid: mg });
    expect(creates(emulator)[0]!.params.From).toBeUndefined();
    expect((await smsRow(t.ctx, id!)).provider_status).toBe("accepted");
  });

  it("survives 8 s of 503s with backoff, then sends once; nothing fails", {
    timeout: 60_000,
  }, async () => {
    const { t, emulator } = await setUp({ SMS_CIRCUIT_FAILURES: "100" });
    emulator.setKnobs({ outageUntil: new Date(Date.now() + 8_000) });
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher!.wake();
    const row = await waitFor(async () => {
      const r = await smsRow(t.ctx, id!);
      return r.status === "sent" ? r : null;
    }, 45_000);
    // After the first 503 the message may have gone out: every later try first asks Twilio's
    // list (refused too, during the outage), and sends only once the list says it is not there.
    const tries = emulator.requests.filter((r) => r.path.endsWith("/Messages.json"));
    expect(tries.at(-1)!.status).toBe(201);
    expect(tries.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(3);
    expect(emulator.messages).toHaveLength(1);
    expect(creates(emulator).filter((r) => r.status === 201)).toHaveLength(1);
    expect(row.error_code).toBeNull();
  });

  it("keeps to SMS_RATE_PER_SECOND and SMS_CONCURRENCY", async () => {
    const { t, emulator } = await setUp(
      { SMS_RATE_PER_SECOND: "5", SMS_CONCURRENCY: "2" },
      { knobs: { latencyMs: 300 } },
    );
    await queueTestMessages(t.ctx, 12);
    dispatcher!.wake();
    await waitFor(async () => (await statusCounts(t.ctx)).sent === 12, 20_000);
    const times = creates(emulator).map((r) => r.at.getTime());
    for (let i = 5; i < times.length; i++)
      expect(times[i]! - times[i - 5]!).toBeGreaterThanOrEqual(950);
    expect(emulator.stats.maxInFlight).toBeLessThanOrEqual(2);
  });
});

describe("SMS dispatcher without Twilio credentials", () => {
  it("captures messages, says so, and never calls them sent", async () => {
    t = await createTestApp();
    expect(t.ctx.config.SMS_BACKEND).toBe("capture");
    dispatcher = await startDispatcher(t.ctx);
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher.wake();
    const row = await waitFor(async () => {
      const r = await smsRow(t!.ctx, id!);
      return r.status === "captured" ? r : null;
    });
    expect(row.twilio_sid).toMatch(/^CP[0-9a-f]{32}$/);
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const page = await client.get("/admin/sms");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("captured");
    expect(page.body).toContain("SMS capture mode");
    const log = await smsLogWith(t.ctx, "captured (not sent to a phone)");
    expect(log).not.toMatch(/"msg":"sent"/);
  });
});
