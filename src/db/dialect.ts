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
