import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * One row per send attempt of an outbox message (`sms_attempts`), written by the dispatcher in
 * the same transaction as the outcome on the message, so the console can show each try with its
 * times, SID and error. And an index on `sms_messages (created_at, status)` for the console's date filters
 * and its charts.
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
    .createTable("sms_attempts")
    .addColumn("id", "integer", id)
    .addColumn("message_id", "integer", (c) =>
      c.notNull().references("sms_messages.id").onDelete("cascade"),
    )
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("started_at", timestamp, (c) => c.notNull())
    .addColumn("finished_at", timestamp, (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("twilio_sid", "text")
    .addColumn("error_code", "integer")
    .addColumn("error_message", "text")
    .execute();
  await db.schema
    .createIndex("sms_attempts_message_idx")
    .on("sms_attempts")
    .columns(["message_id", "id"])
    .execute();
  await db.schema
    .createIndex("sms_messages_created_idx")
    .on("sms_messages")
    // With the status, the console's charts count a time range from the index alone.
    .columns(["created_at", "status"])
    .execute();
}
