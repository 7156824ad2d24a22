import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * A student's mobile number changes only once the new number is confirmed (issue 20):
 * - `phone_changes`: one change a student asked for from the profile: the new number and the
 *   salted hash of the 6-digit code sent to it, its tries, its life and when it was used; only
 *   the newest of a student works;
 * - `students.phone_changed_at`: when the number last changed (by the student or an admin); a
 *   password reset code is refused for a day after it.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  await db.schema
    .createTable("phone_changes")
    .addColumn("id", "integer", (c) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn("student_id", "integer", (c) =>
      c.notNull().references("students.id").onDelete("cascade"),
    )
    .addColumn("new_e164", "text", (c) => c.notNull())
    // sha256(salt + code), hex; the salt is random per code.
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("salt", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("expires_at", timestamp, (c) => c.notNull())
    .addColumn("used_at", timestamp)
    .execute();
  // The newest change of a student, and the pending ones a new request ends.
  await db.schema
    .createIndex("phone_changes_student_idx")
    .on("phone_changes")
    .columns(["student_id", "id"])
    .execute();
  await db.schema.alterTable("students").addColumn("phone_changed_at", timestamp).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("students").dropColumn("phone_changed_at").execute();
  await db.schema.dropTable("phone_changes").execute();
}
