import fastifyFormbody from "@fastify/formbody";
import Fastify from "fastify";
import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "#test/support/sms.ts";
import { startTwilioEmulator, type TwilioEmulator } from "./emulator.ts";

const SID = `AC${"a".repeat(32)}`;
const TOKEN = "emulator-test-token";
let emulator: TwilioEmulator;

afterEach(async () => {
  await emulator?.close();
});

/** Waits until the emulator has posted `count` status callbacks for `sid` and each was answered. */
async function callbacksAnswered(sid: string, count: number) {
  await waitFor(
    () => {
      const sent = emulator.callbacksSent.filter((c) => c.params.MessageSid === sid);
      return sent.length >= count && sent.every((c) => c.status !== null);
    },
    5000,
    `${count} status callbacks for ${sid}, answered`,
  );
}

function sdk(e: TwilioEmulator, token = TOKEN) {
  const httpClient = new (class extends twilio.RequestClient {
    override request<T>(opts: Parameters<twilio.RequestClient["request"]>[0]) {
      opts.uri = opts.uri.replace("https://api.twilio.com", e.url);
      return super.request<T>(opts as never);
    }
  })();
  return twilio(SID, token, { httpClient });
}

describe("Twilio emulator", () => {
  it("creates, fetches and lists messages as the official SDK expects", async () => {
    emulator = await startTwilioEmulator({ accountSid: SID, authToken: TOKEN });
    const client = sdk(emulator);
    const created = await client.messages.create({
      to: "+919876543210",
      from: "+15005550006",
      body: "hello",
    });
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      status: "queued",
      to: "+919876543210",
      numSegments: "1",
      direction: "outbound-api",
    });
    expect((await client.messages(created.sid).fetch()).body).toBe("hello");
    await client.messages.create({ to: "+919876500000", from: "+15005550006", body: "other" });
    const listed = await client.messages.list({ to: "+919876543210" });
    expect(listed.map((m) => m.sid)).toEqual([created.sid]);
    const account = await client.api.v2010.accounts(SID).fetch();
    expect(account.status).toBe("active");
  });

  it("lists bodies as null with nullBodies, as Twilio lists redacted messages", async () => {
    emulator = await startTwilioEmulator({ accountSid: SID, authToken: TOKEN });
    const client = sdk(emulator);
    await client.messages.create({ to: "+919876543210", from: "+15005550006", body: "hello" });
    emulator.setKnobs({ nullBodies: true });
    const [listed] = await client.messages.list({ to: "+919876543210" });
    expect(listed).toMatchObject({ body: null, numSegments: "1" });
    expect(emulator.messages[0]!.body).toBe("hello");
  });

  it("filters the list by DateSent, which only sent messages have", async () => {
    emulator = await startTwilioEmulator({
      accountSid: SID,
      authToken: TOKEN,
      knobs: { callbacks: [{ status: "sent", afterMs: 0 }] },
    });
    const client = sdk(emulator);
    await client.messages.create({ to: "+919876543210", from: "+15005550006", body: "a" });
    await waitFor(() => emulator.messages[0]?.status === "sent", 5000, "the message to be sent");
    const after = await client.messages.list({
      to: "+919876543210",
      dateSentAfter: new Date(Date.now() - 60_000),
    });
    expect(after).toHaveLength(1);
    const future = await client.messages.list({
      to: "+919876543210",
      dateSentAfter: new Date(Date.now() + 60_000),
    });
    expect(future).toHaveLength(0);
  });

  it("answers bad credentials with 401 and code 20003, and magic numbers with their codes", async () => {
    emulator = await startTwilioEmulator({ accountSid: SID, authToken: TOKEN });
    await expect(
      sdk(emulator, "wrong").messages.create({
        to: "+919876543210",
        from: "+15005550006",
        body: "x",
      }),
    ).rejects.toMatchObject({
      status: 401,
      code: 20003,
    });
    for (const [to, code] of [
      ["+15005550001", 21211],
      ["+15005550004", 21610],
      ["+15005550009", 21614],
    ] as const) {
      await expect(
        sdk(emulator).messages.create({ to, from: "+15005550006", body: "x" }),
      ).rejects.toMatchObject({ status: 400, code });
    }
    expect(emulator.messages).toHaveLength(0);
  });

  it("refuses a From that is not one of the account's numbers: 21212 malformed, 21606 not ours", async () => {
    emulator = await startTwilioEmulator({
      accountSid: SID,
      authToken: TOKEN,
      phoneNumbers: ["+15005550006"],
      messagingServiceSids: [`MG${"3".repeat(32)}`],
    });
    const client = sdk(emulator);
    await expect(
      client.messages.create({ to: "+919876543210", from: "my-office-number", body: "x" }),
    ).rejects.toMatchObject({ status: 400, code: 21212 });
    await expect(
      client.messages.create({ to: "+919876543210", from: "+919800000000", body: "x" }),
    ).rejects.toMatchObject({
      status: 400,
      code: 21606,
      message:
        "The From phone number is not a valid, SMS-capable inbound phone number or short code for your account.",
    });
    await expect(
      client.messages.create({
        to: "+919876543210",
        messagingServiceSid: `MG${"4".repeat(32)}`,
        body: "x",
      }),
    ).rejects.toMatchObject({ status: 400, code: 21701 });
    expect(emulator.messages).toHaveLength(0);
    // The account's own senders still work.
    await client.messages.create({ to: "+919876543210", from: "+15005550006", body: "ok" });
    await client.messages.create({
      to: "+919876543210",
      messagingServiceSid: `MG${"3".repeat(32)}`,
      body: "ok",
    });
    expect(emulator.messages).toHaveLength(2);
  });

  it("answers an unknown path with 404 (20404), and still 401 without credentials", async () => {
    emulator = await startTwilioEmulator({ accountSid: SID, authToken: TOKEN });
    const client = sdk(emulator);
    await expect(
      client.request({
        method: "get",
        uri: `https://api.twilio.com/2010-04-01/Accounts/${SID}/Nonsense.json`,
      }),
    ).resolves.toMatchObject({ statusCode: 404, body: expect.objectContaining({ code: 20404 }) });
    const anonymous = await fetch(`${emulator.url}/2010-04-01/Accounts/${SID}/Nonsense.json`);
    expect(anonymous.status).toBe(401);
    expect(emulator.requests.map((r) => r.status)).toEqual([404, 401]);
  });

  it("refuses a PageSize outside 1-1000 on a list (20007), and serves one inside it", async () => {
    emulator = await startTwilioEmulator({ accountSid: SID, authToken: TOKEN });
    const client = sdk(emulator);
    for (const pageSize of [0, 1001])
      await expect(client.messages.list({ pageSize, limit: 5000 })).rejects.toMatchObject({
        status: 400,
        code: 20007,
      });
    await client.messages.create({ to: "+919876543210", from: "+15005550006", body: "x" });
    expect(await client.messages.list({ pageSize: 1000 })).toHaveLength(1);
  });

  it("answers 429 with Retry-After over its rate, and 503 during an outage", async () => {
    emulator = await startTwilioEmulator({
      accountSid: SID,
      authToken: TOKEN,
      knobs: { ratePerSecond: 2, retryAfterSeconds: 3 },
    });
    const post = () =>
      fetch(`${emulator.url}/2010-04-01/Accounts/${SID}/Messages.json`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}` },
        body: new URLSearchParams({ To: "+919876543210", From: "+15005550006", Body: "x" }),
      });
    expect((await post()).status).toBe(201);
    expect((await post()).status).toBe(201);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(await limited.json()).toMatchObject({
      code: 20429,
      status: 429,
      more_info: "https://www.twilio.com/docs/errors/20429",
    });
    emulator.setKnobs({ ratePerSecond: null, outageUntil: new Date(Date.now() + 10_000) });
    expect((await post()).status).toBe(503);
  });

  it("posts status callbacks signed exactly as Twilio signs them", async () => {
    const received: { signature: string; params: Record<string, string>; url: string }[] = [];
    const receiver = Fastify();
    await receiver.register(fastifyFormbody);
    receiver.post("/webhooks/twilio/status", async (request) => {
      received.push({
        signature: String(request.headers["x-twilio-signature"]),
        params: request.body as Record<string, string>,
        url: `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}${request.url}`,
      });
      return "";
    });
    await receiver.listen({ port: 0, host: "127.0.0.1" });
    try {
      emulator = await startTwilioEmulator({ accountSid: SID, authToken: TOKEN });
      const callback = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/webhooks/twilio/status`;
      const created = await sdk(emulator).messages.create({
        to: "+919876543210",
        from: "+15005550006",
        body: "hi",
        statusCallback: callback,
      });
      await callbacksAnswered(created.sid, 2);
      expect(
        emulator.callbacksSent
          .filter((c) => c.params.MessageSid === created.sid)
          .map((c) => c.params.MessageStatus),
      ).toEqual(["sent", "delivered"]);
      expect(received.map((r) => r.params.MessageStatus).sort()).toEqual(["delivered", "sent"]);

      for (const r of received) {
        expect(r.params.MessageSid).toBe(created.sid);
        expect(twilio.validateRequest(TOKEN, r.signature, r.url, r.params)).toBe(true);
        expect(twilio.validateRequest("another-token", r.signature, r.url, r.params)).toBe(false);
      }
      // Any sequence can be asked for, with the carrier's error code on an undelivered message.
      emulator.setKnobs({
        callbacks: [
          { status: "queued", afterMs: 0 },
          { status: "sent", afterMs: 20 },
          { status: "undelivered", afterMs: 40, errorCode: 30003 },
        ],
      });
      received.length = 0;
      const again = await sdk(emulator).messages.create({
        to: "+919876543210",
        from: "+15005550006",
        body: "again",
        statusCallback: callback,
      });
      await callbacksAnswered(again.sid, 3);
      const steps = [
        ["queued", undefined],
        ["sent", undefined],
        ["undelivered", "30003"],
      ];
      // Posted in this order; each is its own HTTP request, so on a busy machine they may arrive
      // in another (as Twilio's may: the portal ranks statuses instead of trusting arrival).
      expect(
        emulator.callbacksSent
          .filter((c) => c.params.MessageSid === again.sid)
          .map((c) => [c.params.MessageStatus, c.params.ErrorCode]),
      ).toEqual(steps);
      expect(received.map((r) => [r.params.MessageStatus, r.params.ErrorCode]).sort()).toEqual(
        [...steps].sort(),
      );
    } finally {
      await receiver.close();
    }
  });

  it("runs on its own from the command line", async () => {
    const { spawn } = await import("node:child_process");
    const args = [
      "--import",
      "tsx",
      "tools/twilio-emulator/cli.ts",
      "--port",
      "0",
      "--account-sid",
      SID,
      "--auth-token",
      TOKEN,
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start: ${out}`)), 20_000);
        child.stdout.on("data", (chunk) => {
          out += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      expect(out).toContain(`TWILIO_ACCOUNT_SID=${SID}`);
      const created = await sdk({ url } as TwilioEmulator).messages.create({
        to: "+919876543210",
        from: "+15005550006",
        body: "cli",
      });
      expect(created.sid).toMatch(/^SM/);
      const listed = (await (await fetch(`${url}/_emulator/messages`)).json()) as {
        body: string;
      }[];
      expect(listed.map((m) => m.body)).toEqual(["cli"]);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
