import { type SelectQueryBuilder, sql } from "kysely";
import type { AppContext } from "../context.ts";
import { containsPattern, likeOperator, notByIndex } from "../db/dialect.ts";
import type { DB, SmsKind, SmsStatus } from "../db/schema.ts";
import { failedOrUndelivered } from "../sms/outbox.ts";

/** The SMS console's filters (the contract of `GET /admin/sms`), checked and parsed. */
export interface SmsFilters {
  status?: SmsStatus | typeof FAILED_OR_UNDELIVERED | undefined;
  kind?: SmsKind | undefined;
  /** India days, YYYY-MM-DD, inclusive. */
  from?: string | undefined;
  until?: string | undefined;
  /** An instant, as given (ISO-8601). */
  since?: string | undefined;
  job?: number | undefined;
  announcement?: number | undefined;
  /** Free text: a name, a roll number or a phone number. */
  student?: string | undefined;
  studentId?: number | undefined;
  /**
   * `?to=`: part of the number the message went to (kept so saved links still work; the form
   * uses `student`).
   */
  to?: string | undefined;
  page: number;
}

export const FAILED_OR_UNDELIVERED = "failed_or_undelivered";

const INDIA_OFFSET_MS = 330 * 60_000;

/** "2026-12-02" as an India day -> the instant it starts, or null if there is no such day. */
export function indiaDayStart(day: string): Date | null {
  const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!parts) return null;
  const [year, month, date] = parts.slice(1).map(Number) as [number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, date));
  if (utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== date)
    return null;
  if (year < 2000 || year > 2999) return null;
  return new Date(utc.getTime() - INDIA_OFFSET_MS);
}

/** An ISO-8601 instant with its zone ("2026-12-02T05:00:00Z", "...+05:30"), or null. */
export function parseInstant(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(text))
    return null;
  const day = indiaDayStart(text.slice(0, 10));
  const at = new Date(text);
  if (!day || Number.isNaN(at.getTime())) return null;
  return at;
}

/** The instants a filter's date range covers: [start, end). */
export function filterRange(filters: SmsFilters): { start: Date | null; end: Date | null } {
  const from = filters.from ? indiaDayStart(filters.from) : null;
  const until = filters.until ? indiaDayStart(filters.until) : null;
  const start = from;
  const end = until ? new Date(until.getTime() + 24 * 3_600_000) : null;
  return { start, end };
}

type SmsQuery = SelectQueryBuilder<DB, "sms_messages", object>;

/**
 * Every filter but `status` narrows `query` (counts per status read it so); `withStatus` adds
 * that one too. Each condition is on an indexed column where a filter can be selective: the
 * reference (job, announcement), the student, the creation time.
 */
export function applyFilters(
  ctx: Pick<AppContext, "dialect">,
  query: SmsQuery,
  filters: SmsFilters,
  withStatus = true,
  /** The status is common (counted): test each row for it rather than read its index. */
  statusByIndex = true,
): SmsQuery {
  let q = query;
  const status = withStatus ? filters.status : undefined;
  const statusColumn = statusByIndex
    ? sql.ref("sms_messages.status")
    : notByIndex(ctx.dialect, "sms_messages.status");
  if (status === FAILED_OR_UNDELIVERED)
    q = q.where(
      statusByIndex
        ? failedOrUndelivered
        : sql<boolean>`${statusColumn} in ('failed', 'undelivered')`,
    );
  else if (status) q = q.where(statusColumn, "=", status);
  if (filters.kind) q = q.where("sms_messages.kind", "=", filters.kind);
  const { start, end } = filterRange(filters);
  if (start) q = q.where("sms_messages.created_at", ">=", start.toISOString());
  if (end) q = q.where("sms_messages.created_at", "<", end.toISOString());
  // `since` is about the last change (a failure, a delivery), not the creation: the banner's
  // "failed in the last 24 hours" counts by it too, on the partial failures index.
  const since = filters.since ? parseInstant(filters.since) : null;
  if (since) q = q.where("sms_messages.updated_at", ">=", since.toISOString());
  if (filters.job) q = q.where("sms_messages.reference", "=", `job:${filters.job}`);
  if (filters.announcement)
    q = q.where("sms_messages.reference", "=", `announcement:${filters.announcement}`);
  if (filters.studentId) q = q.where("sms_messages.student_id", "=", filters.studentId);
  const like = likeOperator(ctx.dialect);
  if (filters.to)
    q = q.where("sms_messages.to_e164", like, containsPattern(filters.to.replace(/[\s-]/g, "")));
  if (filters.student) {
    const text = filters.student.trim();
    const digits = text.replace(/[\s()-]/g, "");
    q = q.where((eb) =>
      eb.or([
        eb(
          "sms_messages.student_id",
          "in",
          eb
            .selectFrom("students")
            .select("students.id")
            .where((s) =>
              s.or([
                s("students.full_name", like, containsPattern(text)),
                s("students.roll_number", like, containsPattern(text)),
              ]),
            ),
        ),
        ...(/^\+?\d{3,}$/.test(digits)
          ? [eb("sms_messages.to_e164", like, containsPattern(digits))]
          : []),
      ]),
    );
  }
  return q;
}

