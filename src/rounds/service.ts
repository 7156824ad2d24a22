import type { Kysely } from "kysely";
import { z } from "zod";
import { changeStatusIn } from "../applications/service.ts";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockForUpdate, lockNoKeyUpdate, lockRowsOf } from "../db/dialect.ts";
import { type ApplicationStatus, type DB, ROUND_KINDS } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { type BatchWithCount, batchesWithCounts } from "../placement/rounds.tsx";
import { STATUS_LABELS } from "../placement/stages.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { indiaMidnight, parseTimeOfDay } from "../sms/time-of-day.ts";
import { jobName, plural } from "../web/format.ts";
import {
  blankAsNull,
  checkedForm,
  dateTimeLocalField,
  multilineTextField,
  textField,
  wholeNumberField,
} from "../web/forms.ts";
import { formatDateTime } from "../web/time.ts";
import {
  cancelReminders,
  queueReminders,
  type SlotForSms,
  tellAdded,
  tellCancelled,
  tellMoved,
} from "./notices.ts";

/**
 * A job's rounds: scheduling them (slots, with capacities), putting applicants in them, telling
 * the students (notices.ts) and recording how each round went. Every change is one transaction
 * with its SMS and its audit entry; a slot's row is locked while students are put in it, so two
 * admins filling one slot together never pass its capacity.
 */

/** Applications that may be put in a round: not decided, not withdrawn. */
export const ACTIVE_STATUSES: readonly ApplicationStatus[] = [
  "applied",
  "shortlisted",
  "interview",
];

/** "11:00, 12:30" -> minutes after midnight each; null when a part is not a time. */
export function parseBatchTimes(text: string): number[] | null {
  const parts = text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const minutes = parts.map(parseTimeOfDay);
  return minutes.every((m) => m !== undefined) ? [...new Set(minutes as number[])] : null;
}

/**
 * The round form. `keeps`: the edited round's first batch as it is; a time left as it was may be
 * past (a venue corrected while the round is under way), a new time may not.
 */
export function roundSchema(now: Date, isNew: boolean, keeps?: string) {
  const unchanged = (iso: string) =>
    keeps !== undefined && Math.floor(Date.parse(keeps) / 60_000) === Date.parse(iso) / 60_000;
  return checkedForm(
    z.object({
      name: textField({ label: "the round's name", max: 80 }),
      kind: z.enum(ROUND_KINDS, { message: "Choose the kind of round." }),
      starts_at: dateTimeLocalField({ label: "the date and time" }).refine(
        (iso) => Date.parse(iso) > now.getTime() || (!isNew && unchanged(iso)),
        { message: "The round must start in the future." },
      ),
      duration_minutes: wholeNumberField({ label: "the duration in minutes", min: 5, max: 1440 }),
      venue: textField({ label: "the venue", max: 120, optional: true }),
      meeting_link: textField({ label: "the meeting link", max: 500, optional: true })
        .transform((v) => (v ? v : null))
        .refine((v) => v === null || (URL.canParse(v) && /^https?:\/\//.test(v)), {
          message: "Enter a full http(s):// link.",
        }),
      instructions: multilineTextField({ label: "the instructions", max: 1000, optional: true }),
      batches: isNew
        ? textField({ label: "the other batches", max: 200, optional: true }).transform(
            (v, zctx) => {
              const times = parseBatchTimes(v);
              if (times) return times;
              zctx.addIssue({
                code: "custom",
                message: "Write the other batches as times of the same day, such as 11:00, 12:00.",
              });
              return z.NEVER;
            },
          )
        : z
            .unknown()
            .optional()
            .transform(() => [] as number[]),
      capacity: isNew
        ? blankAsNull(wholeNumberField({ label: "the places in each batch", min: 1, max: 100_000 }))
        : z
            .unknown()
            .optional()
            .transform(() => null),
    }),
    {
      fields: ["venue", "meeting_link"],
      path: "venue",
      message: "Enter a venue, a meeting link, or both.",
      holds: (v) => (v.venue ?? "").trim() !== "" || (v.meeting_link ?? "").trim() !== "",
    },
  );
}

export type RoundInput = z.output<ReturnType<typeof roundSchema>>;

