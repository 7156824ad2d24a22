import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import {
  queueTestMessages,
  smsRow,
  startDispatcher,
  startEmulator,
  TEST_AUTH_TOKEN,
  twilioEnv,
  waitFor,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { Dispatcher } from "./dispatcher.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.stop();
  await t?.close();
  await emulator?.close();
  t = emulator = dispatcher = undefined;
});

const PUBLIC = "https://portal.college.test";

async function setUp() {
  emulator = await startEmulator();
  t = await createTestApp(twilioEnv(emulator, { PUBLIC_BASE_URL: PUBLIC }));
  return t;
}

/** Posts to a webhook as Twilio would, signed for the public URL (or not, to forge one). */
function post(
  app: TestApp,
  path: string,
  params: Record<string, string | string[]>,
  token: string | null = TEST_AUTH_TOKEN,
) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (token)
    headers["x-twilio-signature"] = twilio.getExpectedTwilioSignature(
      token,
      `${PUBLIC}${path}`,
      params,
    );
  return app.app.inject({
    method: "POST",
    url: path,
    headers,
    payload: new URLSearchParams(
      Object.entries(params).flatMap(([k, v]) => [v].flat().map((one) => [k, one])),
    ).toString(),
  });
}

async function sentRow(app: TestApp, sid: string) {
  const [id] = await queueTestMessages(app.ctx, 1);
  await app.ctx.db
    .updateTable("sms_messages")
    .set({ status: "sent", twilio_sid: sid, provider_status: "queued" })
    .where("id", "=", id!)
    .execute();
  return id!;
}

describe("Twilio status callbacks", () => {
  it("move a message forward to delivered, and never back", async () => {
    const app = await setUp();
    const sid = `SM${"a".repeat(32)}`;
    const id = await sentRow(app, sid);
    expect(
      (await post(app, "/webhooks/twilio/status", { MessageSid: sid, MessageStatus: "delivered" }))
        .statusCode,
    ).toBe(204);
    expect(await smsRow(app.ctx, id)).toMatchObject({
      status: "delivered",
      provider_status: "delivered",
    });
    expect((await smsRow(app.ctx, id)).delivered_at).not.toBeNull();
    // A late "sent" and a repeated "delivered" change nothing.
    await post(app, "/webhooks/twilio/status", { MessageSid: sid, MessageStatus: "sent" });
    await post(app, "/webhooks/twilio/status", { MessageSid: sid, MessageStatus: "delivered" });
    expect(await smsRow(app.ctx, id)).toMatchObject({
      status: "delivered",
      provider_status: "delivered",
    });
  });

  it("record undelivered with the carrier's error code", async () => {
    const app = await setUp();
    const sid = `SM${"b".repeat(32)}`;
    const id = await sentRow(app, sid);
    await post(app, "/webhooks/twilio/status", {
      MessageSid: sid,
      MessageStatus: "undelivered",
      ErrorCode: "30003",
    });
    expect(await smsRow(app.ctx, id)).toMatchObject({ status: "undelivered", error_code: 30003 });
  });

  it("refuse a forged or unsigned callback with 403 and change nothing", async () => {
    const app = await setUp();
    const sid = `SM${"c".repeat(32)}`;
    const id = await sentRow(app, sid);
    const forged = await post(
      app,
      "/webhooks/twilio/status",
      { MessageSid: sid, MessageStatus: "delivered" },
      "not-the-token",
    );
    expect(forged.statusCode).toBe(403);
    const unsigned = await post(
      app,
      "/webhooks/twilio/status",
      { MessageSid: sid, MessageStatus: "delivered" },
      null,
    );
    expect(unsigned.statusCode).toBe(403);
    expect((await smsRow(app.ctx, id)).status).toBe("sent");
  });

  it("arrive from the emulator for a real send and end in delivered", async () => {
    emulator = await startEmulator();
    // The portal must listen for real, where the emulator can post.
    t = await createTestApp(twilioEnv(emulator, { PUBLIC_BASE_URL: "http://127.0.0.1:1" }));
    const address = await t.app.listen({ port: 0, host: "127.0.0.1" });
    (t.ctx.config as { PUBLIC_BASE_URL?: string }).PUBLIC_BASE_URL = address;
    dispatcher = await startDispatcher(t.ctx);
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher.wake();
    await waitFor(
      async () => (await smsRow(t!.ctx, id!)).status === "delivered",
      10_000,
      "delivered",
    );
    // The emulator notes each answer once its request has returned, which can be just after the
    // row changed: wait for both answers.
    await waitFor(
      () => emulator!.callbacksSent.every((c) => c.status !== null),
      5000,
      "callback answers",
    );
    expect(emulator.callbacksSent.map((c) => [c.params.MessageStatus, c.status])).toEqual([
      ["sent", 204],
      ["delivered", 204],
    ]);
  });

  it("that overtake the create answer are kept and applied once the SID is known", async () => {
    const app = await setUp();
    const sid = `SM${"d".repeat(32)}`;
    await post(app, "/webhooks/twilio/status", { MessageSid: sid, MessageStatus: "delivered" });
    const early = await app.ctx.db.selectFrom("sms_early_callbacks").selectAll().execute();
    expect(early).toHaveLength(1);
    const id = await sentRow(app, sid);
    const { applyEarlyCallbacks } = await import("./delivery.ts");
    await applyEarlyCallbacks(app.ctx, [sid]);
    expect((await smsRow(app.ctx, id)).status).toBe("delivered");
    expect(await app.ctx.db.selectFrom("sms_early_callbacks").selectAll().execute()).toHaveLength(
      0,
    );
  });
});