/** The filters as query parameters (for links that keep them), `changes` applied. */
export function filterParams(
  filters: SmsFilters,
  changes: Partial<Record<keyof SmsFilters, string | number | undefined>> = {},
): Record<string, string | undefined> {
  const merged = { ...filters, page: undefined, ...changes };
  const text = (v: unknown) => (v === undefined || v === "" ? undefined : String(v));
  return {
    status: text(merged.status),
    kind: text(merged.kind),
    from: text(merged.from),
    until: text(merged.until),
    since: text(merged.since),
    job: text(merged.job),
    announcement: text(merged.announcement),
    student: text(merged.student),
    student_id: text(merged.studentId),
    to: text(merged.to),
    page: text(merged.page),
  };
}

export function consoleUrl(
  filters: SmsFilters,
  changes: Partial<Record<keyof SmsFilters, string | number | undefined>> = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filterParams(filters, changes)))
    if (v !== undefined) params.set(k, v);
  const query = params.toString();
  return query ? `/admin/sms?${query}` : "/admin/sms";
}

/**
 * Whether the hourly counts (migrations 2026-12-03h and 2026-12-07b) can answer the filters' counts: a status, a
 * kind and India days are in its key; the others (a job, a student, a number, `since`) narrow by
 * what only the messages hold, and each has its own index on them.
 */
export function countsFromHours(filters: SmsFilters): boolean {
  return (
    !filters.since &&
    !filters.job &&
    !filters.announcement &&
    !filters.student &&
    !filters.studentId &&
    !filters.to
  );
}

/** The India-hour key ("2026-12-02T14") an instant falls in, as sms_hourly_counts keys it. */
export function indiaHourKey(at: Date): string {
  return new Date(at.getTime() + INDIA_OFFSET_MS).toISOString().slice(0, 13);
}

/** India-hour keys, `from` inclusive and `to` exclusive ("2026-12-02T14"). */
export interface HourRange {
  from: string;
  to: string;
}

/**
 * The live hourly counts narrowed by the filters `countsFromHours` accepts, as `applyFilters`
 * narrows the messages (`withStatus` likewise), and to `hours` if given: `sms_hourly_counts` and
 * the `sms_count_deltas` not folded into it yet (decision 024), as rows (hour, kind, status, n) to
 * be summed. Both arms are narrowed, each by its own key, not the union as a whole.
 */
export function applyHourlyFilters(
  ctx: Pick<AppContext, "db">,
  filters: SmsFilters,
  withStatus = true,
  hours?: HourRange,
) {
  const status = withStatus ? filters.status : undefined;
  const { start, end } = filterRange(filters);
  const narrowed = (table: "sms_hourly_counts" | "sms_count_deltas") => {
    // Both tables have the same (hour, kind, status, n) columns; the cast only names one of them
    // so that one query type serves both arms.
    let q = ctx.db.selectFrom(table as "sms_hourly_counts");
    if (status === FAILED_OR_UNDELIVERED) q = q.where("status", "in", ["failed", "undelivered"]);
    else if (status) q = q.where("status", "=", status);
    if (filters.kind) q = q.where("kind", "=", filters.kind);
    if (start) q = q.where("hour", ">=", indiaHourKey(start));
    if (end) q = q.where("hour", "<", indiaHourKey(end));
    if (hours) q = q.where("hour", ">=", hours.from).where("hour", "<", hours.to);
    return q.select(["hour", "kind", "status", "n"]);
  };
  return ctx.db.selectFrom(
    narrowed("sms_hourly_counts").unionAll(narrowed("sms_count_deltas")).as("live_counts"),
  );
}
