import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB } from "../db/schema.ts";
import { eligibleStudentFilter, noRules } from "../placement/eligibility.ts";
import { type CancelOutcome, cancelQueuedSms, queueSmsForStudents } from "../sms/outbox-api.ts";
import { renderCurrent } from "../sms/template-store.ts";
import { defineTemplate, type RenderedSms } from "../sms/templates.ts";

/** An announcement's SMS, to its audience; deleting it cancels the ones not sent yet. */

/**
 * An announcement is cut to keep the SMS to two segments in the encoding it is sent in; when it
 * is, the text says the portal has the whole of it.
 */
export const announcementSms = defineTemplate({
  id: "announcement",
  title: "Announcement",
  variables: {
    title: { about: "the announcement's title", sample: "Pre-placement talk", cut: true },
    message: {
      about: "the announcement's message",
      sample: "Infosys PPT on Monday, 10 am, seminar hall.",
      cut: true,
    },
  },
  defaultText: "Placement Office: {title}. {message}",
  whenCut: " Read it all on the Placement Portal.",
  maxSegments: 2,
});

/** The SMS of an announcement, from the current version of the template, and that version. */
export function announcementBody(
  db: Kysely<DB>,
  announcement: { title: string; message: string },
): Promise<RenderedSms> {
  return renderCurrent(db, announcementSms, {
    title: announcement.title,
    message: announcement.message,
  });
}

export function announcementReference(id: number): string {
  return `announcement:${id}`;
}

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

/**
 * An announcement's SMS, to each student of its audience who has not opted out: with `aimed`, its
 * recorded recipients (announcement_recipients, written in the same transaction); else every
 * approved student. They keep quiet hours unless the office marked the announcement `urgent`.
 */
export async function queueAnnouncementSms(
  trx: Kysely<DB>,
  ctx: Ctx,
  announcement: { id: number; title: string; message: string },
  { aimed, urgent }: { aimed: boolean; urgent: boolean },
): Promise<number> {
  return queueSmsForStudents(trx, ctx, {
    kind: "custom",
    quiet: !urgent,
    reference: announcementReference(announcement.id),
    dedupePrefix: `announcement:${announcement.id}:student:`,
    ...(await announcementBody(trx, announcement)),
    students: aimed
      ? trx
          .selectFrom("announcement_recipients")
          .select("announcement_recipients.student_id as id")
          .where("announcement_recipients.announcement_id", "=", announcement.id)
      : // Every approved student: the rule that admits everyone.
        trx.selectFrom("students").select("students.id").where(eligibleStudentFilter(noRules)),
  });
}

export function cancelAnnouncementSms(
  trx: Kysely<DB>,
  ctx: Ctx,
  id: number,
): Promise<CancelOutcome> {
  return cancelQueuedSms(
    trx,
    ctx,
    announcementReference(id),
    "Cancelled: the announcement was deleted before this SMS was sent",
  );
}
