import { type Kysely, type RawBuilder, sql } from "kysely";

/**
 * Every difference between SQLite and PostgreSQL in the app's queries, in one place; how each
 * database is opened (type parsers, BEGIN IMMEDIATE, the statement cache) is in database.ts.
 */

export type DialectName = "sqlite" | "postgres";

/** True for a unique-constraint violation on either database. */
export function isUniqueViolation(error: unknown, constraintHint?: string): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: string; message?: string; constraint?: string; detail?: string };
  const unique = e.code === "SQLITE_CONSTRAINT_UNIQUE" || e.code === "23505";
  if (!unique || constraintHint === undefined) return unique;
  const text = `${e.message ?? ""} ${e.constraint ?? ""} ${e.detail ?? ""}`;
  return text.includes(constraintHint);
}

/** Case-insensitive LIKE: PostgreSQL's `like` is case-sensitive, SQLite's is not (for ASCII). */
export function likeOperator(dialect: DialectName): "ilike" | "like" {
  return dialect === "postgres" ? "ilike" : "like";
}

/** `%` and `_` in user input match themselves, not everything. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * "Contains `text`" as a LIKE pattern with its ESCAPE clause: PostgreSQL escapes with a backslash
 * by default, SQLite only when told.
 */
export function containsPattern(text: string) {
  return sql<string>`${`%${escapeLike(text)}%`} escape '\\'`;
}

/**
 * How a case-insensitive "contains `text`" search can be answered from a trigram index instead of
 * reading every row (migration 2026-12-03f):
 * - "pg_trgm" on PostgreSQL: GIN trigram indexes answer `ilike` itself, rechecking each candidate,
 *   so the query is the plain ILIKE, written so each column's index can be used (no OR across a
 *   join). Patterns with fewer than 3 characters give the index no trigram; the planner then
 *   scans.
 * - "fts5" on SQLite, for 3 characters or more: an FTS5 trigram table matched with `ftsPhrase`.
 *   Its tokenizer folds case for all of Unicode and SQLite's LIKE for ASCII only ("É" is not
 *   "é" to LIKE), so it finds a superset: the caller rechecks the candidates with the LIKE.
 * - null: SQLite with 1 or 2 characters, for which a trigram table matches nothing: the plain
 *   LIKE over every row.
 */
export function trigramSearch(dialect: DialectName, text: string): "pg_trgm" | "fts5" | null {
  if (dialect === "postgres") return "pg_trgm";
  // Code points, as the tokenizer counts them, not UTF-16 units.
  return [...text].length >= 3 ? "fts5" : null;
}

/**
 * An FTS5 query matching rows that contain `text`, taken literally: one quoted phrase (a double
 * quote inside is doubled). With the trigram tokenizer a phrase matches as a substring.
 */
