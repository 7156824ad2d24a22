import type { FastifyInstance, FastifyRequest } from "fastify";
import twilio from "twilio";
import type { AppContext } from "../context.ts";
import { HttpError } from "../web/auth.ts";

/**
 * Twilio's webhooks: delivery status callbacks and inbound messages (STOP / START). No session and
 * no CSRF token: each request must carry a valid X-Twilio-Signature instead.
 */

/** Twilio's statuses in the order a message moves through them; an update never goes back. */
const PROVIDER_RANK: Record<string, number> = {
  accepted: 0,
  scheduled: 0,
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
  read: 4,
};

const OPT_OUT_WORDS = new Set([
  "STOP",
  "STOPALL",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "REVOKE",
  "OPTOUT",
]);
const OPT_IN_WORDS = new Set(["START", "YES", "UNSTOP", "OPTIN"]);

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

export async function applyStatusCallback(
  ctx: AppContext,
  callback: { sid: string; status: string; errorCode: number | null },
): Promise<"updated" | "unknown" | "stale"> {
  const row = await ctx.db
    .selectFrom("sms_messages")
    .select(["id", "status", "provider_status"])
    .where("twilio_sid", "=", callback.sid)
    .executeTakeFirst();
  if (!row) {
    // Twilio can call back before the dispatcher has stored the SID from the create answer: keep
    // it for the dispatcher to apply. If the SID landed meanwhile, the dispatcher may already have
    // looked, so apply it here too (applying twice is harmless: updates only move forward).
    await ctx.db
      .insertInto("sms_early_callbacks")
      .values({
        twilio_sid: callback.sid,
        status: callback.status,
        error_code: callback.errorCode,
        received_at: ctx.clock.now().toISOString(),
      })
      .execute();
    const landed = await ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("twilio_sid", "=", callback.sid)
      .executeTakeFirst();
    if (landed) await applyEarlyCallbacks(ctx, callback.sid);
    return "unknown";
  }
  const rank = PROVIDER_RANK[callback.status] ?? -1;
  const current = PROVIDER_RANK[row.provider_status ?? "queued"] ?? 0;
  if (rank <= current) return "stale";
  const now = ctx.clock.now().toISOString();
  const final =
    callback.status === "delivered" || callback.status === "read"
      ? { status: "delivered" as const, delivered_at: now }
      : callback.status === "undelivered"
        ? {
            status: "undelivered" as const,
            error_code: callback.errorCode,
            error_message: "Not delivered by the carrier",
          }
        : callback.status === "failed"
          ? {
              status: "failed" as const,
              error_code: callback.errorCode,
              error_message: "Twilio could not send it",
            }
          : {};
  // Guarded in the statement by rank, not by the status we read: of two callbacks racing, the
  // later status wins whichever commits first, and nothing ever moves backwards.
  const earlier = Object.keys(PROVIDER_RANK).filter(
    (status) => (PROVIDER_RANK[status] ?? 0) < rank,
  );
  const updated = await ctx.db
    .updateTable("sms_messages")
    .set({ provider_status: callback.status, updated_at: now, ...final })
    .where("id", "=", row.id)
    .where((eb) => eb.or([eb("provider_status", "is", null), eb("provider_status", "in", earlier)]))
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return "stale";
  ctx.smsLog.info(
    { sms: row.id, sid: callback.sid, status: callback.status, code: callback.errorCode },
    "delivery status",
  );
  return "updated";
}

export async function applyInboundMessage(
  ctx: AppContext,
  from: string,
  body: string,
): Promise<"opted_out" | "opted_in" | "ignored"> {
  const word = body.trim().toUpperCase();
  const now = ctx.clock.now().toISOString();
  if (OPT_OUT_WORDS.has(word)) {
    await ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: now, updated_at: now })
      .where("phone_e164", "=", from)
      .where("sms_opted_out_at", "is", null)
      .execute();
    ctx.smsLog.info({ to: from, word }, "inbound: opted out");
    return "opted_out";
  }
  if (OPT_IN_WORDS.has(word)) {
    await ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: null, updated_at: now })
      .where("phone_e164", "=", from)
      .execute();
    ctx.smsLog.info({ to: from, word }, "inbound: opted back in");
    return "opted_in";
  }
  return "ignored";
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

/** Applies callbacks that arrived before the row had its SID (see applyStatusCallback). */
export async function applyEarlyCallbacks(ctx: AppContext, sid: string): Promise<void> {
  const early = await ctx.db
    .selectFrom("sms_early_callbacks")
    .selectAll()
    .where("twilio_sid", "=", sid)
    .orderBy("id")
    .execute();
  if (early.length === 0) return;
  for (const callback of early) {
    await applyStatusCallback(ctx, {
      sid,
      status: callback.status,
      errorCode: callback.error_code,
    });
  }
  await ctx.db.deleteFrom("sms_early_callbacks").where("twilio_sid", "=", sid).execute();
}
