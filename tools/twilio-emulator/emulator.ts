import { randomBytes, randomUUID } from "node:crypto";
import fastifyFormbody from "@fastify/formbody";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import twilio from "twilio";

/**
 * A Twilio-compatible HTTP server for tests, benchmarks and demos: the Messages and Account
 * resources of API 2010-04-01, Basic auth, Twilio-shaped answers and errors, knobs for latency,
 * rate limits, outages and Twilio's magic test numbers, status callbacks signed exactly as Twilio
 * signs them, and a record of everything it received.
 */

export interface EmulatedMessage {
  sid: string;
  account_sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  status: string;
  num_segments: string;
  error_code: number | null;
  error_message: string | null;
  date_created: Date;
  date_sent: Date | null;
  date_updated: Date;
  status_callback: string | null;
}

export interface RecordedRequest {
  at: Date;
  method: string;
  path: string;
  /** The Basic-auth user (the Account SID used), or null without auth. */
  user: string | null;
  params: Record<string, string>;
  status: number;
}

export interface EmulatorKnobs {
  /** Delay before every API answer. */
  latencyMs: number;
  /** Message creations per second before answering 429 (null: unlimited). */
  ratePerSecond: number | null;
  /** Retry-After, in seconds, sent with every 429. */
  retryAfterSeconds: number;
  /** The next N requests to `endpoint` (default: message creations) answer this error instead
   * (then the knob clears itself). */
  failNext: {
    count: number;
    status: number;
    code: number;
    retryAfterSeconds?: number;
    endpoint?: Endpoint;
  } | null;
  /** Until this time every API request (create, list, fetch, account) answers 503. */
  outageUntil: Date | null;
  /** The next N creations are stored (the message goes out) but the connection is then cut: an
   * answer lost in transit, as a crash or a timeout would lose it. */
  dropAnswerNext: number;
  /** Store bodies as a trial account does: "Sent from your Twilio trial account - " first. */
  trialAccount: boolean;
  /** The message list answers every body as null, as Twilio does for redacted messages. */
  nullBodies: boolean;
  /** Statuses posted to StatusCallback after a creation, with the delay before each. */
  callbacks: {
    status: "queued" | "sending" | "sent" | "delivered" | "undelivered" | "failed";
    afterMs: number;
    errorCode?: number;
  }[];
}

/** The API endpoints the portal calls, for faults aimed at one of them. */
export type Endpoint = "create" | "list" | "fetch" | "account";

export const DEFAULT_KNOBS: EmulatorKnobs = {
  latencyMs: 0,
  ratePerSecond: null,
  retryAfterSeconds: 1,
  failNext: null,
  outageUntil: null,
  dropAnswerNext: 0,
  trialAccount: false,
  nullBodies: false,
  callbacks: [
    { status: "sent", afterMs: 20 },
    { status: "delivered", afterMs: 40 },
  ],
};

/** Twilio's magic test numbers, as To. */
const MAGIC_TO: Record<string, { code: number; message: string }> = {
  "+15005550001": {
    code: 21211,
    message: "The 'To' number +15005550001 is not a valid phone number.",
  },
  "+15005550004": {
    code: 21610,
    message: "Attempt to send to unsubscribed recipient",
  },
  "+15005550009": { code: 21614, message: "'To' number is not a valid mobile number" },
};

/** The sender Twilio's test credentials accept (TWILIO.md): the emulator's number by default. */
export const DEFAULT_PHONE_NUMBER = "+15005550006";

export interface EmulatorOptions {
  accountSid?: string;
  authToken?: string;
  /** The account's SMS-capable numbers: a `From` not among them is refused as Twilio refuses it
   * (default: Twilio's magic test number +15005550006). */
  phoneNumbers?: string[];
  /** The account's Messaging Services: a `MessagingServiceSid` not among them is refused
   * (default: none). */
  messagingServiceSids?: string[];
  knobs?: Partial<EmulatorKnobs>;
}

export interface TwilioEmulator {
  url: string;
  accountSid: string;
  authToken: string;
  knobs: EmulatorKnobs;
  messages: EmulatedMessage[];
  requests: RecordedRequest[];
  /** The most message creations ever handled at once. */
  stats: { maxInFlight: number };
  /** Status callbacks posted, with the answer the portal gave. */
  callbacksSent: { url: string; params: Record<string, string>; status: number | null }[];
  setKnobs(knobs: Partial<EmulatorKnobs>): void;
  /** Changes which credentials are accepted (to test a credentials fix). */
  setCredentials(accountSid: string, authToken: string): void;
  reset(): void;
  close(): Promise<void>;
}

