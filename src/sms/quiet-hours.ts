/**
 * Quiet hours: a daily window of India time (UTC+05:30 all year, no daylight saving) in which
 * messages queued as `quiet` wait (reminders, alerts, announcements), while the urgent ones
 * (codes, decisions) go at once. One setting, `SMS_QUIET_HOURS`: "21:00-09:00" (the default, a
 * window across midnight), "" for none.
 */

const INDIA_OFFSET_MINUTES = 330;
const DAY_MINUTES = 24 * 60;

export interface QuietHours {
  /** Minutes after local midnight at which the window opens, and at which it closes. */
  start: number;
  end: number;
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * "21:00-09:00" -> the window; "" -> null (no quiet hours); anything else -> undefined, which the
 * configuration refuses. A window that opens and closes at the same minute is refused too: it
 * would mean "never" or "always", and neither is worth a setting.
 */
export function parseQuietHours(text: string): QuietHours | null | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const parts = WINDOW.exec(trimmed);
  if (!parts) return undefined;
  const [h1, m1, h2, m2] = parts.slice(1).map(Number) as [number, number, number, number];
  const start = h1 * 60 + m1;
  const end = h2 * 60 + m2;
  return start === end ? undefined : { start, end };
}

/** "21:00-09:00 India time", or "off", for the console. */
export function describeQuietHours(window: QuietHours | null): string {
  if (!window) return "off";
  const hhmm = (m: number) =>
    `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  return `${hhmm(window.start)}-${hhmm(window.end)} India time`;
}

/**
 * When the quiet hours around `at` end, or null if `at` is outside them: a quiet message due at
 * `at` waits until then.
 */
export function quietUntil(at: Date, window: QuietHours | null): Date | null {
  if (!window) return null;
  const localMs = at.getTime() + INDIA_OFFSET_MINUTES * 60_000;
  const localMidnight = Math.floor(localMs / (DAY_MINUTES * 60_000)) * DAY_MINUTES * 60_000;
  const minute = (localMs - localMidnight) / 60_000;
  const { start, end } = window;
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return null;
  // The close is today's `end`, or tomorrow's when the window crosses midnight and `at` is
  // before it.
  const closeDay =
    start > end && minute >= start ? localMidnight + DAY_MINUTES * 60_000 : localMidnight;
  return new Date(closeDay + end * 60_000 - INDIA_OFFSET_MINUTES * 60_000);
}
