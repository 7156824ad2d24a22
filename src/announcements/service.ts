import { sql } from "kysely";
import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import type { AnnouncementAudience } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { closedToApplications, openForApplications } from "../placement/open.ts";
import { estimatedCost } from "../sms/cost.ts";
import { countSegments } from "../sms/encoding.ts";
import { sentOrSending, signalQueued, smsStatusByReference } from "../sms/outbox-api.ts";
import {
  checkboxField,
  multilineTextField,
  requiredSubmissionIdField,
  textField,
} from "../web/forms.ts";
import {
  type AudienceChoice,
  type AudienceStage,
  audienceFields,
  audienceJobLabel,
  audienceStudents,
  describeAudience,
  describeChoice,
} from "./audience.ts";
import {
  announcementBody,
  announcementReference,
  cancelAnnouncementSms,
  queueAnnouncementSms,
} from "./notices.ts";

export function announcementSchema(now: Date) {
  return z.object({
    title: textField({ label: "a title", max: 120 }),
    message: multilineTextField({ label: "the message", max: 2000 }),
    submission_id: requiredSubmissionIdField,
    send_sms: checkboxField,
    sms_urgent: checkboxField,
    ...audienceFields(now),
  });
}

/**
 * What the posting form posts; the id is null when a caller other than the form posts (the seed).
 * No audience: every approved student.
 */
export interface AnnouncementInput {
  title: string;
  message: string;
  send_sms: boolean;
  /** The SMS go even in quiet hours (SMS_QUIET_HOURS); without, they wait for them to end. */
  sms_urgent?: boolean;
  submission_id: string | null;
  audience?: AudienceChoice;
}

/** An audience that cannot be posted to, with the form field it belongs to. */
export class AudienceError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const EMPTY_AUDIENCE =
  "Nobody is in this audience (no approved student matches it), so the announcement was not posted. Choose a wider audience.";

async function jobLabelOrError(
  ctx: Pick<AppContext, "db">,
  choice: AudienceChoice,
): Promise<string | null> {
  if (choice.audience !== "applicants") return null;
  const label = await audienceJobLabel(ctx.db, choice.jobId);
  if (label === null) throw new AudienceError("job_id", "That job does not exist any more.");
  return label;
}

/**
 * What posting would do, without posting: who is in the audience, how many can get the SMS, its
 * segments and encoding, and the cost when SMS_PRICE_PER_SEGMENT is set.
 */
export async function previewAnnouncement(
  ctx: AppContext,
  input: Pick<AnnouncementInput, "title" | "message"> & { audience: AudienceChoice },
) {
  const jobLabel = await jobLabelOrError(ctx, input.audience);
  const row = await ctx.db
    .selectFrom("students")
    .where("students.id", "in", audienceStudents(ctx.db, input.audience))
    .select((eb) => [
      eb.fn.countAll<number>().as("students"),
      eb.fn
        .count<number>("students.id")
        .filterWhere("students.sms_opted_out_at", "is", null)
        .as("reachable"),
    ])
    .executeTakeFirstOrThrow();
  const { body } = await announcementBody(ctx.db, input);
  const { segments, encoding } = countSegments(body);
  const reachable = Number(row.reachable);
  return {
    audience: describeChoice(input.audience, jobLabel),
    students: Number(row.students),
    reachable,
    segmentsEach: segments,
    encoding,
    totalSegments: reachable * segments,
    cost: estimatedCost(ctx.config, reachable * segments),
    body,
  };
}

/**
 * Posts an announcement for its audience; with `send_sms`, one SMS per student of it who has not
 * opted out, in the same transaction. An aimed audience is written down (announcement_recipients)
 * as it is now, in one INSERT ... SELECT, and the SMS go to exactly those rows. Throws
 * AudienceError (and posts nothing) when the job is gone or nobody is in an aimed audience.
 */