export function ftsPhrase(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/**
 * `FOR UPDATE` where the database has row locks (PostgreSQL): a read that decides a write holds
 * the row until commit, so a concurrent decision waits and then sees the result. SQLite runs one
 * write transaction at a time already.
 */
export function lockForUpdate<QB extends { forUpdate(): QB }>(query: QB, dialect: DialectName): QB {
  return dialect === "postgres" ? query.forUpdate() : query;
}

/**
 * `FOR NO KEY UPDATE` on PostgreSQL: serialises the writers that take it on a row without
 * blocking the foreign-key checks (`FOR KEY SHARE`) of rows that reference it, as `FOR UPDATE`
 * would (a job's row held while students apply to it; decision 023's second amendment).
 */
export function lockNoKeyUpdate<QB extends { forNoKeyUpdate(): QB }>(
  query: QB,
  dialect: DialectName,
): QB {
  return dialect === "postgres" ? query.forNoKeyUpdate() : query;
}

/**
 * `lockForUpdate` for a read that joins other tables: only `table`'s rows are locked (`FOR UPDATE
 * OF`), the joined rows are read, not held, so they can be taken later in their own order.
 */
export function lockRowsOf<QB extends { forUpdate(of?: never): QB }>(
  query: QB,
  dialect: DialectName,
  table: string,
): QB {
  return dialect === "postgres" ? query.forUpdate(table as never) : query;
}

/**
 * `FOR UPDATE SKIP LOCKED` where the database has it (PostgreSQL): concurrent claimers pass over
 * rows another has locked instead of waiting for them. SQLite has one writer at a time, so the
 * claiming UPDATE is atomic there without it.
 */
export function skipLocked<QB extends { forUpdate(): QB; skipLocked(): QB }>(
  query: QB,
  dialect: DialectName,
): QB {
  return dialect === "postgres" ? query.forUpdate().skipLocked() : query;
}

/**
 * A parameter as a typed SQL value for `INSERT ... SELECT`, where PostgreSQL cannot infer a
 * parameter's type from the target column and would read it as text.
 */
export function typedValue<V extends string | null>(
  dialect: DialectName,
  value: V,
  type: "timestamptz" | "text",
) {
  return dialect === "postgres" && type === "timestamptz"
    ? sql<V>`cast(${value} as timestamptz)`
    : sql<V>`${value}`;
}

/**
 * The database's clock, `offsetSeconds` from now, as a timestamp comparable with our stored ones:
 * an ISO-8601 string with milliseconds on SQLite (the format `toISOString` writes), a
 * timestamptz on PostgreSQL. Leases and due times use it, so dispatchers on machines whose clocks
 * disagree still agree on who holds what.
 */
export function dbNow(dialect: DialectName, offsetSeconds = 0) {
  if (dialect === "postgres")
    return offsetSeconds === 0
      ? sql<string>`now()`
      : sql<string>`(now() + make_interval(secs => ${offsetSeconds}::double precision))`;
  return offsetSeconds === 0
    ? sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
    : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${offsetSeconds >= 0 ? "+" : ""}${offsetSeconds} seconds`})`;
}

/**
 * Makes the transactions that name a common key run one after another until they commit:
 * PostgreSQL's transaction-scoped advisory locks, taken in one order so that two transactions
 * never wait on each other. SQLite's transactions (BEGIN IMMEDIATE) already run one at a time.
 * For a read-then-write that no single statement can settle, such as counting a limit's events
 * before adding one.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database's transaction
export async function lockKeys(trx: Kysely<any>, dialect: DialectName, keys: string[]) {
  if (dialect !== "postgres") return;
  for (const key of [...new Set(keys)].sort())
    await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}

/** An append-only table of signed changes to a summary table's rows, and the summary it amends. */
export interface DeltaFold {
  deltas: string;
  summary: string;
  /** The key columns both tables share; the summary's primary key. */
  key: string[];
  /** The summed column both tables share. */
  value: string;
}

/**
 * Folds the deltas committed so far into the summary, in the caller's transaction: each key's
 * sum added to its summary row, in key order (two writers of the summary take its rows in one
 * order, so they queue rather than deadlock), and exactly the deltas summed deleted. Returns how
 * many deltas it folded.
 * - PostgreSQL: one statement, `delete ... returning` feeding the upsert. In one snapshot, a delta
 *   committed meanwhile is neither summed without being deleted nor deleted without being summed
 *   (a max id read first would not do: identities are handed out at insert, not at commit). A
 *   second fold running at once waits for the rows the first is deleting, then passes over them,
 *   as they are gone: no delta is added twice.
 * - SQLite: one write transaction at a time, so the deltas up to the highest id are summed, then
 *   deleted (SQLite has no `delete ... returning` inside a WITH); at most `sqliteLimit` of them,
 *   the oldest, as every other writer waits while this transaction runs: a caller with a large
 *   backlog folds again in a new transaction while the count equals the limit. PostgreSQL's fold
 *   blocks no writer of the deltas, so it takes them all.
 */
export async function foldDeltas(
  // biome-ignore lint/suspicious/noExplicitAny: any database's transaction
  trx: Kysely<any>,
  dialect: DialectName,
  fold: DeltaFold,
  sqliteLimit = Number.MAX_SAFE_INTEGER,
) {
  const key = sql.join(fold.key.map((c) => sql.ref(c)));
  const value = sql.ref(fold.value);
  const deltas = sql.table(fold.deltas);
  const summary = sql.table(fold.summary);
  const upsert = (from: ReturnType<typeof sql>) => sql`insert into ${summary} (${key}, ${value})
    select ${key}, sum(${value}) from ${from} group by ${key} having sum(${value}) <> 0
    order by ${key}
    on conflict (${key}) do update set ${value} = ${sql.raw(fold.summary)}.${value} + excluded.${value}`;
  if (dialect === "postgres") {
    const { rows } = await sql<{ folded: number }>`with taken as (
        delete from ${deltas} returning ${key}, ${value}
      ), added as (${upsert(sql`taken`)})
      select count(*)::int as folded from taken`.execute(trx);
    return Number(rows[0]?.folded ?? 0);
  }
  const { rows } = await sql<{
    last: number | null;
  }>`select max(id) as last from (select id from ${deltas} order by id limit ${sqliteLimit})`.execute(
    trx,
  );
  const last = rows[0]?.last;
  if (last == null) return 0;
  await upsert(sql`(select * from ${deltas} where id <= ${last}) d`).execute(trx);
  const deleted = await sql`delete from ${deltas} where id <= ${last}`.execute(trx);
  return Number(deleted.numAffectedRows ?? 0);
}

/**
 * Whether one process can wake another through the database: PostgreSQL's LISTEN/NOTIFY
 * (`notify` below, `NotificationListener` in notification-listener.ts). SQLite has no such
 * channel; its processes share one machine's file and find new rows at their next poll.
 */
export function hasNotifications(dialect: DialectName): boolean {
  return dialect === "postgres";
}

/**
 * Tells every connection LISTENing on `channel` that something happened: `pg_notify` on
 * PostgreSQL, nothing on SQLite. Inside a transaction PostgreSQL holds the notification until
 * commit (a rollback drops it) and folds identical ones into one; outside, it goes at once.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database or transaction
export async function notify(db: Kysely<any>, dialect: DialectName, channel: string) {
  if (!hasNotifications(dialect)) return;
  await sql`select pg_notify(${channel}, '')`.execute(db);
}

const CONNECTION_ERROR_CODES = new Set([
  // PostgreSQL: the server is shutting down or restarting, or the connection broke.
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
  // Node: the socket could not be opened or was cut.
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  // SQLite: another connection held the write lock past busy_timeout.
  "SQLITE_BUSY",
]);

/**
 * True when a database error means "the database is unreachable right now" rather than "this
 * query is wrong": a restart, a cut connection, a pool that cannot connect. Such errors are
 * waited out (503 for a page, a pause for the dispatcher), never treated as a bug.
 */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e.code === "string" && CONNECTION_ERROR_CODES.has(e.code)) return true;
  const message = typeof e.message === "string" ? e.message : "";
  return /Connection terminated|connection error|terminating connection|timeout exceeded when trying to connect|Client was closed|database system is (starting up|shutting down)/i.test(
    message,
  );
}

