import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Steering the SMS outbox from the console (issue 9):
 * - `sms_messages.resend_of`: a resent message is a new row pointing at the one it repeats (whose
 *   history stays as it was);
 * - `sms_dispatch_state.admin_paused_*`: an admin stopped all sending, who, when and why; every
 *   dispatcher reads it before claiming, so it holds across processes and restarts;
 * - an index on (status, updated_at): the admin banner counts the failures of the last 24 hours on
 *   every admin page, which must stay one short index range however large the outbox grows.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema.alterTable("sms_messages").addColumn("resend_of", "integer").execute();
  await db.schema
    .createIndex("sms_messages_resend_of_idx")
    .on("sms_messages")
    .column("resend_of")
    .execute();
  await db.schema
    .createIndex("sms_messages_failures_idx")
    .on("sms_messages")
    .columns(["status", "updated_at"])
    // Partial: only failures are in it, so a send (queued -> sending -> sent) never touches it;
    // indexing every row cost about 10 % of the dispatch rate on SQLite (bench/README.md).
    .where(sql.ref("status"), "in", ["failed", "undelivered"])
    .execute();

  await db.schema
    .alterTable("sms_dispatch_state")
    .addColumn("admin_paused_at", timestamp)
    .execute();
  await db.schema
    .alterTable("sms_dispatch_state")
    .addColumn("admin_paused_by_email", "text")
    .execute();
  await db.schema
    .alterTable("sms_dispatch_state")
    .addColumn("admin_pause_reason", "text")
    .execute();
}
