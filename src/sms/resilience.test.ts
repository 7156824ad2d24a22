// @both-databases: leases on the database's clock, lost connections, deadlock victims.
import { sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import {
  queueTestMessages,
  smsLogWith,
  smsRow,
  startDispatcher,
  startEmulator,
  statusCounts,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import { applyStatusCallback } from "./delivery.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { claimDue, markSent, readDispatchState, sendCheck } from "./outbox.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatchers: Dispatcher[] = [];

afterEach(async () => {
  for (const d of dispatchers) await d.stop();
  await t?.close();
  await emulator?.close();
  t = emulator = undefined;
  dispatchers = [];
});

async function setUp(env: Record<string, string> = {}, dispatcherCount = 1) {
  emulator = await startEmulator();
  t = await createTestApp(twilioEnv(emulator, env));
  for (let i = 0; i < dispatcherCount; i++) dispatchers.push(await startDispatcher(t.ctx));
  return { t, emulator };
}

const creates = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json"));
const lists = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "GET" && r.path.endsWith("/Messages.json"));

/** Each body the emulator holds, with how many times it holds it. */
function copiesByBody(e: TwilioEmulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of e.messages) counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
  return counts;
}

describe("SMS under faults", () => {
  it("a Twilio outage opens one circuit for every dispatcher: probes one at a time, fails nothing, sends each once", {
    timeout: 60_000,
  }, async () => {
    const { t, emulator } = await setUp(
      {
        SMS_CIRCUIT_FAILURES: "3",
        SMS_CIRCUIT_OPEN_SECONDS: "1",
        SMS_RATE_PER_SECOND: "100",
        SMS_CONCURRENCY: "4",
        SMS_RETRY_DELAY_SECONDS: "1",
      },
      2,
    );
    const outageMs = 6_000;
    emulator.setKnobs({ outageUntil: new Date(Date.now() + outageMs) });
    const ids = await queueTestMessages(t.ctx, 150, { bulk: true });
    for (const d of dispatchers) d.wake();
    const opened = await waitFor(async () => {
      const s = await readDispatchState(t.ctx);
      return s.circuit_open_until ? s : null;
    });
    expect(opened.consecutive_failures).toBeGreaterThanOrEqual(3);
    await waitFor(async () => (await statusCounts(t.ctx)).sent === ids.length, 45_000, "all sent");
    const counts = await statusCounts(t.ctx);
    expect(counts.failed ?? 0).toBe(0);
    const copies = copiesByBody(emulator);
    expect(copies.size).toBe(ids.length);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    // Without the circuit, 150 messages at 100/s would each have hit the outage several times.
    const refused = emulator.requests.filter((r) => r.status === 503);
    expect(refused.length).toBeLessThan(40);
    // Once open, one request at a time: no two refused requests less than the open time apart
    // after the first burst (the threshold plus what was already in flight at both dispatchers).
    const afterBurst = refused.slice(3 + 2 * 4);
    for (let i = 1; i < afterBurst.length; i++)
      expect(afterBurst[i]!.at.getTime() - afterBurst[i - 1]!.at.getTime()).toBeGreaterThan(500);
    const state = await readDispatchState(t.ctx);
    expect(state).toMatchObject({ circuit_open_until: null, consecutive_failures: 0 });
  });

  it("a 429 on the reconciliation look-up keeps the row 'maybe sent': it is never sent blind", async () => {
    const { t, emulator } = await setUp({ SMS_RETRY_DELAY_SECONDS: "0" });
    emulator.setKnobs({
      dropAnswerNext: 1,
      failNext: { count: 1, status: 429, code: 20429, retryAfterSeconds: 1, endpoint: "list" },
    });
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatchers[0]!.wake();
    const row = await waitUntilSent(t.ctx, id!);
    expect(emulator.messages).toHaveLength(1);
    expect(row.twilio_sid).toBe(emulator.messages[0]!.sid);
    expect(lists(emulator).map((r) => r.status)).toEqual([429, 200]);
  });

  it("giving up on an old message whose last attempt went unanswered asks Twilio first", async () => {
    const { t, emulator } = await setUp({ SMS_GIVE_UP_HOURS: "24" });
    await dispatchers[0]!.stop();
    dispatchers = [];
    const [found, missing] = await queueTestMessages(t.ctx, 2, { body: (i) => `Old news ${i}` });
    // The first went out at Twilio; our worker died before it heard the answer.
    const sent = await fetch(
      `${emulator.url}/2010-04-01/Accounts/${emulator.accountSid}/Messages.json`,
      {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${emulator.accountSid}:${emulator.authToken}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          To: (await smsRow(t.ctx, found!)).to_e164,
          From: "+15005550006",
          Body: "Old news 0",
        }),
      },
    );
    expect(sent.status).toBe(201);
    const dayAgo = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ created_at: dayAgo, unconfirmed_attempt_at: new Date().toISOString(), attempts: 3 })
      .where("id", "in", [found!, missing!])
      .execute();
    dispatchers.push(await startDispatcher(t.ctx));
    await waitFor(async () => {
      const counts = await statusCounts(t.ctx);
      return (counts.failed ?? 0) + (counts.sent ?? 0) + (counts.delivered ?? 0) === 2;
    });
    expect(["sent", "delivered"]).toContain((await smsRow(t.ctx, found!)).status);
    expect(await smsRow(t.ctx, missing!)).toMatchObject({ status: "failed" });
    // Nothing was sent again: the one message at Twilio is the one from before.
    expect(emulator.messages).toHaveLength(1);
  });

  it("leases follow the database's clock, not the worker's", async () => {
    const { t } = await setUp();
    await dispatchers[0]!.stop();
    dispatchers = [];
    await queueTestMessages(t.ctx, 1);
    const skewed = { ...t.ctx, clock: { now: () => new Date(Date.now() + 2 * 3_600_000) } };
    const [row] = await claimDue(skewed, "skewed-worker", 1);
    const leaseMs = Date.parse(row!.lease_until!) - Date.now();
    expect(leaseMs).toBeGreaterThan((t.ctx.config.SMS_LEASE_SECONDS - 5) * 1000);
    expect(leaseMs).toBeLessThan((t.ctx.config.SMS_LEASE_SECONDS + 5) * 1000);
    expect(row!.needsReconcile).toBe(false);
  });

  it("the lease is checked just before the HTTP call; a worker that lost it sends nothing", async () => {
    const { t, emulator } = await setUp();
    await dispatchers[0]!.stop();
    dispatchers = [];
    await queueTestMessages(t.ctx, 1);
    const [row] = await claimDue(t.ctx, "slow-worker", 1);
    expect(await sendCheck(t.ctx, row!, "slow-worker")).toEqual({
      leaseHeld: true,
      optedOut: false,
      secretExpired: false,
      late: false,
      cancelReason: null,
    });
    // The worker stalled past its lease (a long GC pause, a frozen VM).
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ lease_until: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", row!.id)
      .execute();
    expect((await sendCheck(t.ctx, row!, "slow-worker")).leaseHeld).toBe(false);
    // Another worker takes it over: it must ask Twilio first, since the first may have sent it.
    const [takenOver] = await claimDue(t.ctx, "other-worker", 1);
    expect(takenOver).toMatchObject({ id: row!.id, needsReconcile: true, attempts: 2 });
    expect(creates(emulator)).toHaveLength(0);
  });

  it("a worker that lost its lease mid-send still stores the SID it got", async () => {
    const { t } = await setUp();
    await dispatchers[0]!.stop();
    dispatchers = [];
    const [id] = await queueTestMessages(t.ctx, 1);
    const [row] = await claimDue(t.ctx, "first", 1);
    // Its lease ran out during the HTTP call and another worker claimed the row.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ lease_until: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", id!)
      .execute();
    await claimDue(t.ctx, "second", 1);
    const sid = `SM${"c".repeat(32)}`;
    expect(
      await markSent(t.ctx, row!, "first", { sid, providerStatus: "queued", captured: false }),
    ).toBe("sent after losing the lease");
    expect(await smsRow(t.ctx, id!)).toMatchObject({ status: "sent", twilio_sid: sid });
  });

  it("SMS_ENABLED=false is checked at send time: rows queued before are skipped, not sent", async () => {
    emulator = await startEmulator();
    const enabled = await createTestApp(twilioEnv(emulator));
    t = enabled;
    const ids = await queueTestMessages(t.ctx, 3);
    const disabled = { ...t.ctx, config: { ...t.ctx.config, SMS_ENABLED: false } };
    dispatchers.push(await startDispatcher(disabled));
    await waitFor(async () => (await statusCounts(t!.ctx)).skipped === 3);
    for (const id of ids)
      expect(await smsRow(t.ctx, id)).toMatchObject({
        status: "skipped",
        error_message: "SMS is disabled",
      });
    expect(creates(emulator)).toHaveLength(0);
  });

  it("an opt-out is checked at send time: a student who opts out while messages wait gets no more", {
    timeout: 30_000,
  }, async () => {
    const { t, emulator } = await setUp({ SMS_RATE_PER_SECOND: "1", SMS_BATCH_SIZE: "10" });
    const student = await createStudent(t.ctx, { approved: false });
    const ids: number[] = [];
    await t.ctx.db.transaction().execute(async (trx) => {
      const { queueSms } = await import("./outbox-api.ts");
      for (let i = 0; i < 4; i++) {
        const r = await queueSms(trx, t.ctx, {
          kind: "custom",
          dedupeKey: `optout-test:${i}`,
          studentId: student.id,
          toE164: "+919876543210",
          body: `Notice ${i}`,
          priority: 0,
        });
        ids.push(r.id!);
      }
    });
    dispatchers[0]!.wake();
    // All four are claimed in one batch; the first goes out, then the student replies STOP.
    await waitFor(() => emulator.messages.length === 1);
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", student.id)
      .execute();
    await waitFor(async () => (await statusCounts(t.ctx)).skipped === 3, 10_000);
    expect(emulator.messages.length).toBe(1);
    await smsLogWith(t.ctx, "skipped: student opted out");
  });

  it.skipIf(testDialect() !== "postgres")(
    "PostgreSQL dropping every connection, five times mid-send, loses, doubles and fails nothing",
    { timeout: 60_000 },
    async () => {
      const { t, emulator } = await setUp({
        SMS_RATE_PER_SECOND: "200",
        SMS_CONCURRENCY: "10",
        SMS_LEASE_SECONDS: "5",
      });
      const ids = await queueTestMessages(t.ctx, 400, { bulk: true });
      dispatchers[0]!.wake();
      const name = new URL(t.database.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: inject("postgresUrl") });
      await admin.connect();
      try {
        for (let cut = 0; cut < 5; cut++) {
          const before = emulator.messages.length;
          await waitFor(() => emulator.messages.length >= before + 30, 20_000);
          await admin.query(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
            [name],
          );
        }
      } finally {
        await admin.end();
      }
      await waitFor(
        async () => (await statusCounts(t.ctx)).sent === ids.length,
        40_000,
        "all sent",
      );
      const copies = copiesByBody(emulator);
      expect(copies.size).toBe(ids.length);
      expect([...copies.values()].every((n) => n === 1)).toBe(true);
      expect((await statusCounts(t.ctx)).failed ?? 0).toBe(0);
    },
  );

  it.skipIf(testDialect() !== "postgres")(
    "an outcome write that PostgreSQL aborts to break a deadlock is written again at once, not left to the lease",
    async () => {
      // The lease is far longer than the wait below: without the retry, each aborted write would
      // leave its message 'sending' until the lease ran out and a reconcile found it.
      const { t, emulator } = await setUp({ SMS_LEASE_SECONDS: "300" });
      // The first three writes of status 'sent' fail as a deadlock victim's would (40P01); a
      // sequence counts them, since nothing else an aborted statement writes survives it.
      await sql`create sequence deadlock_victims`.execute(t.ctx.db);
      await sql
        .raw(`create function abort_as_deadlock() returns trigger language plpgsql as $$
          begin
            if new.status = 'sent' and nextval('deadlock_victims') <= 3 then
              raise exception 'deadlock detected (test)' using errcode = '40P01';
            end if;
            return new;
          end $$`)
        .execute(t.ctx.db);
      await sql`create trigger abort_as_deadlock before update on sms_messages
        for each row execute function abort_as_deadlock()`.execute(t.ctx.db);
      const ids = await queueTestMessages(t.ctx, 5);
      dispatchers[0]!.wake();
      await waitFor(
        async () => (await statusCounts(t.ctx)).sent === ids.length,
        15_000,
        "all sent",
      );
      const aborted = await sql<{
        n: string;
      }>`select last_value as n from deadlock_victims`.execute(t.ctx.db);
      expect(Number(aborted.rows[0]!.n)).toBeGreaterThan(3);
      expect(emulator.messages.length).toBe(ids.length);
      await smsLogWith(t.ctx, "database conflict while recording an outcome; trying again");
    },
  );

  it("an undelivered 30003 is sent once more after SMS_RESEND_UNDELIVERED_SECONDS; 30007 and a resend are not", async () => {
    const { t, emulator } = await setUp({ SMS_RESEND_UNDELIVERED_SECONDS: "1" });
    const [unreachable, filtered] = await queueTestMessages(t.ctx, 2, {
      body: (i) => `Hello ${i}`,
    });
    dispatchers[0]!.wake();
    await waitFor(async () => (await statusCounts(t.ctx)).sent === 2);
    const first = await smsRow(t.ctx, unreachable!);
    const second = await smsRow(t.ctx, filtered!);
    await applyStatusCallback(t.ctx, {
      sid: first.twilio_sid!,
      status: "undelivered",
      errorCode: 30003,
    });
    // A repeated callback queues nothing more.
    await applyStatusCallback(t.ctx, {
      sid: first.twilio_sid!,
      status: "undelivered",
      errorCode: 30003,
    });
    await applyStatusCallback(t.ctx, {
      sid: second.twilio_sid!,
      status: "undelivered",
      errorCode: 30007,
    });
    const resend = await waitFor(async () => {
      const r = await t.ctx.db
        .selectFrom("sms_messages")
        .selectAll()
        .where("dedupe_key", "=", `resend:${unreachable}`)
        .executeTakeFirst();
      return r?.status === "sent" ? r : null;
    }, 10_000);
    expect(resend).toMatchObject({ body: "Hello 0", to_e164: first.to_e164, attempts: 1 });
    expect(Date.parse(resend.sent_at!) - Date.parse(resend.created_at)).toBeGreaterThanOrEqual(900);
    expect(await smsRow(t.ctx, unreachable!)).toMatchObject({
      status: "undelivered",
      error_code: 30003,
    });
    // The resend is not resent again.
    await applyStatusCallback(t.ctx, {
      sid: resend.twilio_sid!,
      status: "undelivered",
      errorCode: 30003,
    });
    const rows = await t.ctx.db.selectFrom("sms_messages").select("dedupe_key").execute();
    expect(rows.map((r) => r.dedupe_key).filter((k) => k.startsWith("resend:"))).toEqual([
      `resend:${unreachable}`,
    ]);
    expect(emulator.messages.map((m) => m.body).sort()).toEqual(["Hello 0", "Hello 0", "Hello 1"]);
  });

  it("is off by default: an undelivered message is not sent again", async () => {
    const { t } = await setUp();
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatchers[0]!.wake();
    await waitFor(async () => (await statusCounts(t.ctx)).sent === 1);
    const row = await smsRow(t.ctx, id!);
    await applyStatusCallback(t.ctx, {
      sid: row.twilio_sid!,
      status: "undelivered",
      errorCode: 30003,
    });
    expect(await statusCounts(t.ctx)).toEqual({ undelivered: 1 });
  });

  it("maintenance drops parked callbacks older than a day and keeps newer ones", async () => {
    const { t } = await setUp();
    const old = new Date(Date.now() - 25 * 3_600_000).toISOString();
    await t.ctx.db
      .insertInto("sms_early_callbacks")
      .values([
        { twilio_sid: `SM${"1".repeat(32)}`, status: "sent", error_code: null, received_at: old },
        {
          twilio_sid: `SM${"2".repeat(32)}`,
          status: "sent",
          error_code: null,
          received_at: new Date().toISOString(),
        },
      ])
      .execute();
    await dispatchers[0]!.maintain();
    const left = await t.ctx.db.selectFrom("sms_early_callbacks").select("twilio_sid").execute();
    expect(left).toEqual([{ twilio_sid: `SM${"2".repeat(32)}` }]);
  });
});