/**
 * True when PostgreSQL aborted a statement to break a deadlock (40P01) or a serialization
 * conflict (40001): nothing was written, and the same statement run again goes through.
 */
export function isTransientConflict(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === "40P01" || code === "40001";
}

/**
 * The India-time hour ("2026-12-02T14") or day ("2026-12-02") a timestamp column falls in, as
 * text, in the form migration 2026-12-03h keys sms_hourly_counts by: the tests check the table
 * against it. India is UTC+05:30 all year. The format is a literal, not a parameter, so
 * PostgreSQL sees the same expression in SELECT and GROUP BY.
 */
export function indiaTimeBucket(dialect: DialectName, column: string, unit: "hour" | "day") {
  if (dialect === "postgres")
    return sql<string>`to_char(${sql.ref(column)} at time zone 'Asia/Kolkata', ${sql.lit(
      unit === "hour" ? 'YYYY-MM-DD"T"HH24' : "YYYY-MM-DD",
    )})`;
  return sql<string>`strftime(${sql.lit(unit === "hour" ? "%Y-%m-%dT%H" : "%Y-%m-%d")}, ${sql.ref(column)}, '+330 minutes')`;
}

/**
 * `column` written so that no index serves a condition on it: SQLite's unary `+`, for a query
 * that should walk another index in its order and test each row (the caller knows from counts
 * that matches are dense). PostgreSQL's planner weighs that from its own statistics.
 */
export function notByIndex(dialect: DialectName, column: string) {
  return dialect === "sqlite" ? sql`+${sql.ref(column)}` : sql.ref(column);
}

/**
 * The database's clock as epoch milliseconds (a number), the same everywhere in one statement:
 * for instants that several processes compare as numbers (the shared sending pace, sms_send_budget).
 */
export function dbEpochMs(dialect: DialectName) {
  return dialect === "postgres"
    ? sql<number>`(extract(epoch from statement_timestamp()) * 1000)::double precision`
    : sql<number>`((julianday('now') - 2440587.5) * 86400000.0)`;
}

/** The larger of two numbers: `greatest` on PostgreSQL, the two-argument `max` on SQLite. */
export function larger(dialect: DialectName, a: RawBuilder<number>, b: RawBuilder<number>) {
  return dialect === "postgres" ? sql<number>`greatest(${a}, ${b})` : sql<number>`max(${a}, ${b})`;
}
