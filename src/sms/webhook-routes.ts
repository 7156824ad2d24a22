import type { FastifyInstance, FastifyRequest } from "fastify";
import twilio from "twilio";
import type { AppContext } from "../context.ts";
import { HttpError } from "../web/auth.ts";
import { applyInboundMessage, applyStatusCallback } from "./delivery.ts";

/**
 * Twilio's webhooks: delivery status callbacks and inbound messages (STOP / START). No session and
 * no CSRF token: each request must carry a valid X-Twilio-Signature instead.
 */

/** The URL Twilio signed: the configured public one (behind a proxy the Host header lies). */
function signedUrl(ctx: AppContext, request: FastifyRequest): string {
  const base = ctx.config.PUBLIC_BASE_URL ?? `${request.protocol}://${request.host}`;
  return new URL(request.url, base).toString();
}

function verifySignature(ctx: AppContext, request: FastifyRequest): Record<string, unknown> {
  const params = (request.body ?? {}) as Record<string, unknown>;
  const signature = request.headers["x-twilio-signature"];
  const token = ctx.config.TWILIO_AUTH_TOKEN;
  if (
    !token ||
    typeof signature !== "string" ||
    !twilio.validateRequest(token, signature, signedUrl(ctx, request), params)
  ) {
    ctx.smsLog.warn(
      { path: request.url.split("?")[0], ip: request.ip },
      "webhook refused: bad or missing X-Twilio-Signature",
    );
    throw new HttpError(403, "Invalid Twilio signature.");
  }
  return params;
}

/**
 * The parameters a webhook reads, each once, as text of at most `max` characters (absent: undefined).
 * Twilio sends every parameter once; the signature check accepts repeated keys (it signs lists
 * too), so a signed request with MessageSid twice is refused here, before anything changes.
 */
function singleParams<K extends string>(
  params: Record<string, unknown>,
  limits: Record<K, number>,
): Record<K, string | undefined> {
  const out = {} as Record<K, string | undefined>;
  for (const [name, max] of Object.entries(limits) as [K, number][]) {
    const value = params[name];
    if (value === undefined) continue;
    if (Array.isArray(value))
      throw new HttpError(400, `${name} must be sent once, not ${value.length} times.`);
    if (typeof value !== "string") throw new HttpError(400, `${name} must be text.`);
    if (value.length > max) throw new HttpError(400, `${name} is longer than ${max} characters.`);
    out[name] = value;
  }
  return out;
}

export async function twilioWebhookRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  const config = { csrf: false };

  app.post("/webhooks/twilio/status", { config }, async (request, reply) => {
    const params = singleParams(verifySignature(ctx, request), {
      MessageSid: 64,
      MessageStatus: 32,
      ErrorCode: 16,
    });
    if (!params.MessageSid || !params.MessageStatus)
      throw new HttpError(400, "MessageSid and MessageStatus are required.");
    // Twilio's error codes are whole numbers (five digits today, up to six accepted); anything
    // else is not one of them.
    if (params.ErrorCode && !/^[0-9]{1,6}$/.test(params.ErrorCode))
      throw new HttpError(400, "ErrorCode must be a Twilio error code (a whole number).");
    const errorCode = params.ErrorCode ? Number(params.ErrorCode) : null;
    await applyStatusCallback(ctx, {
      sid: params.MessageSid,
      status: params.MessageStatus,
      errorCode,
    });
    return reply.code(204).send();
  });

  app.post("/webhooks/twilio/inbound", { config }, async (request, reply) => {
    // A Body is at most 1,600 characters (ten segments), From a phone number.
    const params = singleParams(verifySignature(ctx, request), { From: 32, Body: 1600 });
    if (params.From) await applyInboundMessage(ctx, params.From, params.Body ?? "");
    // Twilio answers STOP and START itself on long codes; we add nothing.
    return reply
      .type("text/xml")
      .send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
  });
}
