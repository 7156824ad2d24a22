// @both-databases: the give-up to "outcome unknown", the account check behind a 401 on the
// look-up, cancels that spare messages in doubt, and list entries without a body (decision 027).
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import {
  queueTestMessages,
  smsRow,
  startDispatcher,
  startEmulator,
  TEST_FROM,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { AppContext } from "../context.ts";
import { inTransaction } from "../db/transaction.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { liveHourlyCounts } from "./hourly-counts.ts";
import { readDispatchState } from "./outbox.ts";
import { cancelQueuedSms } from "./outbox-api.ts";

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

async function setUp(env: Record<string, string> = {}) {
  emulator = await startEmulator();
  t = await createTestApp(twilioEnv(emulator, { SMS_RETRY_DELAY_SECONDS: "0", ...env }));
  return { t, emulator };
}

async function dispatch(ctx: AppContext) {
  const dispatcher = await startDispatcher(ctx);
  dispatchers.push(dispatcher);
  dispatcher.wake();
  return dispatcher;
}

const lists = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "GET" && r.path.endsWith("/Messages.json"));
const accountChecks = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/${e.accountSid}.json`));
const creates = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json"));

/** Twilio gets the message, as our dispatcher's lost request would have left it there. */
async function sendAtTwilio(e: TwilioEmulator, to: string, body: string) {
  const answer = await fetch(`${e.url}/2010-04-01/Accounts/${e.accountSid}/Messages.json`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${e.accountSid}:${e.authToken}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ To: to, From: TEST_FROM, Body: body }),
  });
  expect(answer.status).toBe(201);
}

describe("outcome unknown (decision 027)", () => {
  it("a message whose look-up never succeeds ends 'unknown' after SMS_GIVE_UP_HOURS, sent once", async () => {
    const { t, emulator } = await setUp({ SMS_GIVE_UP_HOURS: "24", SMS_CIRCUIT_FAILURES: "1000" });
    // The first send reaches Twilio but its answer is lost; the list is down from then on.
    emulator.setKnobs({
      dropAnswerNext: 1,
      failNext: { count: 1_000_000, status: 503, code: 20503, endpoint: "list" },
    });
    let aheadMs = 0;
    const clock = { now: () => new Date(Date.now() + aheadMs) };
    await dispatch({ ...t.ctx, clock });
    const [id] = await queueTestMessages(t.ctx, 1);
    await waitFor(() => lists(emulator).length >= 3, 10_000, "look-ups failing");
    const waiting = await smsRow(t.ctx, id!);
    expect(waiting.status).toMatch(/queued|sending/);
    expect(waiting.unconfirmed_attempt_at).not.toBeNull();
    // A day later by the dispatcher's clock, Twilio still cannot be asked.
    aheadMs = 25 * 3_600_000;
    const row = await waitFor(
      async () => {
        const r = await smsRow(t.ctx, id!);
        return r.status === "unknown" ? r : null;
      },
      10_000,
      "the message to end as outcome unknown",
    );
    expect(row.error_message).toMatch(/^Outcome unknown: may have been sent\. Gave up after 24 h/);
    expect(row.unconfirmed_attempt_at).toBeNull();
    expect(creates(emulator)).toHaveLength(1);
    expect(emulator.messages).toHaveLength(1);
    const counted = await t.ctx.db
      .selectFrom(liveHourlyCounts(t.ctx.db).as("live"))
      .select((eb) => eb.fn.sum<number>("n").as("n"))
      .where("status", "=", "unknown")
      .executeTakeFirstOrThrow();
    expect(Number(counted.n)).toBe(1);
  });

  it("a 401 on the look-up pauses nothing when the account accepts the credentials", async () => {
    const { t, emulator } = await setUp();
    // A key without the right to list messages: the list answers 401, the account fetch 200.
    emulator.setKnobs({
      dropAnswerNext: 1,
      failNext: { count: 1_000_000, status: 401, code: 20003, endpoint: "list" },
    });
    await dispatch(t.ctx);
    const [inDoubt] = await queueTestMessages(t.ctx, 1);
    await waitFor(() => lists(emulator).some((r) => r.status === 401), 10_000, "a refused look-up");
    await waitFor(
      async () => (await smsRow(t.ctx, inDoubt!)).error_message?.includes("could not ask Twilio"),
      10_000,
      "the look-up recorded as failed",
    );
    expect(accountChecks(emulator).map((r) => r.status)).toContain(200);
    // Sending goes on: a message queued now goes out.
    const [later] = await queueTestMessages(t.ctx, 1);
    dispatchers[0]!.wake();
    await waitUntilSent(t.ctx, later!);
    expect((await readDispatchState(t.ctx)).credentials_error).toBeNull();
    const row = await smsRow(t.ctx, inDoubt!);
    expect(row.status).toMatch(/queued|sending/);
    expect(row.unconfirmed_attempt_at).not.toBeNull();
    // Never sent blind: Twilio holds the first once (its lost answer) and the later one.
    expect(emulator.messages).toHaveLength(2);
  });

  it("a 401 on the look-up pauses sending when the account refuses the credentials too", async () => {
    // The look-up waits out a retry delay, so the key is revoked before it, however slow the
    // machine: with no delay it could run first, find the message and never meet the 401.
    const { t, emulator } = await setUp({ SMS_RETRY_DELAY_SECONDS: "2" });
    emulator.setKnobs({ dropAnswerNext: 1 });
    await dispatch(t.ctx);
    const [inDoubt] = await queueTestMessages(t.ctx, 1);
    await waitFor(() => emulator.messages.length === 1, 10_000, "the first send");
    // The key is revoked before the look-up: every request now answers 401.
    emulator.setCredentials(emulator.accountSid, "another-token");
    const state = await waitFor(
      async () => {
        const s = await readDispatchState(t.ctx);
        return s.credentials_error ? s : null;
      },
      10_000,
      "sending paused",
    );
    expect(state.credentials_error).toMatch(/credentials rejected/);
    expect(accountChecks(emulator).some((r) => r.status === 401)).toBe(true);
    expect((await smsRow(t.ctx, inDoubt!)).unconfirmed_attempt_at).not.toBeNull();
  });

  it("reconciliation takes a list entry whose body is null: matched by number, time and segments", async () => {
    const { t, emulator } = await setUp();
    // Twilio redacts bodies: the list gives none back.
    emulator.setKnobs({ dropAnswerNext: 1, nullBodies: true });
    await dispatch(t.ctx);
    const [id] = await queueTestMessages(t.ctx, 1);
    const row = await waitUntilSent(t.ctx, id!);
    expect(emulator.messages).toHaveLength(1);
    expect(row.twilio_sid).toBe(emulator.messages[0]!.sid);
    expect(lists(emulator).map((r) => r.status)).toEqual([200]);
  });

  it("a cancel spares messages that may have gone out: each is checked, then sent or cancelled", async () => {
    const { t, emulator } = await setUp();
    const [plain, atTwilio, notAtTwilio, beingSent] = await queueTestMessages(t.ctx, 4, {
      body: (i) => `Alert ${i}`,
    });
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ reference: "job:77" })
      .where("id", "in", [plain!, atTwilio!, notAtTwilio!, beingSent!])
      .execute();
    // Two whose last attempt went unanswered, one of which Twilio holds; and one a worker is
    // sending right now (its lease runs out just after the cancel: that worker died).
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ unconfirmed_attempt_at: minuteAgo, attempts: 1 })
      .where("id", "in", [atTwilio!, notAtTwilio!])
      .execute();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({
        status: "sending",
        lease_owner: "gone",
        lease_until: new Date(Date.now() + 1_000).toISOString(),
        unconfirmed_attempt_at: minuteAgo,
        attempts: 1,
      })
      .where("id", "=", beingSent!)
      .execute();
    await sendAtTwilio(emulator, (await smsRow(t.ctx, atTwilio!)).to_e164, "Alert 1");

    const done = await inTransaction(t.ctx.db, (trx) =>
      cancelQueuedSms(trx, t.ctx, "job:77", "Cancelled: the job was closed"),
    );
    expect(done).toEqual({ cancelled: 1, beingChecked: 3 });
    expect(await smsRow(t.ctx, plain!)).toMatchObject({ status: "cancelled" });
    for (const id of [atTwilio!, notAtTwilio!, beingSent!])
      expect(await smsRow(t.ctx, id)).toMatchObject({
        status: expect.stringMatching(/queued|sending/),
        cancel_reason: "Cancelled: the job was closed",
      });

    await dispatch(t.ctx);
    await waitUntilSent(t.ctx, atTwilio!);
    for (const id of [notAtTwilio!, beingSent!])
      await waitFor(
        async () => (await smsRow(t.ctx, id)).status === "cancelled",
        10_000,
        `message ${id} cancelled once known not sent`,
      );
    expect(await smsRow(t.ctx, notAtTwilio!)).toMatchObject({
      error_message: "Cancelled: the job was closed",
      unconfirmed_attempt_at: null,
      attempts: 1,
    });
    // Nothing was sent by the dispatcher: Twilio holds only the message it already had.
    expect(creates(emulator)).toHaveLength(1);
    expect(emulator.messages).toHaveLength(1);
  });
});
