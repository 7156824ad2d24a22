/**
 * India time (UTC+05:30 all year, no daylight saving) as the portal's schedules read it: a time of
 * day ("18:00") and the local day a moment falls on.
 */

export const INDIA_OFFSET_MINUTES = 330;
const DAY_MS = 24 * 60 * 60_000;

/** "18:00" -> 1080 (minutes after midnight); anything else -> undefined. */
export function parseTimeOfDay(text: string): number | undefined {
  const parts = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return parts ? Number(parts[1]) * 60 + Number(parts[2]) : undefined;
}

/** 1080 -> "18:00". */
export function formatTimeOfDay(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** Minutes after India midnight at which `at` falls. */
export function indiaMinuteOfDay(at: Date): number {
  const localMs = at.getTime() + INDIA_OFFSET_MINUTES * 60_000;
  return Math.floor((localMs - Math.floor(localMs / DAY_MS) * DAY_MS) / 60_000);
}

/** The instant of India midnight starting the day `at` falls on, moved by `days` days. */
export function indiaMidnight(at: Date, days = 0): Date {
  const localMs = at.getTime() + INDIA_OFFSET_MINUTES * 60_000;
  return new Date(
    Math.floor(localMs / DAY_MS) * DAY_MS + days * DAY_MS - INDIA_OFFSET_MINUTES * 60_000,
  );
}