// What Twilio answers and how fast the dispatcher goes: its own rules, with no SQL of their own,
// so they run in the SQLite pass only (docs/testing.md).
describe.runIf(testDialect() === "sqlite")(
  "SMS under faults: Twilio's answers and the pace",
  () => {
    it("a 429 storm lowers the pace to what Twilio accepts: few 429s, each message once", {
      timeout: 60_000,
    }, async () => {
      const { t, emulator } = await setUp({ SMS_RATE_PER_SECOND: "60", SMS_CONCURRENCY: "10" });
      emulator.setKnobs({ ratePerSecond: 30, retryAfterSeconds: 1 });
      const ids = await queueTestMessages(t.ctx, 300, { bulk: true });
      dispatchers[0]!.wake();
      await waitFor(
        async () => (await statusCounts(t.ctx)).sent === ids.length,
        45_000,
        "all sent",
      );
      const limited = creates(emulator).filter((r) => r.status === 429).length;
      // Halving and climbing back (or ignoring the limit) hits it again and again: hundreds.
      expect(limited).toBeLessThanOrEqual(ids.length * 0.05);
      expect(emulator.messages).toHaveLength(ids.length);
      expect(dispatchers[0]!.rate.perSecond).toBeLessThan(30);
      // Just under what was accepted, not halved (15) and climbing back: a busy machine measures
      // somewhat less than the 30 accepted, so the bound leaves room for it.
      expect(dispatchers[0]!.rate.perSecond).toBeGreaterThan(20);
    });

    it("reconciliation recognises its text under a trial account's prefix: no second send", async () => {
      const { t, emulator } = await setUp({ SMS_RETRY_DELAY_SECONDS: "0" });
      emulator.setKnobs({ dropAnswerNext: 1, trialAccount: true });
      const [id] = await queueTestMessages(t.ctx, 1, {
        body: () => "Dear Asha, you\u2019re shortlisted.",
      });
      dispatchers[0]!.wake();
      const row = await waitUntilSent(t.ctx, id!);
      expect(emulator.messages).toHaveLength(1);
      expect(row.twilio_sid).toBe(emulator.messages[0]!.sid);
    });

    it("a 4xx or a 5xx on the look-up never makes the row final", async () => {
      const { t, emulator } = await setUp({ SMS_RETRY_DELAY_SECONDS: "0" });
      emulator.setKnobs({
        dropAnswerNext: 1,
        failNext: { count: 2, status: 400, code: 20001, endpoint: "list" },
      });
      const [id] = await queueTestMessages(t.ctx, 1);
      dispatchers[0]!.wake();
      await waitFor(() => lists(emulator).filter((r) => r.status === 400).length === 2);
      expect((await smsRow(t.ctx, id!)).status).not.toBe("failed");
      emulator.setKnobs({ failNext: { count: 1, status: 500, code: 20500, endpoint: "list" } });
      const row = await waitUntilSent(t.ctx, id!, 15_000);
      expect(emulator.messages).toHaveLength(1);
      expect(row.twilio_sid).toBe(emulator.messages[0]!.sid);
    });
  },
);
