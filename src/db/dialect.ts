import { sql } from "kysely";

/** Every difference between SQLite and PostgreSQL that the app cares about, in one place. */

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
 * `FOR UPDATE SKIP LOCKED` where the database has it (PostgreSQL): concurrent claimers pass over
 * rows another has locked instead of waiting for them. SQLite has one writer at a time, so the
 * claiming UPDATE is atomic there without it.
 */
/**
 * `FOR UPDATE` where the database has row locks (PostgreSQL): a read that decides a write holds
 * the row until commit, so a concurrent decision waits and then sees the result. SQLite runs one
 * write transaction at a time already.
 */
export function lockForUpdate<QB extends { forUpdate(): QB }>(query: QB, dialect: DialectName): QB {
  return dialect === "postgres" ? query.forUpdate() : query;
}

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
export function typedValue(dialect: DialectName, value: string, type: "timestamptz" | "text") {
  return dialect === "postgres" && type === "timestamptz"
    ? sql<string>`cast(${value} as timestamptz)`
    : sql<string>`${value}`;
}
