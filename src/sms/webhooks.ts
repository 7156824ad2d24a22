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

function verifySignature(ctx: AppContext, request: FastifyRequest): Record<string, string> {
  const params = (request.body ?? {}) as Record<string, string>;
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

export async function twilioWebhookRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  const config = { csrf: false };

  app.post("/webhooks/twilio/status", { config }, async (request, reply) => {
    const params = verifySignature(ctx, request);
    if (!params.MessageSid || !params.MessageStatus)
      throw new HttpError(400, "MessageSid and MessageStatus are required.");
    const errorCode = params.ErrorCode ? Number(params.ErrorCode) : null;
    await applyStatusCallback(ctx, {
      sid: params.MessageSid,
      status: params.MessageStatus,
      errorCode,
    });
    return reply.code(204).send();
  });

  app.post("/webhooks/twilio/inbound", { config }, async (request, reply) => {
    const params = verifySignature(ctx, request);
    if (params.From) await applyInboundMessage(ctx, params.From, params.Body ?? "");
    // Twilio answers STOP and START itself on long codes; we add nothing.
    return reply
      .type("text/xml")
      .send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
  });
}
