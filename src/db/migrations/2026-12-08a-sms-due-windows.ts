import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Issue 23: a message can be due later and can stop being worth sending (a reminder before an
 * interview slot), and can be one that waits out the night (SMS_QUIET_HOURS).
 * - `due_at`: when the message was first due, where that is not its creation (due later, or held
 *   by quiet hours); `SMS_GIVE_UP_HOURS` counts from it. Null: from `created_at`.
 * - `not_after`: the moment after which it is never sent; a queued one is then skipped with the
 *   reason in words. The index serves that sweep: queued rows past their time, nothing else.
 * - `quiet`: 1 when quiet hours hold it (reminders, alerts), 0 for what goes at once.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  await db.schema.alterTable("sms_messages").addColumn("due_at", timestamp).execute();
  await db.schema.alterTable("sms_messages").addColumn("not_after", timestamp).execute();
  await db.schema
    .alterTable("sms_messages")
    .addColumn("quiet", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("sms_messages_not_after_idx")
    .on("sms_messages")
    .columns(["status", "not_after"])
    .where("not_after", "is not", null)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("sms_messages_not_after_idx").execute();
  await db.schema.alterTable("sms_messages").dropColumn("quiet").execute();
  await db.schema.alterTable("sms_messages").dropColumn("not_after").execute();
  await db.schema.alterTable("sms_messages").dropColumn("due_at").execute();
}