function roundColumns(input: RoundInput) {
  return {
    name: input.name,
    kind: input.kind,
    duration_minutes: input.duration_minutes,
    venue: input.venue,
    meeting_link: input.meeting_link,
    instructions: input.instructions,
  };
}

/** A new round, after the job's others, with its first batch and any other batches that day. */
export async function createRound(ctx: AppContext, actor: Actor, jobId: number, input: RoundInput) {
  const now = ctx.clock.now().toISOString();
  return inTransaction(ctx.db, async (trx) => {
    // Two rounds added at once take positions one after the other.
    const job = await lockNoKeyUpdate(
      trx.selectFrom("jobs").select(["id", "company", "title"]).where("id", "=", jobId),
      ctx.dialect,
    ).executeTakeFirst();
    if (!job) return null;
    const last = await trx
      .selectFrom("rounds")
      .select((eb) => eb.fn.max("position").as("position"))
      .where("job_id", "=", jobId)
      .executeTakeFirst();
    const round = await trx
      .insertInto("rounds")
      .values({
        job_id: jobId,
        position: Number(last?.position ?? 0) + 1,
        ...roundColumns(input),
        created_at: now,
        updated_at: now,
      })
      .returning(["id"])
      .executeTakeFirstOrThrow();
    const first = new Date(input.starts_at);
    const day = indiaMidnight(first).getTime();
    const starts = [
      first,
      ...input.batches.map((m) => new Date(day + m * 60_000)).filter((d) => d > first),
    ].sort((a, b) => a.getTime() - b.getTime());
    const unique = [...new Set(starts.map((d) => d.toISOString()))];
    await trx
      .insertInto("round_slots")
      .values(
        unique.map((startsAt) => ({
          round_id: round.id,
          starts_at: startsAt,
          capacity: input.capacity,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await recordAudit(trx, ctx, actor, {
      action: "round.add",
      subject: `${input.name} · ${jobName(job)}`,
      details: {
        roundId: round.id,
        jobId,
        startsAt: formatDateTime(input.starts_at),
        batches: unique.length,
      },
    });
    return { id: round.id };
  });
}

export async function findRound(db: Kysely<DB>, roundId: number) {
  return db
    .selectFrom("rounds")
    .innerJoin("jobs", "jobs.id", "rounds.job_id")
    .selectAll("rounds")
    .select(["jobs.company", "jobs.title", "jobs.status as job_status"])
    .where("rounds.id", "=", roundId)
    .executeTakeFirst();
}

export type RoundRow = NonNullable<Awaited<ReturnType<typeof findRound>>>;

/** Everyone in the round, by slot then name, with their application's status. */
export function roundMembers(db: Kysely<DB>, roundId: number) {
  return db
    .selectFrom("round_members")
    .innerJoin("students", "students.id", "round_members.student_id")
    .innerJoin("applications", "applications.id", "round_members.application_id")
    .innerJoin("round_slots", "round_slots.id", "round_members.slot_id")
    .select([
      "round_members.student_id",
      "round_members.slot_id",
      "round_members.application_id",
      "round_members.attendance",
      "round_members.result",
      "round_slots.starts_at",
      "students.full_name",
      "students.roll_number",
      "students.sms_opted_out_at",
      "applications.status",
    ])
    .where("round_members.round_id", "=", roundId)
    .orderBy("round_slots.starts_at")
    .orderBy("students.full_name")
    .orderBy("students.id")
    .execute();
}

/** The job's rounds in order, each with its batches (the job's rounds page). */
export async function roundsOfJob(db: Kysely<DB>, jobId: number) {
  const [rounds, batches] = await Promise.all([
    db.selectFrom("rounds").selectAll().where("job_id", "=", jobId).orderBy("position").execute(),
    batchesWithCounts(db, { jobId }),
  ]);
  return rounds.map((r) => ({ ...r, slots: batches.filter((b) => b.round_id === r.id) }));
}

/** The slot as its SMS describe it, read inside the transaction that changes it. */
async function slotsForSms(trx: Kysely<DB>, roundId: number): Promise<SlotForSms[]> {
  return trx
    .selectFrom("round_slots")
    .innerJoin("rounds", "rounds.id", "round_slots.round_id")
    .innerJoin("jobs", "jobs.id", "rounds.job_id")
    .select([
      "round_slots.id",
      "round_slots.starts_at",
      "rounds.name as round_name",
      "jobs.company",
      "rounds.venue",
      "rounds.meeting_link",
    ])
    .where("round_slots.round_id", "=", roundId)
    .orderBy("round_slots.starts_at")
    .execute();
}

/** The round with its job's names, its row locked for the change (the job's row only read). */
function lockedRound(trx: Kysely<DB>, ctx: AppContext, roundId: number) {
  return lockRowsOf(
    trx
      .selectFrom("rounds")
      .innerJoin("jobs", "jobs.id", "rounds.job_id")
      .selectAll("rounds")
      .select(["jobs.company", "jobs.title"])
      .where("rounds.id", "=", roundId),
    ctx.dialect,
    "rounds",
  ).executeTakeFirst();
}

export type EditResult =
  | { ok: true; told: number; reminders: number; moved: boolean }
  | { ok: false; problem: string };

/**
 * Edits the round. A new date and time moves every batch by the same amount; a new time or place
 * replaces the queued reminders and tells each student once ("changed"); any change raises each
 * slot's calendar SEQUENCE so a calendar updates its event.
 */
export async function updateRound(
  ctx: AppContext,
  actor: Actor,
  roundId: number,
  input: RoundInput,
): Promise<EditResult> {
  const now = ctx.clock.now().toISOString();
  const result = await inTransaction(ctx.db, async (trx): Promise<EditResult> => {
    const round = await lockedRound(trx, ctx, roundId);
    if (!round) return { ok: false, problem: "There is no such round." };
    if (round.cancelled_at) return { ok: false, problem: "This round was cancelled." };
    const slots = await trx
      .selectFrom("round_slots")
      .select(["id", "starts_at"])
      .where("round_id", "=", roundId)
      .orderBy("starts_at")
      .execute();
    const first = slots[0];
    const shift = first ? Date.parse(input.starts_at) - Date.parse(first.starts_at) : 0;
    const placeChanged = round.venue !== input.venue || round.meeting_link !== input.meeting_link;
    const textChanged = round.name !== input.name;
    await trx
      .updateTable("rounds")
      .set({ ...roundColumns(input), updated_at: now })
      .where("id", "=", roundId)
      .execute();
    for (const slot of slots)
      await trx
        .updateTable("round_slots")
        .set((eb) => ({
          starts_at: new Date(Date.parse(slot.starts_at) + shift).toISOString(),
          sequence: eb("sequence", "+", 1),
          updated_at: now,
        }))
        .where("id", "=", slot.id)
        .execute();
    let told = 0;
    let reminders = 0;
    const moved = shift !== 0 || placeChanged;
    if (moved || textChanged) {
      const occasion = `edit${Date.parse(now)}`;
      for (const slot of await slotsForSms(trx, roundId)) {
        if (moved) {
          const done = await tellMoved(trx, ctx, slot, occasion);
          told += done.told;
          reminders += done.reminders;
        } else {
          // Only the name changed: the reminders carry it, nobody needs an SMS about it.
          await cancelReminders(trx, ctx, slot.id, "Replaced: the round was renamed");
          reminders += await queueReminders(trx, ctx, slot, occasion);
        }
      }
    }
    await recordAudit(trx, ctx, actor, {
      action: "round.edit",
      subject: `${input.name} · ${jobName(round)}`,
      details: {
        roundId,
        ...(shift !== 0
          ? { from: formatDateTime(first?.starts_at ?? null), to: formatDateTime(input.starts_at) }
          : {}),
        ...(placeChanged ? { venue: input.venue, meetingLink: input.meeting_link } : {}),
        told,
      },
    });
    return { ok: true, told, reminders, moved };
  });
  if (result.ok && (result.told > 0 || result.reminders > 0)) signalQueued(ctx);
  return result;
}

/** Cancels the round: its reminders are cancelled and each student gets one SMS. */
export async function cancelRound(ctx: AppContext, actor: Actor, roundId: number) {
  const now = ctx.clock.now().toISOString();
  const result = await inTransaction(ctx.db, async (trx) => {
    const round = await lockedRound(trx, ctx, roundId);
    if (!round) return { ok: false as const, problem: "There is no such round." };
    if (round.cancelled_at)
      return { ok: false as const, problem: "This round was cancelled already." };
    await trx
      .updateTable("rounds")
      .set({ cancelled_at: now, updated_at: now })
      .where("id", "=", roundId)
      .execute();
    await trx
      .updateTable("round_slots")
      .set((eb) => ({ sequence: eb("sequence", "+", 1), updated_at: now }))
      .where("round_id", "=", roundId)
      .execute();
    let told = 0;
    for (const slot of await slotsForSms(trx, roundId))
      told += (await tellCancelled(trx, ctx, slot, `cancel${Date.parse(now)}`)).told;
    await recordAudit(trx, ctx, actor, {
      action: "round.cancel",
      subject: `${round.name} · ${jobName(round)}`,
      details: { roundId, told },
    });
    return { ok: true as const, told };
  });
  if (result.ok && result.told > 0) signalQueued(ctx);
  return result;
}

/** One more batch of the round, on its own time, with its own capacity. */
export async function addSlot(
  ctx: AppContext,
  actor: Actor,
  round: RoundRow,
  startsAt: string,
  capacity: number | null,
) {
  const now = ctx.clock.now().toISOString();
  return inTransaction(ctx.db, async (trx) => {
    const slot = await trx
      .insertInto("round_slots")
      .values({
        round_id: round.id,
        starts_at: startsAt,
        capacity,
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, actor, {
      action: "round.add_batch",
      subject: `${round.name} · ${jobName(round)}`,
      details: { roundId: round.id, slotId: slot.id, startsAt: formatDateTime(startsAt), capacity },
    });
    return slot;
  });
}

/** Who is being put in a round: chosen applications, or roll numbers pasted by the office. */
export type Selection = { applicationIds: number[] } | { rollNumbers: string[] };

/** "1XY22CS001, 1xy22cs002\n..." -> the roll numbers as registered (upper case, no spaces). */
export function parseRollNumbers(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((r) => r.trim().toUpperCase())
        .filter(Boolean),
    ),
  ];
}

export interface Joining {
  application_id: number;
  student_id: number;
  full_name: string;
  roll_number: string;
  sms_opted_out_at: string | null;
}

export interface AdditionPlan {
  joining: Joining[];
  /** Each one that cannot join, in words: "1XY22CS009: not registered". */
  refused: string[];
  /** Why the slot cannot take them all, if it cannot. */
  full: string | null;
}

/**
 * Who of `selection` would join `slotId`, and who cannot, with why: not registered, no application
 * to this job, an application already decided or withdrawn, already in this round. Read in `db`
 * (the transaction that adds them, after it locked the slot).
 */
export async function planAddition(
  db: Kysely<DB>,
  round: Pick<RoundRow, "id" | "job_id">,
  slot: { id: number; capacity: number | null },
  selection: Selection,
): Promise<AdditionPlan> {
  const base = db
    .selectFrom("applications")
    .innerJoin("students", "students.id", "applications.student_id")
    .leftJoin("round_members", (join) =>
      join
        .onRef("round_members.student_id", "=", "students.id")
        .on("round_members.round_id", "=", round.id),
    )
    .select([
      "applications.id as application_id",
      "applications.status",
      "students.id as student_id",
      "students.full_name",
      "students.roll_number",
      "students.sms_opted_out_at",
      "round_members.slot_id as in_slot",
    ])
    .where("applications.job_id", "=", round.job_id);
  const rows =
    "applicationIds" in selection
      ? selection.applicationIds.length === 0
        ? []
        : await base.where("applications.id", "in", selection.applicationIds).execute()
      : selection.rollNumbers.length === 0
        ? []
        : await base.where("students.roll_number", "in", selection.rollNumbers).execute();
  const refused: string[] = [];
  if ("rollNumbers" in selection) {
    const found = new Set(rows.map((r) => r.roll_number));
    const missing = selection.rollNumbers.filter((r) => !found.has(r));
    if (missing.length > 0) {
      const registered = new Set(
        (
          await db
            .selectFrom("students")
            .select("roll_number")
            .where("roll_number", "in", missing)
            .execute()
        ).map((s) => s.roll_number),
      );
      for (const roll of missing)
        refused.push(
          registered.has(roll)
            ? `${roll}: has not applied to this job`
            : `${roll}: no student has this roll number`,
        );
    }
  } else {
    const found = new Set(rows.map((r) => r.application_id));
    const gone = selection.applicationIds.filter((id) => !found.has(id)).length;
    if (gone > 0) refused.push(`${plural(gone, "application")} not of this job or no longer there`);
  }
  const joining: Joining[] = [];
  for (const r of rows) {
    const who = `${r.roll_number} ${r.full_name}`;
    if (r.in_slot !== null) refused.push(`${who}: already in this round`);
    else if (!ACTIVE_STATUSES.includes(r.status))
      refused.push(`${who}: the application is ${STATUS_LABELS[r.status]}`);
    else joining.push(r);
  }
  let full: string | null = null;
  if (slot.capacity !== null && joining.length > 0) {
    const taken = await db
      .selectFrom("round_members")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("slot_id", "=", slot.id)
      .executeTakeFirstOrThrow();
    const free = slot.capacity - Number(taken.n);
    if (joining.length > free)
      full = `This batch has ${plural(Math.max(free, 0), "free place")} of ${slot.capacity}; ${plural(joining.length, "student")} would join it. Choose fewer, or another batch.`;
  }
  return { joining, refused, full };
}

export type AddResult =
  | { ok: true; added: number; told: number; reminders: number; withoutSms: number }
  | { ok: false; problem: string; plan?: AdditionPlan };

/** The slot, if it is one of the round's and has not started. */
function openSlot(trx: Kysely<DB>, ctx: AppContext, roundId: number, slotId: number) {
  return lockForUpdate(
    trx
      .selectFrom("round_slots")
      .select(["id", "starts_at", "capacity"])
      .where("id", "=", slotId)
      .where("round_id", "=", roundId),
    ctx.dialect,
  ).executeTakeFirst();
}

/**
 * Puts the selection in the slot, all or nothing: one student not able to join (or a slot without
 * room for them all) adds nobody, and the plan comes back to be shown. Each student added gets
 * the "you are in" SMS and their reminders, queued in this transaction.
 */
export async function addMembers(
  ctx: AppContext,
  actor: Actor,
  roundId: number,
  slotId: number,
  selection: Selection,
): Promise<AddResult> {
  const result = await inTransaction(ctx.db, (trx) =>
    addMembersIn(trx, ctx, actor, roundId, slotId, selection),
  );
  if (result.ok && result.added > 0) signalQueued(ctx);
  return result;
}

async function addMembersIn(
  trx: Kysely<DB>,
  ctx: AppContext,
  actor: Actor,
  roundId: number,
  slotId: number,
  selection: Selection,
): Promise<AddResult> {
  const now = ctx.clock.now();
  const round = await lockedRound(trx, ctx, roundId);
  if (!round) return { ok: false, problem: "There is no such round." };
  if (round.cancelled_at) return { ok: false, problem: "This round was cancelled." };
  const slot = await openSlot(trx, ctx, roundId, slotId);
  if (!slot) return { ok: false, problem: "Choose one of this round's batches." };
  if (Date.parse(slot.starts_at) <= now.getTime())
    return { ok: false, problem: "This batch has started already: choose a later one." };
  const plan = await planAddition(trx, round, slot, selection);
  if (plan.joining.length === 0 && plan.refused.length === 0)
    return { ok: false, problem: "Choose at least one applicant, or paste roll numbers." };
  if (plan.refused.length > 0 || plan.full)
    return { ok: false, problem: "Nobody was added.", plan };
  const at = now.toISOString();
  await trx
    .insertInto("round_members")
    .values(
      plan.joining.map((j) => ({
        round_id: roundId,
        slot_id: slotId,
        student_id: j.student_id,
        application_id: j.application_id,
        added_at: at,
      })),
    )
    .execute();
  const ids = plan.joining.map((j) => j.student_id);
  const [forSms] = (await slotsForSms(trx, roundId)).filter((s) => s.id === slotId);
  const { told, reminders } = await tellAdded(
    trx,
    ctx,
    forSms as SlotForSms,
    `add${now.getTime()}`,
    ids,
  );
  await recordAudit(trx, ctx, actor, {
    action: "round.members_add",
    subject: `${round.name} · ${jobName(round)}`,
    details: {
      roundId,
      slotId,
      at: formatDateTime(slot.starts_at),
      added: plan.joining.length,
      students: plan.joining.slice(0, 20).map((j) => `${j.full_name} (${j.roll_number})`),
    },
  });
  return {
    ok: true,
    added: plan.joining.length,
    told,
    reminders,
    withoutSms: plan.joining.length - told,
  };
}

/** Takes students out of the round: their reminders not sent yet never will be. */
export async function removeMembers(
  ctx: AppContext,
  actor: Actor,
  round: RoundRow,
  studentIds: number[],
) {
  return inTransaction(ctx.db, async (trx) => {
    const removed = await trx
      .deleteFrom("round_members")
      .where("round_id", "=", round.id)
      .where("student_id", "in", studentIds.length > 0 ? studentIds : [-1])
      .returning(["student_id", "slot_id"])
      .execute();
    const bySlot = new Map<number, number[]>();
    for (const r of removed)
      bySlot.set(r.slot_id, [...(bySlot.get(r.slot_id) ?? []), r.student_id]);
    for (const [slotId, ids] of bySlot)
      await cancelReminders(
        trx,
        ctx,
        slotId,
        "Cancelled: the student was taken out of the round",
        ids,
      );
    if (removed.length > 0)
      await recordAudit(trx, ctx, actor, {
        action: "round.members_remove",
        subject: `${round.name} · ${jobName(round)}`,
        details: {
          roundId: round.id,
          removed: removed.length,
          studentIds: removed.map((r) => r.student_id),
        },
      });
    return removed.length;
  });
}

export const MARKS = {
  present: { attendance: "present" },
  absent: { attendance: "absent", result: "not_passed" },
  passed: { attendance: "present", result: "passed" },
  not_passed: { result: "not_passed" },
} as const;
export type Mark = keyof typeof MARKS;

export const MARK_LABELS: Record<Mark, string> = {
  present: "Present",
  absent: "Absent",
  passed: "Passed",
  not_passed: "Not passed",
};

/** Records attendance or a result for the chosen students of the round. */
export async function markMembers(
  ctx: AppContext,
  actor: Actor,
  round: RoundRow,
  studentIds: number[],
  mark: Mark,
) {
  if (studentIds.length === 0) return 0;
  return inTransaction(ctx.db, async (trx) => {
    const updated = await trx
      .updateTable("round_members")
      .set(MARKS[mark])
      .where("round_id", "=", round.id)
      .where("student_id", "in", studentIds)
      .executeTakeFirst();
    const n = Number(updated.numUpdatedRows);
    if (n > 0)
      await recordAudit(trx, ctx, actor, {
        action: "round.mark",
        subject: `${round.name} · ${jobName(round)}`,
        details: { roundId: round.id, mark: MARK_LABELS[mark], students: n },
      });
    return n;
  });
}

export interface ResultsPlan {
  passed: number;
  /** The applications of those who did not pass (or were absent) that are still open. */
  closing: { application_id: number; full_name: string; roll_number: string }[];
  undecided: number;
  nextRound: { id: number; name: string; slots: BatchWithCount[] } | null;
}

/** What applying the round's results would do. */
export async function planResults(db: Kysely<DB>, round: RoundRow): Promise<ResultsPlan> {
  const members = await roundMembers(db, round.id);
  const next = await db
    .selectFrom("rounds")
    .select(["id", "name"])
    .where("job_id", "=", round.job_id)
    .where("position", ">", round.position)
    .where("cancelled_at", "is", null)
    .orderBy("position")
    .limit(1)
    .executeTakeFirst();
  return {
    passed: members.filter((m) => m.result === "passed").length,
    closing: members
      .filter((m) => m.result === "not_passed" && ACTIVE_STATUSES.includes(m.status))
      .map((m) => ({
        application_id: m.application_id,
        full_name: m.full_name,
        roll_number: m.roll_number,
      })),
    undecided: members.filter((m) => m.result === null).length,
    nextRound: next ? { ...next, slots: await batchesWithCounts(db, { roundId: next.id }) } : null,
  };
}

export type ResultsOutcome =
  | { ok: true; movedOn: number; closed: number }
  | { ok: false; problem: string; plan?: AdditionPlan };

/**
 * Applies the round's results in one transaction: those who passed join the next round's chosen
 * batch (with its SMS), and, if asked, the applications of those who did not pass are rejected
 * (with the status SMS every rejection sends).
 */
export async function applyResults(
  ctx: AppContext,
  actor: Actor,
  round: RoundRow,
  options: { nextSlotId: number | null; closeOthers: boolean },
): Promise<ResultsOutcome> {
  const result = await inTransaction(ctx.db, async (trx): Promise<ResultsOutcome> => {
    const plan = await planResults(trx, round);
    let movedOn = 0;
    if (options.nextSlotId !== null && plan.nextRound) {
      const passed = (await roundMembers(trx, round.id))
        .filter((m) => m.result === "passed")
        .map((m) => m.application_id);
      if (passed.length > 0) {
        const added = await addMembersIn(trx, ctx, actor, plan.nextRound.id, options.nextSlotId, {
          applicationIds: passed,
        });
        if (!added.ok) return added;
        movedOn = added.added;
      }
    }
    let closed = 0;
    if (options.closeOthers && plan.closing.length > 0) {
      const changes = await changeStatusIn(
        trx,
        ctx,
        actor,
        plan.closing.map((c) => c.application_id),
        "rejected",
      );
      closed = changes.filter((c) => !c.problem).length;
    }
    await recordAudit(trx, ctx, actor, {
      action: "round.results",
      subject: `${round.name} · ${jobName(round)}`,
      details: { roundId: round.id, movedOn, closed },
    });
    return { ok: true, movedOn, closed };
  });
  if (result.ok && result.movedOn + result.closed > 0) signalQueued(ctx);
  return result;
}

/** Every slot of an India day, across jobs, with its counts: the office's plan of the day. */
export async function dayPlan(db: Kysely<DB>, day: Date) {
  const from = indiaMidnight(day);
  const to = indiaMidnight(day, 1);
  const rows = await db
    .selectFrom("round_slots")
    .innerJoin("rounds", "rounds.id", "round_slots.round_id")
    .innerJoin("jobs", "jobs.id", "rounds.job_id")
    .leftJoin("round_members", "round_members.slot_id", "round_slots.id")
    .select((eb) => [
      "round_slots.id as slot_id",
      "round_slots.starts_at",
      "round_slots.capacity",
      "rounds.id as round_id",
      "rounds.name",
      "rounds.kind",
      "rounds.duration_minutes",
      "rounds.venue",
      "rounds.meeting_link",
      "rounds.cancelled_at",
      "jobs.id as job_id",
      "jobs.company",
      "jobs.title",
      eb.fn.count<number>("round_members.student_id").as("members"),
      eb.fn
        .count<number>(eb.case().when("round_members.attendance", "=", "present").then(1).end())
        .as("present"),
      eb.fn
        .count<number>(eb.case().when("round_members.attendance", "=", "absent").then(1).end())
        .as("absent"),
    ])
    .where("round_slots.starts_at", ">=", from.toISOString())
    .where("round_slots.starts_at", "<", to.toISOString())
    .groupBy([
      "round_slots.id",
      "round_slots.starts_at",
      "round_slots.capacity",
      "rounds.id",
      "rounds.name",
      "rounds.kind",
      "rounds.duration_minutes",
      "rounds.venue",
      "rounds.meeting_link",
      "rounds.cancelled_at",
      "jobs.id",
      "jobs.company",
      "jobs.title",
    ])
    .orderBy("round_slots.starts_at")
    .orderBy("round_slots.id")
    .execute();
  return rows.map((r) => ({
    ...r,
    members: Number(r.members),
    present: Number(r.present),
    absent: Number(r.absent),
  }));
}