describe("Twilio webhooks with hostile parameters", () => {
  it("refuse a correctly signed callback that repeats a key (400) and change nothing", async () => {
    const app = await setUp();
    const sid = `SM${"e".repeat(32)}`;
    const other = `SM${"f".repeat(32)}`;
    const id = await sentRow(app, sid);
    const repeated: Record<string, string | string[]>[] = [
      { MessageSid: [sid, other], MessageStatus: "delivered" },
      { MessageSid: sid, MessageStatus: ["delivered", "undelivered"] },
      { MessageSid: sid, MessageStatus: "undelivered", ErrorCode: ["30003", "30005"] },
      { MessageSid: [sid, sid], MessageStatus: "delivered" },
    ];
    for (const params of repeated) {
      const response = await post(app, "/webhooks/twilio/status", params);
      expect(response.statusCode, JSON.stringify(params)).toBe(400);
      expect(response.body).toMatch(/must be sent once, not 2 times/);
    }
    for (const code of ["abc", "1e309", "Infinity", "-1", "3.5", "99999999999", " 30003"]) {
      const response = await post(app, "/webhooks/twilio/status", {
        MessageSid: sid,
        MessageStatus: "undelivered",
        ErrorCode: code,
      });
      expect(response.statusCode, code).toBe(400);
      expect(response.body).toContain("ErrorCode must be a Twilio error code");
    }
    expect(await smsRow(app.ctx, id)).toMatchObject({ status: "sent", error_code: null });
    expect(await app.ctx.db.selectFrom("sms_early_callbacks").selectAll().execute()).toEqual([]);
    // The same callback, sent once, still applies.
    const once = await post(app, "/webhooks/twilio/status", {
      MessageSid: sid,
      MessageStatus: "delivered",
    });
    expect(once.statusCode).toBe(204);
    expect((await smsRow(app.ctx, id)).status).toBe("delivered");
  });

  it("refuse a correctly signed inbound message that repeats From or Body, opting nobody out", async () => {
    const app = await setUp();
    const student = await createStudent(app.ctx, { phone: "+919876543211", approved: true });
    for (const params of [
      { From: ["+919876543211", "+919876543212"], Body: "STOP" },
      { From: "+919876543211", Body: ["STOP", "STOP"] },
    ]) {
      const response = await post(app, "/webhooks/twilio/inbound", params);
      expect(response.statusCode, JSON.stringify(params)).toBe(400);
      expect(response.body).toMatch(/must be sent once/);
    }
    const row = await app.ctx.db
      .selectFrom("students")
      .select("sms_opted_out_at")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.sms_opted_out_at).toBeNull();
  });
});

describe("inbound SMS", () => {
  it("STOP opts the student out and START opts them back in; only with a valid signature", async () => {
    const app = await setUp();
    const student = await createStudent(app.ctx, { phone: "+919876543210", approved: true });
    const optedOut = async () =>
      (
        await app.ctx.db
          .selectFrom("students")
          .select("sms_opted_out_at")
          .where("id", "=", student.id)
          .executeTakeFirstOrThrow()
      ).sms_opted_out_at;
    expect(
      (
        await post(
          app,
          "/webhooks/twilio/inbound",
          { From: "+919876543210", Body: "stop" },
          "forged",
        )
      ).statusCode,
    ).toBe(403);
    expect(await optedOut()).toBeNull();
    const response = await post(app, "/webhooks/twilio/inbound", {
      From: "+919876543210",
      Body: " STOP ",
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/xml");
    expect(await optedOut()).not.toBeNull();
    await post(app, "/webhooks/twilio/inbound", { From: "+919876543210", Body: "START" });
    expect(await optedOut()).toBeNull();
  });
});
