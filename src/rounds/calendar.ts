import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { getVtimezoneComponent } from "@touch4it/ical-timezones";
import ical, { ICalEventStatus } from "ical-generator";
import type { Kysely } from "kysely";
import { DateTime } from "luxon";
import type { DB } from "../db/schema.ts";
import {
  ROUND_KIND_LABELS,
  type StudentSlot,
  slotEnd,
  studentSlots,
} from "../placement/rounds.tsx";
import { jobName } from "../web/format.ts";
import { LOCAL_TIME_ZONE } from "../web/time.ts";

/**
 * The student's rounds as iCalendar (RFC 5545), written by ical-generator: one event per slot,
 * its UID fixed for the slot's life and its SEQUENCE the slot's (raised by every change), in
 * Asia/Kolkata with the zone's VTIMEZONE, so a calendar that has the event updates it (or marks it
 * cancelled) instead of adding a second one.
 *
 * The feed's address carries a secret: an HMAC of the student's id and feed version under a key
 * derived from the session secret. Nothing secret is stored; raising the version (the student's
 * "new address") ends the old address. Logs mask it (log.ts).
 */

/** The domain part of every event's UID. */
const UID_DOMAIN = "placement-portal";

export function slotUid(slotId: number): string {
  return `round-slot-${slotId}@${UID_DOMAIN}`;
}

export function calendarOf(name: string, slots: readonly StudentSlot[], now: Date): string {
  const calendar = ical({
    name,
    prodId: { company: "Placement Portal", product: "Rounds", language: "EN" },
  });
  // A zone with no name: the events carry Asia/Kolkata and its VTIMEZONE is written, while DTSTAMP
  // stays in UTC as RFC 5545 requires (ical-generator writes it in the calendar's zone when named).
  calendar.timezone({ name: "", generator: getVtimezoneComponent });
  const local = (d: Date) => DateTime.fromJSDate(d, { zone: LOCAL_TIME_ZONE });
  for (const slot of slots) {
    const where = [slot.venue, slot.meeting_link ?? ""].filter(Boolean).join(" · ");
    calendar.createEvent({
      id: slotUid(slot.slot_id),
      sequence: slot.sequence,
      stamp: now,
      start: local(new Date(slot.starts_at)),
      end: local(slotEnd(slot)),
      timezone: LOCAL_TIME_ZONE,
      summary: `${slot.round_name} · ${jobName(slot)}`,
      location: where || null,
      description:
        [`${ROUND_KIND_LABELS[slot.kind]} for ${jobName(slot)}.`, slot.instructions]
          .filter(Boolean)
          .join("\n\n") || null,
      url: slot.meeting_link,
      status: slot.cancelled_at ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    });
  }
  return calendar.toString();
}

/** The student's slots for the feed (all, up to 500) or one slot's file. */
export function calendarSlots(db: Kysely<DB>, studentId: number, slotId?: number) {
  return studentSlots(db, studentId, { limit: 500, ...(slotId !== undefined ? { slotId } : {}) });
}

/** The key the feed addresses are signed with, derived from the session secret. */
export function calendarFeedKey(sessionSecret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", sessionSecret, "placement-portal", "calendar-feed", 32));
}

export function feedToken(key: Buffer, studentId: number, version: number): string {
  return createHmac("sha256", key)
    .update(`calendar:${studentId}:${version}`)
    .digest("base64url")
    .slice(0, 32);
}

export function feedPath(key: Buffer, studentId: number, version: number): string {
  return `/calendar/${studentId}/${feedToken(key, studentId, version)}/rounds.ics`;
}

/** Whether `token` is the student's current one (compared in constant time). */
export function isFeedToken(key: Buffer, studentId: number, version: number, token: string) {
  const expected = Buffer.from(feedToken(key, studentId, version));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
