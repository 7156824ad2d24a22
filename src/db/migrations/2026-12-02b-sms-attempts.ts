import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * One row per send attempt of an outbox message (`sms_attempts`), so the console can show each
 * try with its times, SID and error. The dispatcher's outcome write (guarded by its lease) sets
 * `attempt_started_at` and `attempt_outcome` on the message; the trigger below copies that write
 * into `sms_attempts` within the same statement: atomic with the outcome, and no extra round trip
 * at 1,000 messages a second (a second statement in a transaction halved the outcome writes a
 * second on SQLite). `old.attempts` is the claim's count (a retry that is not charged lowers it).
 *
 * A later migration that rebuilds `sms_messages` on SQLite (copy, drop, rename) must create the
 * trigger again: dropping the table drops it.
 *
 * And an index on `sms_messages (created_at, status)` for the console's date filters and charts.
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
  await db.schema.alterTable("sms_messages").addColumn("attempt_started_at", timestamp).execute();
  await db.schema.alterTable("sms_messages").addColumn("attempt_outcome", "text").execute();
  const copy = sql`insert into sms_attempts
      (message_id, attempt, started_at, finished_at, outcome, twilio_sid, error_code, error_message)
    values (new.id, old.attempts, coalesce(new.attempt_started_at, new.updated_at), new.updated_at,
      new.attempt_outcome, new.twilio_sid, new.error_code, new.error_message)`;
  if (pg) {
    await sql`create function sms_attempts_from_outcome() returns trigger language plpgsql as $$
      begin
        if new.attempt_outcome is not null then
          ${copy};
        end if;
        return null;
      end $$`.execute(db);
    await sql`create trigger sms_attempts_from_outcome
      after update of attempt_outcome on sms_messages
      for each row execute function sms_attempts_from_outcome()`.execute(db);
  } else {
    await sql`create trigger sms_attempts_from_outcome
      after update of attempt_outcome on sms_messages
      when new.attempt_outcome is not null
      begin
        ${copy};
      end`.execute(db);
  }
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
