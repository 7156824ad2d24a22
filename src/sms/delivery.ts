import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { dbNow } from "../db/dialect.ts";
import { classifyDeliveryError } from "./errors.ts";
import { QUEUED_ROW_COLUMNS } from "./outbox-api.ts";

/**
 * The delivery-state rules: Twilio's status callbacks move a message forward (never back), a
 * callback that overtakes the create answer is parked until the SID is stored, and inbound STOP /
 * START set the student's opt-out. Used by the webhook routes and by the dispatcher, so a process
 * that only dispatches loads no HTTP route.
 */

type Ctx = Pick<AppContext, "db" | "clock" | "smsLog" | "config" | "dialect">;

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

export async function applyStatusCallback(
  ctx: Ctx,
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
    if (landed) await applyEarlyCallbacks(ctx, [callback.sid]);
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
  if (callback.status === "undelivered") await resendUndelivered(ctx, row.id, callback.errorCode);
  return "updated";
}

/**
 * A message the carrier could not deliver for a reason that may pass (30003 handset unreachable,
 * 30008 unknown) is queued once more, as a new row `resend:<id>` due after
 * SMS_RESEND_UNDELIVERED_SECONDS (0: never). A new row, not the same one: the first attempt keeps
 * its SID and its status as the record of what happened, and the dedupe key makes it once only,
 * however many callbacks arrive. A resend is not resent again.
 */
async function resendUndelivered(ctx: Ctx, id: number, code: number | null): Promise<void> {
  const delaySeconds = ctx.config.SMS_RESEND_UNDELIVERED_SECONDS;
  if (delaySeconds === 0 || classifyDeliveryError(code) !== "resend") return;
  const result = await ctx.db
    .insertInto("sms_messages")
    .columns([
      ...QUEUED_ROW_COLUMNS,
      "resend_of",
      "template_id",
      "template_version",
      "masked_body",
      "secret_until",
      "student_name",
      "student_roll_number",
    ])
    .expression((eb) =>
      eb
        .selectFrom("sms_messages")
        .select([
          "kind",
          "priority",
          sql<string>`${"resend:"} || cast(id as text)`.as("dedupe_key"),
          "reference",
          "student_id",
          "to_e164",
          "body",
          "encoding",
          "segments",
          sql.lit("queued").as("status"),
          sql<string | null>`null`.as("error_message"),
          dbNow(ctx.dialect, delaySeconds).as("next_attempt_at"),
          dbNow(ctx.dialect).as("created_at"),
          dbNow(ctx.dialect).as("updated_at"),
          "id as resend_of",
          "template_id",
          "template_version",
          // A code goes again only while it lives, and stays masked and expiring as the first.
          "masked_body",
          "secret_until",
          "student_name",
          "student_roll_number",
        ])
        .where("id", "=", id)
        .where("dedupe_key", "not like", "resend:%")
        .where((w) =>
          w.or([w("masked_body", "is", null), w("secret_until", ">", dbNow(ctx.dialect))]),
        ),
    )
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0)
    ctx.smsLog.info({ sms: id, code, delaySeconds }, "undelivered: queued once more");
}

export async function applyInboundMessage(
  ctx: Ctx,
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

/**
 * Applies callbacks that arrived before the rows had their SIDs (see applyStatusCallback), and
 * deletes exactly the ones it read: one parked meanwhile stays for the next look. One look for
 * many SIDs: a dispatcher looks once for the outcomes it recorded together (SentRecorder).
 */
export async function applyEarlyCallbacks(ctx: Ctx, sids: readonly string[]): Promise<void> {
  if (sids.length === 0) return;
  const early = await ctx.db
    .selectFrom("sms_early_callbacks")
    .selectAll()
    .where("twilio_sid", "in", [...new Set(sids)])
    .orderBy("id")
    .execute();
  if (early.length === 0) return;
  for (const callback of early) {
    await applyStatusCallback(ctx, {
      sid: callback.twilio_sid,
      status: callback.status,
      errorCode: callback.error_code,
    });
  }
  await ctx.db
    .deleteFrom("sms_early_callbacks")
    .where(
      "id",
      "in",
      early.map((callback) => callback.id),
    )
    .execute();
}

/**
 * Deletes parked callbacks older than `olderThanMs`: ones whose message never got its SID (not
 * ours, or a send that never finished). Returns how many were deleted.
 */
export async function pruneEarlyCallbacks(ctx: Ctx, olderThanMs: number): Promise<number> {
  const cutoff = new Date(ctx.clock.now().getTime() - olderThanMs).toISOString();
  const result = await ctx.db
    .deleteFrom("sms_early_callbacks")
    .where("received_at", "<", cutoff)
    .executeTakeFirst();
  const pruned = Number(result.numDeletedRows);
  if (pruned > 0) ctx.smsLog.info({ pruned, olderThanMs }, "early status callbacks pruned");
  return pruned;
}
