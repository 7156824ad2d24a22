import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Decision 027:
 * - `unknown` joins the outbox's statuses: a message whose last attempt may have reached Twilio
 *   and whose look-up never succeeded before it gave up ("Outcome unknown: may have been sent").
 * - `cancel_requested_at` / `cancel_reason`: a cancel that met a row whose last attempt may have
 *   reached Twilio (queued "maybe sent", or being sent) marks it instead of cancelling it; the
 *   dispatcher cancels it once reconciliation has found that it was not sent.
 */

const STATUSES = sql`status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'skipped', 'captured', 'cancelled', 'unknown')`;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table sms_messages drop constraint sms_messages_status_check`.execute(db);
    await sql`alter table sms_messages add constraint sms_messages_status_check check (${STATUSES})`.execute(
      db,
    );
  } else {
    await widenSqliteStatusCheck(db);
  }
  await db.schema.alterTable("sms_messages").addColumn("cancel_requested_at", "text").execute();
  await db.schema.alterTable("sms_messages").addColumn("cancel_reason", "text").execute();
}

/**
 * SQLite cannot alter a CHECK (and better-sqlite3's defensive mode forbids editing the schema
 * table), so the table is built again: the same CREATE TABLE text with `'unknown'` added, the rows
 * copied, and every index and trigger of the old table created again from its own SQL, read from
 * sqlite_master (so this keeps whatever earlier migrations put there). Dropping the old table with
 * foreign keys on deletes the `sms_attempts` rows (ON DELETE CASCADE), so they are kept aside and
 * put back; the AUTOINCREMENT counter is carried over so no id is ever handed out twice. The
 * migrator runs all of it in one transaction.
 */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function widenSqliteStatusCheck(db: Kysely<any>): Promise<void> {
  const objects = await sql<{ type: string; name: string; sql: string | null }>`
    select type, name, sql from sqlite_master where tbl_name = 'sms_messages'`.execute(db);
  const table = objects.rows.find((o) => o.type === "table");
  if (!table?.sql) throw new Error("sms_messages not found");
  const before = "'captured', 'cancelled')";
  if (!table.sql.includes(before))
    throw new Error("sms_messages' status CHECK is not the one this migration expects");
  const createNew = table.sql
    .replace(/^CREATE TABLE "?sms_messages"?/i, "CREATE TABLE sms_messages_new")
    .replace(before, "'captured', 'cancelled', 'unknown')");
  const recreate = objects.rows.filter((o) => o.type !== "table" && o.sql !== null);
  const columns = (await sql<{ name: string }>`pragma table_info(sms_messages)`.execute(db)).rows
    .map((c) => `"${c.name}"`)
    .join(", ");
  const sequence = await sql<{ seq: number }>`
    select seq from sqlite_sequence where name = 'sms_messages'`.execute(db);

  await sql.raw(createNew).execute(db);
  await sql
    .raw(`insert into sms_messages_new (${columns}) select ${columns} from sms_messages`)
    .execute(db);
  await sql`create temp table sms_attempts_kept as select * from sms_attempts`.execute(db);
  await sql`drop table sms_messages`.execute(db);
  await sql`alter table sms_messages_new rename to sms_messages`.execute(db);
  for (const object of recreate) await sql.raw(object.sql!).execute(db);
  await sql`insert into sms_attempts select * from temp.sms_attempts_kept`.execute(db);
  await sql`drop table temp.sms_attempts_kept`.execute(db);
  const seq = sequence.rows[0]?.seq;
  if (seq !== undefined) {
    await sql`delete from sqlite_sequence where name = 'sms_messages'`.execute(db);
    await sql`insert into sqlite_sequence (name, seq)
      values ('sms_messages', (select max(${seq}, coalesce(max(id), 0)) from sms_messages))`.execute(
      db,
    );
  }
}
