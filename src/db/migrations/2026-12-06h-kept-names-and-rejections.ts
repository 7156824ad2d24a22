import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Words that outlive the student they are about (issue 21):
 * - `sms_messages.student_name`, `sms_messages.student_roll_number`: the recipient's name and roll
 *   number as they were when the message was queued, so the console names the person after the
 *   student row is gone (a rejected registration is deleted). Filled here for the rows whose
 *   student still exists.
 * - `rejected_registrations`: one row per email whose registration was rejected: the SHA-256 of
 *   the normalised email (never the email itself), the account's argon2 password hash, the reason
 *   and when. Login tells the person, once the password matches, that the registration was not
 *   approved; rows older than the retention period (accounts/rejected-registrations.ts) are
 *   ignored and pruned.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema.alterTable("sms_messages").addColumn("student_name", "text").execute();
  await db.schema.alterTable("sms_messages").addColumn("student_roll_number", "text").execute();
  await sql`
    update sms_messages
    set student_name = (select s.full_name from students s where s.id = sms_messages.student_id),
        student_roll_number =
          (select s.roll_number from students s where s.id = sms_messages.student_id)
    where student_id is not null
  `.execute(db);

  await db.schema
    .createTable("rejected_registrations")
    .addColumn("email_sha256", "text", (c) => c.primaryKey())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("rejected_at", timestamp, (c) => c.notNull())
    .execute();
  // Pruning by age.
  await db.schema
    .createIndex("rejected_registrations_rejected_at_idx")
    .on("rejected_registrations")
    .column("rejected_at")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("rejected_registrations").execute();
  await db.schema.alterTable("sms_messages").dropColumn("student_roll_number").execute();
  await db.schema.alterTable("sms_messages").dropColumn("student_name").execute();
}
