// @both-databases: the sweep is one UPDATE by the database's clock, and the claim takes the row.
import type { Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { createTestDatabase } from "#test/support/database.ts";
import {
  smsLogWith,
  smsRow,
  startEmulator,
  startWatchedDispatcher,
  twilioEnv,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { migrations } from "../db/migrations/index.ts";
import type { SmsStatus } from "../db/schema.ts";
import { applyStatusCallback } from "./delivery.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { claimDue, expireSecrets } from "./outbox.ts";
import { PRIORITY_TRANSACTIONAL, queueSms, resendSms } from "./outbox-api.ts";
import {
  displayedBody,
  SECRET_EXPIRED_REASON,
  SECRET_EXPIRED_UNCONFIRMED_REASON,
  SECRET_NOT_RESENT,
} from "./secrets.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  await t?.close();
  await emulator?.close();
  dispatcher = t = emulator = undefined;
});

let keys = 0;

/** A message whose text carries `secret` until `untilMs` from now (negative: expired already). */
async function queueSecret(
  app: TestApp,
  secret: string,
  untilMs: number,
  options: { status?: SmsStatus; to?: string } = {},
): Promise<number> {
  keys += 1;
  const { id } = await queueSms(app.ctx.db, app.ctx, {
    kind: "custom",
    dedupeKey: `secret-test:${process.pid}:${keys}`,
    studentId: null,
    toE164: options.to ?? "+919845012345",
    body: `Your one-time code is ${secret}. Do not share ${secret}.`,
    priority: PRIORITY_TRANSACTIONAL,
    secret: { text: secret, until: new Date(Date.now() + untilMs) },
  });
  if (options.status)
    await app.ctx.db
      .updateTable("sms_messages")
      .set({ status: options.status })
      .where("id", "=", id!)
      .execute();
  return id!;
}

const creates = (e: TwilioEmulator) =>
  e.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json"));

describe("messages that carry a secret", () => {
  it("keep it masked for every view and lose it from the row once it expires", async () => {
    t = await createTestApp();
    const live = await queueSecret(t, "111111", 10 * 60_000);
    const queued = await queueSecret(t, "222222", -1000);
    const captured = await queueSecret(t, "333333", -1000, { status: "captured" });
    const sending = await queueSecret(t, "444444", -1000, { status: "sending" });
    const doubtful = await queueSecret(t, "555555", -1000);
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ unconfirmed_attempt_at: new Date().toISOString() })
      .where("id", "=", doubtful)
      .execute();

    const before = await smsRow(t.ctx, live);
    expect(before.body).toBe("Your one-time code is 111111. Do not share 111111.");
    expect(displayedBody(before)).toBe("Your one-time code is ••••••. Do not share ••••••.");

    expect(await expireSecrets(t.ctx)).toBe(3);
    // Still alive: sent as it is, shown masked.
    expect(await smsRow(t.ctx, live)).toMatchObject({ body: before.body, status: "queued" });
    expect(await smsRow(t.ctx, queued)).toMatchObject({
      status: "cancelled",
      error_message: SECRET_EXPIRED_REASON,
      body: "Your one-time code is ••••••. Do not share ••••••.",
      secret_until: null,
    });
    expect(await smsRow(t.ctx, captured)).toMatchObject({
      status: "captured",
      error_message: null,
      body: "Your one-time code is ••••••. Do not share ••••••.",
      secret_until: null,
    });
    expect(await smsRow(t.ctx, doubtful)).toMatchObject({
      status: "cancelled",
      error_message: SECRET_EXPIRED_UNCONFIRMED_REASON,
    });
    // Being sent right now: its sender decides, and reconciliation may still need the text.
    expect((await smsRow(t.ctx, sending)).body).toContain("444444");
    expect(await expireSecrets(t.ctx)).toBe(0);
  });

  it("are not sent once expired: neither queued nor left by a worker that died", async () => {
    emulator = await startEmulator();
    t = await createTestApp(twilioEnv(emulator));
    // A worker took this one while the code lived, and died before its answer came back.
    const orphan = await queueSecret(t, "333333", 60_000, { to: "+919845000002" });
    expect((await claimDue(t.ctx, "dead-worker", 10)).map((r) => r.id)).toEqual([orphan]);
    const past = new Date(Date.now() - 1000).toISOString();
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ lease_until: past, secret_until: past })
      .where("id", "=", orphan)
      .execute();
    // Queued while nothing was sending, and expired meanwhile.
    const queued = await queueSecret(t, "222222", -1000, { to: "+919845000001" });
    const plain = await queueSms(t.ctx.db, t.ctx, {
      kind: "custom",
      dedupeKey: `secret-test:${process.pid}:plain`,
      studentId: null,
      toE164: "+919845000003",
      body: "No secret here.",
      priority: PRIORITY_TRANSACTIONAL,
    });

    const watched = await startWatchedDispatcher(t.ctx);
    dispatcher = watched.dispatcher;
    await waitUntilSent(t.ctx, plain.id!);
    await watched.polled();

    expect(creates(emulator).map((r) => r.params.Body)).toEqual(["No secret here."]);
    expect(await smsRow(t.ctx, queued)).toMatchObject({
      status: "cancelled",
      error_message: SECRET_EXPIRED_REASON,
      body: "Your one-time code is ••••••. Do not share ••••••.",
    });
    // The orphan was looked up at Twilio first (its attempt may have gone out), then cancelled.
    expect(
      emulator.requests.some((r) => r.method === "GET" && r.path.endsWith("/Messages.json")),
    ).toBe(true);
    expect(await smsRow(t.ctx, orphan)).toMatchObject({
      status: "cancelled",
      error_message: SECRET_EXPIRED_REASON,
      body: "Your one-time code is ••••••. Do not share ••••••.",
      secret_until: null,
      attempts: 1,
      lease_owner: null,
    });
    await smsLogWith(t.ctx, "cancelled: its code expired before it could be sent");
  });

  it("are never resent by an admin, and after a failed delivery only while the secret lives", async () => {
    t = await createTestApp({ SMS_RESEND_UNDELIVERED_SECONDS: "30" });
    const failed = await queueSecret(t, "111111", 60_000, { status: "failed" });
    const refused = await resendSms(t.ctx.db, t.ctx, failed);
    expect(refused).toEqual({ outcome: "refused", reason: SECRET_NOT_RESENT });

    const live = await queueSecret(t, "222222", 60_000, { status: "sent" });
    const dead = await queueSecret(t, "333333", -1000, { status: "sent" });
    for (const id of [live, dead]) {
      await t.ctx.db
        .updateTable("sms_messages")
        .set({ twilio_sid: `SM${String(id).padStart(32, "0")}`, provider_status: "sent" })
        .where("id", "=", id)
        .execute();
      await applyStatusCallback(t.ctx, {
        sid: `SM${String(id).padStart(32, "0")}`,
        status: "undelivered",
        errorCode: 30003,
      });
    }
    const resends = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("resend_of", "is not", null)
      .execute();
    const original = await smsRow(t.ctx, live);
    expect(resends).toHaveLength(1);
    expect(resends[0]).toMatchObject({
      resend_of: live,
      status: "queued",
      masked_body: original.masked_body,
    });
    expect(Date.parse(resends[0]!.secret_until!)).toBe(Date.parse(original.secret_until!));
  });
});

