import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, SmsKind } from "../db/schema.ts";
import {
  type CancelOutcome,
  cancelQueuedSms,
  PRIORITY_TRANSACTIONAL,
  queueSmsForStudents,
} from "../sms/outbox-api.ts";
import { renderCurrent } from "../sms/template-store.ts";
import { defineTemplate, type SmsTemplate } from "../sms/templates.ts";
import { type Reminder, remindersFor } from "./reminders.ts";

/**
 * The rounds' SMS. A student put in a slot is told what, when and where at once; reminders are
 * queued with it, due later (reminders.ts), held by quiet hours and never sent after the slot has
 * started. A change of time or place replaces the queued reminders and tells each student once;
 * a cancellation cancels them and tells each student once. Every text is the same for everyone
 * in a slot, so each is one INSERT ... SELECT over the slot's members, however many there are.
 *
 * References: `round-slot:<id>` for the messages that tell (scheduled, moved, cancelled), and
 * `round-slot:<id>:reminders` for the reminders, which a change cancels (and a removal, for one
 * student) without touching the others.
 */

const roundVariables = {
  round: { about: "the round's name", sample: "Technical interview", cut: true },
  company: { about: "the company", sample: "Tata Consultancy Services", cut: true },
  when: { about: "the slot's day and time, India time", sample: "Thu, 10 Dec, 10:00" },
  where: { about: "the venue, or 'online'", sample: "Seminar Hall 2, Main Block", cut: true },
} as const;

export const roundScheduledSms = defineTemplate({
  id: "round_scheduled",
  title: "Round scheduled",
  variables: roundVariables,
  defaultText:
    "You are in {round} for {company} on {when} IST at {where}. Details on the Placement Portal.",
  maxSegments: 2,
});

export const roundReminderSms = defineTemplate({
  id: "round_reminder",
  title: "Round reminder",
  variables: roundVariables,
  defaultText:
    "Reminder: {round} for {company} on {when} IST at {where}. Be there on time. Details on the Placement Portal.",
  maxSegments: 2,
});

export const roundMovedSms = defineTemplate({
  id: "round_moved",
  title: "Round moved",
  variables: roundVariables,
  defaultText:
    "Changed: {round} for {company} is now on {when} IST at {where}. Details on the Placement Portal.",
  maxSegments: 2,
});

export const roundCancelledSms = defineTemplate({
  id: "round_cancelled",
  title: "Round cancelled",
  variables: roundVariables,
  defaultText:
    "Cancelled: {round} for {company} on {when} IST will not take place. Details on the Placement Portal.",
  maxSegments: 2,
});

export const ROUND_TEMPLATES = [
  roundScheduledSms,
  roundReminderSms,
  roundMovedSms,
  roundCancelledSms,
] as const;

const smsWhen = new Intl.DateTimeFormat("en-IN", {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: "Asia/Kolkata",
});

/** What the SMS of a slot say about it. */
export interface SlotForSms {
  id: number;
  starts_at: string;
  round_name: string;
  company: string;
  venue: string;
  meeting_link: string | null;
}

export function slotVars(slot: SlotForSms) {
  return {
    round: slot.round_name,
    company: slot.company,
    when: smsWhen.format(new Date(slot.starts_at)),
    where: slot.venue !== "" ? slot.venue : "online (link on the portal)",
  };
}

export function slotReference(slotId: number): string {
  return `round-slot:${slotId}`;
}

export function remindersReference(slotId: number): string {
  return `round-slot:${slotId}:reminders`;
}

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

/** The students of `slotId` (all of them, or those of `only`), as the fan-out's audience. */
function slotMembers(trx: Kysely<DB>, slotId: number, only?: readonly number[]) {
  let query = trx
    .selectFrom("round_members")
    .select("round_members.student_id as id")
    .where("round_members.slot_id", "=", slotId);
  if (only) query = query.where("round_members.student_id", "in", [...only]);
  return query;
}

