import twilio from "twilio";
import type * as RequestClientModule from "twilio/lib/base/RequestClient.js";
import type * as ResponseModule from "twilio/lib/http/response.js";
import type { Config } from "../../config.ts";
import {
  type AccountInfo,
  type OutgoingSms,
  type SendResult,
  type SentMessage,
  type SmsTransport,
  TransportError,
} from "./types.ts";

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | null {
  if (typeof value !== "string" || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}

const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * The SDK's HTTP client with two changes: requests go to TWILIO_API_URL when set (the SDK has no
 * base-URL option), and a failed call becomes a TransportError that keeps what the SDK drops
 * (the Retry-After header, whether any answer came at all).
 */
export class PortalRequestClient extends twilio.RequestClient {
  constructor(
    private readonly apiUrl: string | undefined,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: true, autoRetry: false });
  }

  override async request<TData>(
    opts: RequestClientModule.RequestOptions<TData>,
  ): Promise<ResponseModule.default<TData>> {
    if (this.apiUrl) {
      const target = new URL(opts.uri);
      const base = new URL(this.apiUrl);
      target.protocol = base.protocol;
      target.host = base.host;
      target.pathname = base.pathname.replace(/\/$/, "") + target.pathname;
      opts.uri = target.toString();
    }
    let response: ResponseModule.default<TData>;
    try {
      response = await super.request<TData>(opts);
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      throw new TransportError(
        `No answer from the Twilio API (${code || (error as Error).message})`,
        {
          network: true,
          connectFailed: CONNECT_FAILURES.has(code),
        },
      );
    }
    if (response.statusCode >= 400) {
      let body: { code?: number; message?: string } = {};
      try {
        body =
          typeof response.body === "string"
            ? JSON.parse(response.body)
            : (response.body as typeof body);
      } catch {
        // not JSON: keep the HTTP status only
      }
      const headers = (response.headers ?? {}) as Record<string, unknown>;
      throw new TransportError(body?.message ?? `HTTP ${response.statusCode}`, {
        status: response.statusCode,
        code: typeof body?.code === "number" ? body.code : null,
        retryAfterSeconds: parseRetryAfter(headers["retry-after"]),
      });
    }
    return response;
  }
}

export function createTwilioTransport(config: Config, timeoutMs = 15_000): SmsTransport {
  const accountSid = config.TWILIO_ACCOUNT_SID;
  const authToken = config.TWILIO_AUTH_TOKEN;
  if (!accountSid || !authToken)
    throw new Error("the twilio transport needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
  // autoRetry stays off: the dispatcher owns retries, and honours Retry-After, which the SDK ignores.
  const client = twilio(accountSid, authToken, {
    httpClient: new PortalRequestClient(config.TWILIO_API_URL, timeoutMs),
    autoRetry: false,
  });
  const sender = config.TWILIO_MESSAGING_SERVICE_SID
    ? { messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID }
    : { from: config.TWILIO_PHONE_NUMBER! };

  return {
    name: "twilio",
    async send(message: OutgoingSms): Promise<SendResult> {
      const created = await client.messages.create({
        to: message.to,
        body: message.body,
        ...sender,
        ...(message.statusCallback ? { statusCallback: message.statusCallback } : {}),
      });
      return { sid: created.sid, providerStatus: created.status };
    },
    async findSent(to: string, since: Date): Promise<SentMessage[]> {
      // By To only, filtered on creation time here: a message Twilio still holds in its queue has
      // no DateSent yet, and a DateSent filter would miss exactly the one we are looking for.
      const list = await client.messages.list({ to, pageSize: 50, limit: 50 });
      return list
        .filter((m) => !m.dateCreated || m.dateCreated.getTime() >= since.getTime())
        .map((m) => ({
          sid: m.sid,
          to: m.to,
          // Typed as a string by the SDK, but null for a redacted message.
          body: (m.body as string | null) ?? null,
          segments: m.numSegments ? Number(m.numSegments) : null,
          status: m.status,
          dateCreated: m.dateCreated ?? null,
        }));
    },
    async checkAccount(): Promise<AccountInfo> {
      const account = await client.api.v2010.accounts(accountSid).fetch();
      return { sid: account.sid, friendlyName: account.friendlyName, status: account.status };
    },
  };
}