export async function postAnnouncement(ctx: AppContext, actor: Actor, input: AnnouncementInput) {
  const now = ctx.clock.now().toISOString();
  const choice: AudienceChoice = input.audience ?? { audience: "everyone" };
  const result = await inTransaction(ctx.db, async (trx) => {
    const jobLabel = await jobLabelOrError({ db: trx }, choice);
    const row = await trx
      .insertInto("announcements")
      .values({
        title: input.title,
        message: input.message,
        submission_id: input.submission_id,
        posted_by: actor.id,
        posted_at: now,
        audience: choice.audience,
        audience_job_id: choice.audience === "applicants" ? choice.jobId : null,
        audience_job_label: jobLabel,
        audience_stage: choice.audience === "applicants" ? choice.stage : null,
      })
      .onConflict((oc) => oc.column("submission_id").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!row) return { id: null, sms: 0, segmentsEach: 0, recipients: 0, duplicate: true };
    const id = row.id;
    if (choice.audience === "students") {
      const lists = [
        ["announcement_departments", "department", choice.departments],
        ["announcement_graduation_years", "graduation_year", choice.graduationYears],
        ["announcement_semesters", "semester", choice.semesters],
      ] as const;
      for (const [table, column, values] of lists) {
        if (values.length === 0) continue;
        await trx
          .insertInto(table)
          .values(values.map((v) => ({ announcement_id: id, [column]: v }) as never))
          .execute();
      }
    }
    let recipients: number;
    if (choice.audience === "everyone") {
      const count = await trx
        .selectFrom("students")
        .where("students.id", "in", audienceStudents(trx, choice))
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      recipients = Number(count.n);
    } else {
      const inserted = await trx
        .insertInto("announcement_recipients")
        .columns(["announcement_id", "student_id"])
        .expression(
          trx
            .selectFrom("students")
            .where("students.id", "in", audienceStudents(trx, choice))
            .select([sql.lit(id).as("announcement_id"), "students.id as student_id"]),
        )
        .onConflict((oc) => oc.columns(["student_id", "announcement_id"]).doNothing())
        .executeTakeFirst();
      recipients = Number(inserted.numInsertedOrUpdatedRows ?? 0);
    }
    // An aimed audience is fixed now: empty, nobody would ever read it, so nothing is posted (the
    // throw rolls back the announcement, its lists and recipients). An announcement to everyone
    // is also for the students approved later.
    if (recipients === 0 && choice.audience !== "everyone")
      throw new AudienceError("audience", EMPTY_AUDIENCE);
    const sms = input.send_sms
      ? await queueAnnouncementSms(
          trx,
          ctx,
          { id, ...input },
          {
            aimed: choice.audience !== "everyone",
            urgent: input.sms_urgent ?? false,
          },
        )
      : 0;
    await trx.updateTable("announcements").set({ sms_count: sms }).where("id", "=", id).execute();
    await recordAudit(trx, ctx, actor, {
      action: "announcement.post",
      subject: input.title,
      details: {
        announcementId: id,
        sms,
        audience: describeChoice(choice, jobLabel),
        recipients,
      },
    });
    return {
      id,
      sms,
      segmentsEach: countSegments((await announcementBody(trx, input)).body).segments,
      recipients,
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
): Promise<{ smsCancelled: number; smsBeingChecked: number } | null> {
  return inTransaction(ctx.db, async (trx) => {
    const row = await trx
      .deleteFrom("announcements")
      .where("id", "=", id)
      .returning(["title"])
      .executeTakeFirst();
    if (!row) return null;
    const { cancelled: smsCancelled, beingChecked: smsBeingChecked } = await cancelAnnouncementSms(
      trx,
      ctx,
      id,
    );
    await recordAudit(trx, ctx, actor, {
      action: "announcement.delete",
      subject: row.title,
      details: { announcementId: id, smsCancelled, smsBeingChecked },
    });
    return { smsCancelled, smsBeingChecked };
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
  return { ...row, smsQueued: sms.queued ?? 0, smsOther: sentOrSending(sms) };
}

/** The dashboard's read (compiled once: see db/prepared.ts). */
const newestForStudent = preparedRead((db, param: ParamOf<{ studentId: number; limit: number }>) =>
  db
    .selectFrom("announcements")
    .select(["announcements.id", "title", "message", "posted_at"])
    .where((eb) =>
      eb.or([
        eb("announcements.audience", "=", "everyone"),
        eb.exists(
          eb
            .selectFrom("announcement_recipients")
            .select("announcement_recipients.student_id")
            .where("announcement_recipients.student_id", "=", param("studentId"))
            .whereRef("announcement_recipients.announcement_id", "=", "announcements.id"),
        ),
      ]),
    )
    .orderBy("posted_at", "desc")
    .orderBy("announcements.id", "desc")
    .limit(param("limit")),
);

/**
 * The newest announcements one student may read, in one query: those to everyone, and the aimed
 * ones that listed them among their recipients. No other page shows announcements to students.
 */
export function announcementsForStudent(ctx: AppContext, studentId: number, limit = 5) {
  return newestForStudent(ctx.db, { studentId, limit });
}

export const ANNOUNCEMENTS_PAGE_SIZE = 20;

/** A page of the admin's list, each announcement with its audience in words and its size. */
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
  const ids = rows.map((r) => r.id);
  const [departments, years, semesters, recipients] =
    ids.length === 0
      ? [[], [], [], []]
      : await Promise.all([
          ctx.db
            .selectFrom("announcement_departments")
            .selectAll()
            .where("announcement_id", "in", ids)
            .orderBy("department")
            .execute(),
          ctx.db
            .selectFrom("announcement_graduation_years")
            .selectAll()
            .where("announcement_id", "in", ids)
            .orderBy("graduation_year")
            .execute(),
          ctx.db
            .selectFrom("announcement_semesters")
            .selectAll()
            .where("announcement_id", "in", ids)
            .orderBy("semester")
            .execute(),
          ctx.db
            .selectFrom("announcement_recipients")
            .select((eb) => ["announcement_id", eb.fn.countAll<number>().as("n")])
            .where("announcement_id", "in", ids)
            .groupBy("announcement_id")
            .execute(),
        ]);
  return {
    rows: rows.map((r) => ({
      ...r,
      audienceWords: describeAudience({
        audience: r.audience as AnnouncementAudience,
        departments: departments.filter((d) => d.announcement_id === r.id).map((d) => d.department),
        graduationYears: years
          .filter((y) => y.announcement_id === r.id)
          .map((y) => y.graduation_year),
        semesters: semesters.filter((s) => s.announcement_id === r.id).map((s) => s.semester),
        jobLabel: r.audience_job_label,
        stage: r.audience_stage as AudienceStage | null,
      }),
      recipients:
        r.audience === "everyone"
          ? null
          : Number(recipients.find((c) => c.announcement_id === r.id)?.n ?? 0),
    })),
    total: Number(total.n),
  };
}

/** How many jobs of each kind the audience's job picker lists at most. */
export const AUDIENCE_JOBS_LIMIT = 300;

/**
 * The jobs an applicant audience can name: first those open to applications, the nearest
 * deadline first; then the closed ones (by an admin or past their deadline), the latest deadline
 * first. Each with its status, deadline and posting date, so that two alike can be told apart.
 */
export async function jobsForAudience(ctx: AppContext) {
  const now = ctx.clock.now();
  const columns = ["id", "company", "title", "status", "apply_by", "created_at"] as const;
  const [open, closed] = await Promise.all([
    ctx.db
      .selectFrom("jobs")
      .select(columns)
      .where(openForApplications(now))
      .orderBy("apply_by", "asc")
      .orderBy("id", "desc")
      .limit(AUDIENCE_JOBS_LIMIT)
      .execute(),
    ctx.db
      .selectFrom("jobs")
      .select(columns)
      .where(closedToApplications(now))
      .orderBy("apply_by", "desc")
      .orderBy("id", "desc")
      .limit(AUDIENCE_JOBS_LIMIT)
      .execute(),
  ]);
  return { open, closed };
}
