import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Accounts and abuse limits (issue 8):
 * - `limit_events`: failed logins, registrations, reset-code requests and wrong codes, by account
 *   and by client address, counted over a sliding window by every web process alike;
 * - `password_reset_codes`: one-time SMS codes, stored as hashes;
 * - `users.session_version`: raised when a password changes, which ends the user's other sessions;
 * - `students.resume_bytes`: a resume's size, so the pending queue's disk use is one indexed sum.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  const id = pg
    ? // biome-ignore lint/suspicious/noExplicitAny: column builder callback
      (c: any) => c.primaryKey().generatedByDefaultAsIdentity()
    : // biome-ignore lint/suspicious/noExplicitAny: column builder callback
      (c: any) => c.primaryKey().autoIncrement();

  await db.schema
    .createTable("limit_events")
    .addColumn("id", "integer", id)
    .addColumn("kind", "text", (c) => c.notNull())
    // The normalised email the event was about, if any.
    .addColumn("account", "text")
    // The client's address as the portal sees it (request.ip, which honours TRUST_PROXY).
    .addColumn("address", "text")
    .addColumn("at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("limit_events_account_idx")
    .on("limit_events")
    .columns(["kind", "account", "at"])
    .execute();
  await db.schema
    .createIndex("limit_events_address_idx")
    .on("limit_events")
    .columns(["kind", "address", "at"])
    .execute();
  // Pruning by age.
  await db.schema.createIndex("limit_events_at_idx").on("limit_events").column("at").execute();

  await db.schema
    .createTable("password_reset_codes")
    .addColumn("id", "integer", id)
    .addColumn("user_id", "integer", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // sha256(salt + code), hex; the salt is random per code.
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("salt", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("expires_at", timestamp, (c) => c.notNull())
    .addColumn("used_at", timestamp)
    .execute();
  await db.schema
    .createIndex("password_reset_codes_user_idx")
    .on("password_reset_codes")
    .columns(["user_id", "created_at"])
    .execute();

  await db.schema
    .alterTable("users")
    .addColumn("session_version", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  // Null for resumes stored before this migration: they count as 0 bytes in the pending sum.
  await db.schema.alterTable("students").addColumn("resume_bytes", "integer").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("students").dropColumn("resume_bytes").execute();
  await db.schema.alterTable("users").dropColumn("session_version").execute();
  await db.schema.dropTable("password_reset_codes").execute();
  await db.schema.dropTable("limit_events").execute();
}
