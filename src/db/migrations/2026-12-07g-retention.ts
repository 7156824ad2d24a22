import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * What is kept, how long (issue 22): the dispatchers' maintenance prunes old data in small
 * batches, and each batch must find its rows without reading the table.
 * - `sms_messages.redacted_at`: when the message's text and number were removed after
 *   SMS_RETENTION_DAYS. The partial index holds only messages not yet redacted, by creation: the
 *   sweep reads the oldest of them, and a redacted message leaves the index, so the sweep does not
 *   slow down as redacted rows pile up.
 * - `password_reset_codes` and `phone_changes` by `expires_at`: spent codes are deleted a day
 *   after they expired.
 * The audit log (`audit_log_at_idx`), rejected registrations (`rejected_registrations_rejected_at_idx`)
 * and attempts (`sms_attempts_message_idx`) have the indexes their pruning needs already.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema.alterTable("sms_messages").addColumn("redacted_at", timestamp).execute();
  await db.schema
    .createIndex("sms_messages_unredacted_idx")
    .on("sms_messages")
    .columns(["created_at", "id"])
    .where(sql.ref("redacted_at"), "is", null)
    .execute();
  await db.schema
    .createIndex("password_reset_codes_expires_idx")
    .on("password_reset_codes")
    .column("expires_at")
    .execute();
  await db.schema
    .createIndex("phone_changes_expires_idx")
    .on("phone_changes")
    .column("expires_at")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("phone_changes_expires_idx").execute();
  await db.schema.dropIndex("password_reset_codes_expires_idx").execute();
  await db.schema.dropIndex("sms_messages_unredacted_idx").execute();
  await db.schema.alterTable("sms_messages").dropColumn("redacted_at").execute();
}
