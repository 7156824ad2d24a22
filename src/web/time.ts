/**
 * The portal's local time: India Standard Time, UTC+05:30 all year (no daylight saving). Forms
 * take local date-times (`<input type="datetime-local">`); the database keeps UTC.
 */
export const LOCAL_TIME_ZONE = "Asia/Kolkata";
const LOCAL_OFFSET = "+05:30";

/**
 * "2026-12-01T17:00" (local) -> Date, or null if it is not such a value or not a real moment:
 * JavaScript rolls "2027-02-30" over to 2 March and "24:00" to the next day, so the parts are
 * checked against the date they make.
 */
export function parseLocalDateTime(value: string): Date | null {
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!parts) return null;
  const [year, month, day, hour, minute, second = 0] = parts.slice(1).map((p) => Number(p ?? 0));
  const asUtc = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second));
  const exists =
    asUtc.getUTCFullYear() === year &&
    asUtc.getUTCMonth() === month! - 1 &&
    asUtc.getUTCDate() === day &&
    asUtc.getUTCHours() === hour &&
    asUtc.getUTCMinutes() === minute &&
    asUtc.getUTCSeconds() === second;
  if (!exists || year! < 1000) return null;
  return new Date(`${value}${value.length === 16 ? ":00" : ""}${LOCAL_OFFSET}`);
}

/** Date -> "2026-12-01T17:00" in local time, for a datetime-local input. */
export function toLocalInput(iso: string): string {
  const local = new Date(Date.parse(iso) + 330 * 60 * 1000);
  return local.toISOString().slice(0, 16);
}

// One formatter each, built once: `toLocaleString` with options builds a new Intl.DateTimeFormat
// on every call, and a page formats many dates.
const dateTimeFormat = new Intl.DateTimeFormat("en-IN", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: LOCAL_TIME_ZONE,
});
const dateFormat = new Intl.DateTimeFormat("en-IN", {
  dateStyle: "medium",
  timeZone: LOCAL_TIME_ZONE,
});

export function formatDateTime(iso: string | null): string {
  if (!iso) return "—";
  return dateTimeFormat.format(new Date(iso));
}

export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** For exports: "2026-12-02 14:05 IST", sortable and unambiguous in a spreadsheet. */
export function formatCsvDateTime(iso: string | null): string {
  if (!iso) return "";
  const local = new Date(Date.parse(iso) + 330 * 60 * 1000).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)} IST`;
}
