import type { Kysely } from "kysely";
import type { DB, RoundKind } from "../db/schema.ts";
import { jobName } from "../web/format.ts";
import { formatDateTime } from "../web/time.ts";

/**
 * A job's selection rounds as the pages that are not the rounds' own show them: the student's
 * dashboard and applications, the applicants page's "add to a round". The rounds feature
 * (rounds/) schedules them; this is what the others read.
 */

export const ROUND_KIND_LABELS: Record<RoundKind, string> = {
  test: "Test",
  group_discussion: "Group discussion",
  interview: "Interview",
  hr: "HR interview",
  other: "Other",
};

/** One slot a student is in, with its round and job. */
export interface StudentSlot {
  slot_id: number;
  starts_at: string;
  /** The calendar event's SEQUENCE (rounds/calendar.ts). */
  sequence: number;
  round_id: number;
  round_name: string;
  kind: RoundKind;
  duration_minutes: number;
  venue: string;
  meeting_link: string | null;
  instructions: string;
  cancelled_at: string | null;
  application_id: number;
  job_id: number;
  company: string;
  title: string;
  attendance: "present" | "absent" | null;
  result: "passed" | "not_passed" | null;
}

/**
 * The student's slots, soonest first: those not over yet (`from`: ends after it), or all of them;
 * of one application, or of every one.
 */
export function studentSlots(
  db: Kysely<DB>,
  studentId: number,
  options: { from?: Date; applicationId?: number; slotId?: number; limit?: number } = {},
): Promise<StudentSlot[]> {
  let query = db
    .selectFrom("round_members")
    .innerJoin("round_slots", "round_slots.id", "round_members.slot_id")
    .innerJoin("rounds", "rounds.id", "round_members.round_id")
    .innerJoin("jobs", "jobs.id", "rounds.job_id")
    .select([
      "round_slots.id as slot_id",
      "round_slots.starts_at",
      "round_slots.sequence",
      "rounds.id as round_id",
      "rounds.name as round_name",
      "rounds.kind",
      "rounds.duration_minutes",
      "rounds.venue",
      "rounds.meeting_link",
      "rounds.instructions",
      "rounds.cancelled_at",
      "round_members.application_id",
      "jobs.id as job_id",
      "jobs.company",
      "jobs.title",
      "round_members.attendance",
      "round_members.result",
    ])
    .where("round_members.student_id", "=", studentId);
  if (options.applicationId !== undefined)
    query = query.where("round_members.application_id", "=", options.applicationId);
  if (options.slotId !== undefined) query = query.where("round_slots.id", "=", options.slotId);
  if (options.from) {
    // A slot lasts at most a day (duration_minutes <= 1440): read a day back, then keep the ones
    // that have not ended.
    const dayBefore = new Date(options.from.getTime() - 24 * 3_600_000).toISOString();
    query = query.where("round_slots.starts_at", ">", dayBefore);
  }
  return query
    .orderBy("round_slots.starts_at")
    .orderBy("round_slots.id")
    .limit(options.limit ?? 200)
    .execute()
    .then((rows) =>
      options.from
        ? rows.filter((r) => slotEnd(r).getTime() > (options.from as Date).getTime())
        : rows,
    );
}

export function slotEnd(slot: { starts_at: string; duration_minutes: number }): Date {
  return new Date(Date.parse(slot.starts_at) + slot.duration_minutes * 60_000);
}

/** Where the slot is: the venue, the meeting link, or both. */
export function SlotPlace({ slot }: { slot: Pick<StudentSlot, "venue" | "meeting_link"> }) {
  return (
    <>
      {slot.venue !== "" ? <span safe>{slot.venue}</span> : null}
      {slot.venue !== "" && slot.meeting_link ? " · " : null}
      {slot.meeting_link ? (
        <a href={slot.meeting_link} rel="noopener noreferrer" target="_blank">
          Meeting link
        </a>
      ) : null}
    </>
  );
}

/** The student's slots as a list: what, when, where, with the slot's .ics to download. */
export function StudentSlotList({ slots }: { slots: readonly StudentSlot[] }) {
  return (
    <ul class="rounds">
      {slots.map((s) => (
        <li>
          <strong safe>{`${s.round_name} · ${jobName(s)}`}</strong>
          {s.cancelled_at ? <span class="status status-closed">Cancelled</span> : null}
          {s.result ? (
            <span class={`status status-${s.result === "passed" ? "selected" : "rejected"}`}>
              {s.result === "passed" ? "Passed" : "Not passed"}
            </span>
          ) : s.attendance === "absent" ? (
            <span class="status status-rejected">Absent</span>
          ) : null}
          <br />
          <span safe>{`${formatDateTime(s.starts_at)} IST, ${s.duration_minutes} min`}</span>
          {" · "}
          <SlotPlace slot={s} />
          {s.instructions !== "" ? (
            <>
              <br />
              <span class="hint" safe>
                {s.instructions}
              </span>
            </>
          ) : null}
          <br />
          <a
            href={`/student/rounds/${s.slot_id}/slot.ics`}
            aria-label={`Add to calendar (.ics): ${s.round_name}, ${jobName(s)}`}
          >
            Add to calendar (.ics)
          </a>
        </li>
      ))}
    </ul>
  );
}

/**
 * Batches with how many students are in each, earliest first: one round's, every one of a job's,
 * or (`startingAfter`) a job's not started yet, of rounds not cancelled: where applicants can go.
 */
export async function batchesWithCounts(
  db: Kysely<DB>,
  which: { roundId: number } | { jobId: number; startingAfter?: Date },
) {
  let query = db
    .selectFrom("round_slots")
    .innerJoin("rounds", "rounds.id", "round_slots.round_id")
    .leftJoin("round_members", "round_members.slot_id", "round_slots.id")
    .select((eb) => [
      "round_slots.id",
      "round_slots.round_id",
      "round_slots.starts_at",
      "round_slots.capacity",
      "round_slots.sequence",
      "rounds.name",
      eb.fn.count<number>("round_members.student_id").as("members"),
    ]);
  if ("roundId" in which) query = query.where("round_slots.round_id", "=", which.roundId);
  else {
    query = query.where("rounds.job_id", "=", which.jobId);
    if (which.startingAfter)
      query = query
        .where("rounds.cancelled_at", "is", null)
        .where("round_slots.starts_at", ">", which.startingAfter.toISOString())
        .limit(100);
  }
  const rows = await query
    .groupBy([
      "round_slots.id",
      "round_slots.round_id",
      "round_slots.starts_at",
      "round_slots.capacity",
      "round_slots.sequence",
      "rounds.name",
    ])
    .orderBy("round_slots.starts_at")
    .orderBy("round_slots.id")
    .execute();
  return rows.map((r) => ({ ...r, members: Number(r.members) }));
}

export type BatchWithCount = Awaited<ReturnType<typeof batchesWithCounts>>[number];

/** "10 Dec 2026, 10:00 am IST". */
export function slotLabel(slot: { starts_at: string }): string {
  return `${formatDateTime(slot.starts_at)} IST`;
}

/** "10 Dec 2026, 10:00 am IST (12 of 30 in it)". */
export function batchLabel(slot: { starts_at: string; members: number; capacity: number | null }) {
  return `${slotLabel(slot)} (${slot.members}${slot.capacity !== null ? ` of ${slot.capacity}` : ""} in it)`;
}

/** "Aptitude test, 10 Dec 2026, 10:00 am IST (12 of 30 in it)". */
export function slotChoiceLabel(slot: BatchWithCount): string {
  return `${slot.name}, ${batchLabel(slot)}`;
}