export function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString("hex")}`;
}

function twilioError(reply: FastifyReply, status: number, code: number, message: string) {
  return reply.code(status).send({
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  });
}

const E164 = /^\+[1-9]\d{6,14}$/;

function rfc2822(date: Date | null): string | null {
  return date ? date.toUTCString().replace("GMT", "+0000") : null;
}

function segmentsOf(body: string): number {
  // Close enough for an emulator: GSM-7 or not, 160/153 or 70/67.
  const gsm = /^[\x20-\x7E\n\r£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€]*$/.test(body);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  return body.length <= single ? 1 : Math.ceil(body.length / multi);
}

export async function startTwilioEmulator(
  options: EmulatorOptions & { port?: number; host?: string } = {},
): Promise<TwilioEmulator> {
  let accountSid = options.accountSid ?? `AC${"0".repeat(31)}1`;
  let authToken = options.authToken ?? randomBytes(16).toString("hex");
  const knobs: EmulatorKnobs = { ...DEFAULT_KNOBS, ...options.knobs };
  const phoneNumbers = new Set(options.phoneNumbers ?? [DEFAULT_PHONE_NUMBER]);
  const messagingServiceSids = new Set(options.messagingServiceSids ?? []);
  const messages: EmulatedMessage[] = [];
  const requests: RecordedRequest[] = [];
  const callbacksSent: TwilioEmulator["callbacksSent"] = [];
  const createTimes: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const stats = { maxInFlight: 0 };
  let inFlight = 0;

  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(fastifyFormbody);

  function authorised(request: FastifyRequest): string | null {
    const header = request.headers.authorization ?? "";
    if (!header.startsWith("Basic ")) return null;
    const [user, pass] = Buffer.from(header.slice(6), "base64").toString().split(":");
    return user === accountSid && pass === authToken ? user : null;
  }

  function record(request: FastifyRequest, status: number) {
    const header = request.headers.authorization ?? "";
    const user = header.startsWith("Basic ")
      ? Buffer.from(header.slice(6), "base64").toString().split(":")[0]!
      : null;
    const params = {
      ...(request.query as Record<string, string>),
      ...((request.body as Record<string, string>) ?? {}),
    };
    requests.push({
      at: new Date(),
      method: request.method,
      path: request.url.split("?")[0]!,
      user,
      params,
      status,
    });
  }

  function messageJson(m: EmulatedMessage) {
    return {
      sid: m.sid,
      account_sid: m.account_sid,
      api_version: "2010-04-01",
      body: m.body,
      date_created: rfc2822(m.date_created),
      date_sent: rfc2822(m.date_sent),
      date_updated: rfc2822(m.date_updated),
      direction: "outbound-api",
      error_code: m.error_code,
      error_message: m.error_message,
      from: m.from,
      messaging_service_sid: m.messaging_service_sid,
      num_media: "0",
      num_segments: m.num_segments,
      price: null,
      price_unit: "USD",
      status: m.status,
      subresource_uris: {
        media: `/2010-04-01/Accounts/${m.account_sid}/Messages/${m.sid}/Media.json`,
      },
      to: m.to,
      uri: `/2010-04-01/Accounts/${m.account_sid}/Messages/${m.sid}.json`,
    };
  }

  /** Moves the message through its statuses, posting each to StatusCallback when there is one. */
  function scheduleCallbacks(message: EmulatedMessage) {
    const url = message.status_callback;
    for (const step of knobs.callbacks) {
      const timer = setTimeout(async () => {
        timers.delete(timer);
        message.status = step.status;
        message.date_updated = new Date();
        if (step.status === "sent") message.date_sent = new Date();
        if (step.errorCode) {
          message.error_code = step.errorCode;
          message.error_message = "Delivery failed";
        }
        if (!url) return;
        const params: Record<string, string> = {
          AccountSid: message.account_sid,
          ApiVersion: "2010-04-01",
          From: message.from ?? "",
          MessageSid: message.sid,
          MessageStatus: step.status,
          SmsSid: message.sid,
          SmsStatus: step.status,
          To: message.to,
          ...(step.errorCode ? { ErrorCode: String(step.errorCode) } : {}),
        };
        const entry: (typeof callbacksSent)[number] = { url, params, status: null };
        callbacksSent.push(entry);
        try {
          const response = await fetch(url, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, url, params),
              "i-twilio-idempotency-token": randomUUID(),
              "user-agent": "TwilioProxy/1.1",
            },
            body: new URLSearchParams(params),
          });
          entry.status = response.status;
        } catch {
          entry.status = 0;
        }
      }, step.afterMs);
      timers.add(timer);
    }
  }

  const delay = () =>
    knobs.latencyMs > 0 ? new Promise((r) => setTimeout(r, knobs.latencyMs)) : undefined;

  const base = "/2010-04-01/Accounts/:accountSid";

  /** An outage or a planned failure for this endpoint, answered here; false to go on. */
  function injectedFault(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply) {
    if (knobs.outageUntil && Date.now() < knobs.outageUntil.getTime()) {
      record(request, 503);
      twilioError(reply, 503, 20503, "Service Unavailable");
      return true;
    }
    const f = knobs.failNext;
    if (f && f.count > 0 && (f.endpoint ?? "create") === endpoint) {
      f.count -= 1;
      if (f.count === 0) knobs.failNext = null;
      if (f.retryAfterSeconds !== undefined)
        reply.header("retry-after", String(f.retryAfterSeconds));
      record(request, f.status);
      twilioError(
        reply,
        f.status,
        f.code,
        f.status === 429 ? "Too Many Requests" : "Emulated failure",
      );
      return true;
    }
    return false;
  }

  app.addHook("onRequest", async (request, reply) => {
    if (request.url.startsWith("/_emulator")) return;
    // A path the API does not have: with good credentials Twilio answers 404 (20404), which the
    // not-found handler below sends; only a known path names an account to compare.
    const knownPath = request.routeOptions.url !== undefined;
    if (
      !authorised(request) ||
      (knownPath && (request.params as { accountSid?: string }).accountSid !== accountSid)
    ) {
      reply.header("www-authenticate", 'Basic realm="Twilio API"');
      record(request, 401);
      return twilioError(reply, 401, 20003, "Authentication Error - invalid username");
    }
  });

  app.setNotFoundHandler(async (request, reply) => {
    record(request, 404);
    const path = request.url.split("?")[0]!;
    return twilioError(reply, 404, 20404, `The requested resource ${path} was not found`);
  });

  app.get(`${base}.json`, async (request, reply) => {
    await delay();
    if (injectedFault("account", request, reply)) return reply;
    record(request, 200);
    return reply.send({
      sid: accountSid,
      friendly_name: "Placement Portal emulator",
      status: "active",
      type: "Full",
      date_created: rfc2822(new Date("2026-01-01T00:00:00Z")),
      uri: `/2010-04-01/Accounts/${accountSid}.json`,
    });
  });

  app.post<{ Body: Record<string, string> }>(`${base}/Messages.json`, async (request, reply) => {
    inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      return await createMessage(request, reply);
    } finally {
      inFlight -= 1;
    }
  });

  async function createMessage(
    request: FastifyRequest<{ Body: Record<string, string> }>,
    reply: FastifyReply,
  ) {
    const params = request.body ?? {};
    const fail = (status: number, code: number, message: string) => {
      record(request, status);
      return twilioError(reply, status, code, message);
    };
    const now = Date.now();
    if (injectedFault("create", request, reply)) return reply;
    if (knobs.ratePerSecond !== null) {
      while (createTimes.length > 0 && createTimes[0]! <= now - 1000) createTimes.shift();
      if (createTimes.length >= knobs.ratePerSecond) {
        reply.header("retry-after", String(knobs.retryAfterSeconds));
        return fail(429, 20429, "Too Many Requests");
      }
      createTimes.push(now);
    }
    const to = params.To;
    const body = params.Body;
    if (!to) return fail(400, 21604, "A 'To' phone number is required.");
    if (!body) return fail(400, 21602, "Message body is required.");
    if (body.length > 1600)
      return fail(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    if (!params.From && !params.MessagingServiceSid)
      return fail(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.");
    if (!E164.test(to))
      return fail(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const from = params.From;
    if (from !== undefined) {
      if (!E164.test(from))
        return fail(
          400,
          21212,
          `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
        );
      if (!phoneNumbers.has(from))
        return fail(
          400,
          21606,
          "The From phone number is not a valid, SMS-capable inbound phone number or short code for your account.",
        );
    }
    const service = params.MessagingServiceSid;
    if (service !== undefined && !messagingServiceSids.has(service))
      return fail(400, 21701, `The Messaging Service ${service} does not exist.`);
    const magic = MAGIC_TO[to];
    if (magic) return fail(400, magic.code, magic.message);

    const message: EmulatedMessage = {
      sid: newSid("SM"),
      account_sid: accountSid,
      to,
      from: params.From ?? null,
      messaging_service_sid: params.MessagingServiceSid ?? null,
      body: knobs.trialAccount ? `Sent from your Twilio trial account - ${body}` : body,
      status: params.MessagingServiceSid ? "accepted" : "queued",
      num_segments: String(segmentsOf(body)),
      error_code: null,
      error_message: null,
      date_created: new Date(),
      date_sent: null,
      date_updated: new Date(),
      status_callback: params.StatusCallback ?? null,
    };
    messages.push(message);
    record(request, 201);
    scheduleCallbacks(message);
    if (knobs.dropAnswerNext > 0) {
      knobs.dropAnswerNext -= 1;
      request.raw.socket.destroy();
      return reply.hijack();
    }
    // The message exists from here on, as at Twilio: an answer lost in this window is the case
    // reconciliation has to handle.
    await delay();
    return reply.code(201).send(messageJson(message));
  }

  app.get<{ Params: { messageSid: string } }>(
    `${base}/Messages/:messageSid.json`,
    async (request, reply) => {
      if (injectedFault("fetch", request, reply)) return reply;
      const message = messages.find((m) => m.sid === request.params.messageSid);
      record(request, message ? 200 : 404);
      if (!message)
        return twilioError(
          reply,
          404,
          20404,
          `The requested resource ${request.url} was not found`,
        );
      return reply.send(messageJson(message));
    },
  );

  app.get<{ Querystring: Record<string, string> }>(
    `${base}/Messages.json`,
    async (request, reply) => {
      await delay();
      if (injectedFault("list", request, reply)) return reply;
      const q = request.query;
      const pageSize = Number(q.PageSize ?? 50);
      // Twilio's largest page is 1000 (error 20007, "Page size too large"); it refuses a size
      // below 1 too (the code for that case is unconfirmed: the same one is answered here).
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
        record(request, 400);
        return twilioError(
          reply,
          400,
          20007,
          `PageSize ${q.PageSize} is not allowed: the page size must be from 1 to 1000.`,
        );
      }
      const page = Number(q.Page ?? 0);
      const after = q["DateSent>"] ? new Date(q["DateSent>"]) : null;
      const before = q["DateSent<"] ? new Date(q["DateSent<"]) : null;
      const on = q.DateSent ? q.DateSent.slice(0, 10) : null;
      const matching = messages
        .filter((m) => (!q.To || m.to === q.To) && (!q.From || m.from === q.From))
        .filter((m) => {
          if (!after && !before && !on) return true;
          // Like Twilio: a message that has not been sent yet has no DateSent and matches no date filter.
          const sent = m.date_sent;
          if (!sent) return false;
          if (after && sent < after) return false;
          if (before && sent > before) return false;
          if (on && sent.toISOString().slice(0, 10) !== on) return false;
          return true;
        })
        .sort((a, b) => b.date_created.getTime() - a.date_created.getTime());
      const slice = matching.slice(page * pageSize, (page + 1) * pageSize);
      const uri = (p: number) => {
        const params = new URLSearchParams(q);
        params.set("Page", String(p));
        params.set("PageSize", String(pageSize));
        return `/2010-04-01/Accounts/${accountSid}/Messages.json?${params}`;
      };
      record(request, 200);
      return reply.send({
        messages: slice.map((m) => ({
          ...messageJson(m),
          ...(knobs.nullBodies ? { body: null } : {}),
        })),
        end: page * pageSize + Math.max(0, slice.length - 1),
        first_page_uri: uri(0),
        next_page_uri: (page + 1) * pageSize < matching.length ? uri(page + 1) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? uri(page - 1) : null,
        start: page * pageSize,
        uri: uri(page),
      });
    },
  );

  // Control endpoints, for a separately started emulator.
  app.get("/_emulator/messages", async () => messages.map(messageJson));
  app.get("/_emulator/requests", async () => requests);
  app.post<{ Body: Partial<EmulatorKnobs> & { outageSeconds?: number } }>(
    "/_emulator/knobs",
    async (request) => {
      const { outageSeconds, ...rest } = request.body ?? {};
      Object.assign(knobs, rest);
      if (outageSeconds !== undefined)
        knobs.outageUntil = new Date(Date.now() + outageSeconds * 1000);
      return knobs;
    },
  );
  app.post("/_emulator/reset", async () => {
    emulator.reset();
    return { ok: true };
  });

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1" });

  const emulator: TwilioEmulator = {
    url: address,
    get accountSid() {
      return accountSid;
    },
    get authToken() {
      return authToken;
    },
    knobs,
    messages,
    requests,
    callbacksSent,
    stats,
    setKnobs(next) {
      Object.assign(knobs, next);
    },
    setCredentials(sid, token) {
      accountSid = sid;
      authToken = token;
    },
    reset() {
      messages.length = 0;
      requests.length = 0;
      callbacksSent.length = 0;
      createTimes.length = 0;
      stats.maxInFlight = 0;
      Object.assign(knobs, DEFAULT_KNOBS, options.knobs);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await app.close();
    },
  };
  return emulator;
}
