import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { countSegments } from "../sms/encoding.ts";
import { signalQueued, smsStatusByReference } from "../sms/outbox-api.ts";
import { multilineTextField, requiredSubmissionIdField, textField } from "../web/forms.ts";
import {
  announcementBody,
  announcementReference,
  cancelAnnouncementSms,
  queueAnnouncementSms,
} from "./notices.ts";

export const announcementSchema = z.object({
  title: textField({ label: "a title", max: 120 }),
  message: multilineTextField({ label: "the message", max: 2000 }),
  submission_id: requiredSubmissionIdField,
  send_sms: z
    .string()
    .optional()
    .transform((v) => v === "on" || v === "1" || v === "true"),
});

/** The posting form's values; the id is null when a caller other than the form posts (the seed). */
export type AnnouncementInput = Omit<z.output<typeof announcementSchema>, "submission_id"> & {
  submission_id: string | null;
};

/** Posts an announcement; with `send_sms`, one SMS per approved, not-opted-out student, same transaction. */
export async function postAnnouncement(ctx: AppContext, actor: Actor, input: AnnouncementInput) {
  const now = ctx.clock.now().toISOString();
  const result = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("announcements")
      .values({
        title: input.title,
        message: input.message,
        submission_id: input.submission_id,
        posted_by: actor.id,
        posted_at: now,
      })
      .onConflict((oc) => oc.column("submission_id").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!row) return { id: null, sms: 0, segmentsEach: 0, duplicate: true };
    const sms = input.send_sms ? await queueAnnouncementSms(trx, ctx, { id: row.id, ...input }) : 0;
    await trx
      .updateTable("announcements")
      .set({ sms_count: sms })
      .where("id", "=", row.id)
      .execute();
    await recordAudit(trx, ctx, actor, {
      action: "announcement.post",
      subject: input.title,
      details: { announcementId: row.id, sms },
    });
    return {
      id: row.id,
      sms,
      segmentsEach: countSegments((await announcementBody(trx, input)).body).segments,
      duplicate: false,
    };
  });
  if (result.sms > 0) signalQueued(ctx);
  return result;
}

/**
 * Deletes an announcement and cancels its SMS not sent yet (the ones sent or being sent stay on
 * record). Null when it was deleted already; else how many SMS were cancelled.
 */
export async function deleteAnnouncement(
  ctx: AppContext,
  actor: Actor,
  id: number,
): Promise<{ smsCancelled: number } | null> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .deleteFrom("announcements")
      .where("id", "=", id)
      .returning(["title"])
      .executeTakeFirst();
    if (!row) return null;
    const smsCancelled = await cancelAnnouncementSms(trx, ctx, id);
    await recordAudit(trx, ctx, actor, {
      action: "announcement.delete",
      subject: row.title,
      details: { announcementId: id, smsCancelled },
    });
    return { smsCancelled };
  });
}

/** What deleting an announcement would do, for its confirmation page; null when it is gone. */
export async function deleteAnnouncementPreview(ctx: AppContext, id: number) {
  const row = await ctx.db
    .selectFrom("announcements")
    .select(["id", "title", "posted_at"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) return null;
  const sms = await smsStatusByReference(ctx.db, announcementReference(id));
  const queued = sms.queued ?? 0;
  const total = Object.values(sms).reduce((a, b) => a + b, 0);
  return { ...row, smsQueued: queued, smsOther: total - queued };
}

export function listAnnouncements(ctx: AppContext, limit = 20) {
  return ctx.db
    .selectFrom("announcements")
    .selectAll()
    .orderBy("posted_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
}

export const ANNOUNCEMENTS_PAGE_SIZE = 20;

export async function pageOfAnnouncements(ctx: AppContext, page: number) {
  const [rows, total] = await Promise.all([
    ctx.db
      .selectFrom("announcements")
      .selectAll()
      .orderBy("posted_at", "desc")
      .orderBy("id", "desc")
      .limit(ANNOUNCEMENTS_PAGE_SIZE)
      .offset((page - 1) * ANNOUNCEMENTS_PAGE_SIZE)
      .execute(),
    ctx.db
      .selectFrom("announcements")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}