it("2026-12-06c masks the reset codes already in the outbox, each living 10 minutes from its queueing", async () => {
  const empty = await createTestDatabase({ empty: true });
  // biome-ignore lint/suspicious/noExplicitAny: the schema as it was before the migration
  const db = empty.db as unknown as Kysely<any>;
  try {
    await migrateToLatest(
      db,
      Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "2026-12-06c")),
    );
    const at = "2026-12-05T10:00:00.000Z";
    const row = (id: number, kind: string, body: string) => ({
      id,
      kind,
      priority: -10,
      dedupe_key: `${kind}:${id}`,
      to_e164: "+919876543210",
      body,
      encoding: "GSM-7",
      segments: 1,
      status: "captured",
      next_attempt_at: at,
      created_at: at,
      updated_at: at,
    });
    await db
      .insertInto("sms_messages")
      .values([
        row(
          1,
          "password_reset",
          "Placement Portal password reset code: 048213. It expires in 10 minutes.",
        ),
        row(
          2,
          "password_reset",
          "Placement Portal password reset code: (used). It expires in 10 minutes.",
        ),
        row(3, "custom", "Call the office on 9876543210 before 123456."),
      ])
      .execute();
    await migrateToLatest(db);
    const rows = await db
      .selectFrom("sms_messages")
      .select(["id", "body", "masked_body", "secret_until"])
      .orderBy("id")
      .execute();
    expect(
      rows.map((r) => ({
        ...r,
        secret_until: r.secret_until && new Date(r.secret_until).toISOString(),
      })),
    ).toEqual([
      {
        id: 1,
        body: "Placement Portal password reset code: 048213. It expires in 10 minutes.",
        masked_body: "Placement Portal password reset code: ••••••. It expires in 10 minutes.",
        secret_until: "2026-12-05T10:10:00.000Z",
      },
      {
        id: 2,
        body: "Placement Portal password reset code: (used). It expires in 10 minutes.",
        masked_body: "Placement Portal password reset code: (used). It expires in 10 minutes.",
        secret_until: "2026-12-05T10:10:00.000Z",
      },
      {
        id: 3,
        body: "Call the office on 9876543210 before 123456.",
        masked_body: null,
        secret_until: null,
      },
    ]);
  } finally {
    await empty.destroy();
  }
});