/** One message of `template` to the slot's students (or `only` those), once per `occasion`. */
async function tellSlot(
  trx: Kysely<DB>,
  ctx: Ctx,
  slot: SlotForSms,
  kind: SmsKind,
  template: SmsTemplate<keyof typeof roundVariables>,
  occasion: string,
  only?: readonly number[],
): Promise<number> {
  if (only && only.length === 0) return 0;
  const text = await renderCurrent(trx, template, slotVars(slot));
  return queueSmsForStudents(trx, ctx, {
    kind,
    priority: PRIORITY_TRANSACTIONAL,
    reference: slotReference(slot.id),
    dedupePrefix: `round-slot:${slot.id}:${occasion}:student:`,
    body: text.body,
    template: text.template,
    students: slotMembers(trx, slot.id, only),
  });
}

/**
 * Each reminder of the slot still ahead, for its students (or `only` those): due at its time,
 * held by quiet hours, never after the slot's start. `occasion` makes the keys of one scheduling
 * distinct from those of the next (a student removed and put back, a slot moved).
 */
export async function queueReminders(
  trx: Kysely<DB>,
  ctx: Ctx,
  slot: SlotForSms,
  occasion: string,
  only?: readonly number[],
): Promise<number> {
  if (only && only.length === 0) return 0;
  const startsAt = new Date(slot.starts_at);
  const reminders: Reminder[] = remindersFor(startsAt, ctx.config, ctx.clock.now());
  if (reminders.length === 0) return 0;
  const text = await renderCurrent(trx, roundReminderSms, slotVars(slot));
  let queued = 0;
  for (const reminder of reminders)
    queued += await queueSmsForStudents(trx, ctx, {
      kind: "round_reminder",
      priority: PRIORITY_TRANSACTIONAL,
      reference: remindersReference(slot.id),
      dedupePrefix: `round-slot:${slot.id}:${occasion}:${reminder.name}:student:`,
      body: text.body,
      template: text.template,
      students: slotMembers(trx, slot.id, only),
      dueAt: reminder.dueAt,
      notAfter: startsAt,
      quiet: true,
    });
  return queued;
}

/** Students just put in the slot: "you are in" now, and their reminders. */
export async function tellAdded(
  trx: Kysely<DB>,
  ctx: Ctx,
  slot: SlotForSms,
  occasion: string,
  studentIds: readonly number[],
) {
  const told = await tellSlot(
    trx,
    ctx,
    slot,
    "round_scheduled",
    roundScheduledSms,
    occasion,
    studentIds,
  );
  const reminders = await queueReminders(trx, ctx, slot, occasion, studentIds);
  return { told, reminders };
}

/** The queued reminders of the slot (or of `only` these students) will not go. */
export function cancelReminders(
  trx: Kysely<DB>,
  ctx: Ctx,
  slotId: number,
  reason: string,
  only?: readonly number[],
): Promise<CancelOutcome> {
  return cancelQueuedSms(trx, ctx, remindersReference(slotId), reason, only);
}

/**
 * The slot moved (or its place changed): its queued reminders are replaced by ones for the new
 * time, and every student gets one "changed" SMS. `slot` is as it is now.
 */
export async function tellMoved(trx: Kysely<DB>, ctx: Ctx, slot: SlotForSms, occasion: string) {
  const { when, where } = slotVars(slot);
  const replaced = await cancelReminders(
    trx,
    ctx,
    slot.id,
    `Replaced: the round changed to ${when} IST at ${where}`,
  );
  const told = await tellSlot(trx, ctx, slot, "round_changed", roundMovedSms, occasion);
  const reminders = await queueReminders(trx, ctx, slot, occasion);
  return { told, reminders, replaced };
}

/** The slot's round was cancelled: no reminder goes, and every student gets one SMS. */
export async function tellCancelled(trx: Kysely<DB>, ctx: Ctx, slot: SlotForSms, occasion: string) {
  const cancelled = await cancelReminders(trx, ctx, slot.id, "Cancelled: the round was cancelled");
  const told = await tellSlot(trx, ctx, slot, "round_changed", roundCancelledSms, occasion);
  return { told, cancelled };
}
