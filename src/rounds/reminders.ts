import type { Config } from "../config.ts";
import { indiaMidnight, indiaMinuteOfDay } from "../sms/time-of-day.ts";

/**
 * When a slot's reminders are due: the evening before (REMINDER_EVENING_AT, India time), and
 * REMINDER_EARLY_MINUTES before a slot that starts before REMINDER_EARLY_BEFORE (a morning slot:
 * the evening is long past by then). Each is due no later than the
 * slot's start and is never sent after it (the outbox's not-after); one whose time has passed when
 * the student is put in the slot is not written at all: the "you are in" SMS says it all.
 */

export type ReminderName = "evening" | "early";

export interface Reminder {
  name: ReminderName;
  dueAt: Date;
}

export type ReminderSettings = Pick<
  Config,
  "REMINDER_EVENING_AT" | "REMINDER_EARLY_MINUTES" | "REMINDER_EARLY_BEFORE"
>;

export function remindersFor(startsAt: Date, settings: ReminderSettings, now: Date): Reminder[] {
  const due: Reminder[] = [];
  if (settings.REMINDER_EVENING_AT !== null)
    due.push({
      name: "evening",
      dueAt: new Date(
        indiaMidnight(startsAt, -1).getTime() + settings.REMINDER_EVENING_AT * 60_000,
      ),
    });
  if (
    settings.REMINDER_EARLY_MINUTES > 0 &&
    indiaMinuteOfDay(startsAt) < settings.REMINDER_EARLY_BEFORE
  )
    due.push({
      name: "early",
      dueAt: new Date(startsAt.getTime() - settings.REMINDER_EARLY_MINUTES * 60_000),
    });
  return due.filter((r) => r.dueAt > now && r.dueAt < startsAt);
}
