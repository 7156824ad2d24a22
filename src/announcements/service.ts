import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { countSegments } from "../sms/encoding.ts";
import { announcementBody, queueAnnouncementSms, signalQueued } from "../sms/notify.ts";

export const announcementSchema = z.object({
  title: z
    .string()
    .trim()
    .min(1, { message: "Enter a title." })
    .max(120, { message: "At most 120 characters." }),
  message: z
    .string()
    .trim()
    .min(1, { message: "Enter the message." })
    .max(2000, { message: "At most 2,000 characters." }),
  send_sms: z
    .string()
    .optional()
    .transform((v) => v === "on" || v === "1" || v === "true"),
});

export type AnnouncementInput = z.output<typeof announcementSchema>;

/** Posts an announcement; with `send_sms`, one SMS per approved, not-opted-out student, same transaction. */
export async function postAnnouncement(ctx: AppContext, actor: Actor, input: AnnouncementInput) {
  const now = ctx.clock.now().toISOString();
  const result = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("announcements")
      .values({ title: input.title, message: input.message, posted_by: actor.id, posted_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
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
    return { id: row.id, sms, segmentsEach: countSegments(announcementBody(input)).segments };
  });
  if (result.sms > 0) signalQueued(ctx);
  return result;
}

export async function deleteAnnouncement(
  ctx: AppContext,
  actor: Actor,
  id: number,
): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .deleteFrom("announcements")
      .where("id", "=", id)
      .returning(["title"])
      .executeTakeFirst();
    if (!row) return false;
    await recordAudit(trx, ctx, actor, {
      action: "announcement.delete",
      subject: row.title,
      details: { announcementId: id },
    });
    return true;
  });
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
