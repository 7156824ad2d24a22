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
 * sqlite_master (so this keeps whatever earlier migrations put there). `sms_attempts` references
 * sms_messages: while it does, dropping sms_messages deletes row by row (SQLite's implicit DELETE
 * for foreign keys, 42 s at 1,000,000 messages) and cascades into the attempts. So the attempts
 * are kept aside, their table dropped and built again from its own SQL after the swap. The
 * AUTOINCREMENT counters are carried over so no id is ever handed out twice. The migrator runs
 * all of it in one transaction.
 */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function widenSqliteStatusCheck(db: Kysely<any>): Promise<void> {
  const objectsOf = async (table: string) =>
    (
      await sql<{ type: string; name: string; sql: string | null }>`
        select type, name, sql from sqlite_master where tbl_name = ${table} and sql is not null`.execute(
        db,
      )
    ).rows;
  const messages = await objectsOf("sms_messages");
  const attempts = await objectsOf("sms_attempts");
  const messagesTable = messages.find((o) => o.type === "table")?.sql;
  const attemptsTable = attempts.find((o) => o.type === "table")?.sql;
  if (!messagesTable || !attemptsTable) throw new Error("sms_messages or sms_attempts not found");
  const before = "'captured', 'cancelled')";
  if (!messagesTable.includes(before))
    throw new Error("sms_messages' status CHECK is not the one this migration expects");
  const createNew = messagesTable
    .replace(/^CREATE TABLE "?sms_messages"?/i, "CREATE TABLE sms_messages_new")
    .replace(before, "'captured', 'cancelled', 'unknown')");
  const columns = (await sql<{ name: string }>`pragma table_info(sms_messages)`.execute(db)).rows
    .map((c) => `"${c.name}"`)
    .join(", ");
  const sequences = (
    await sql<{ name: string; seq: number }>`
      select name, seq from sqlite_sequence where name in ('sms_messages', 'sms_attempts')`.execute(
      db,
    )
  ).rows;

  await sql.raw(createNew).execute(db);
  await sql
    .raw(`insert into sms_messages_new (${columns}) select ${columns} from sms_messages`)
    .execute(db);
  await sql`create temp table sms_attempts_kept as select * from sms_attempts`.execute(db);
  await sql`drop table sms_attempts`.execute(db);
  await sql`drop table sms_messages`.execute(db);
  await sql`alter table sms_messages_new rename to sms_messages`.execute(db);
  for (const object of messages.filter((o) => o.type !== "table"))
    await sql.raw(object.sql!).execute(db);
  await sql.raw(attemptsTable).execute(db);
  await sql`insert into sms_attempts select * from temp.sms_attempts_kept`.execute(db);
  await sql`drop table temp.sms_attempts_kept`.execute(db);
  for (const object of attempts.filter((o) => o.type !== "table"))
    await sql.raw(object.sql!).execute(db);
  for (const { name, seq } of sequences) {
    await sql`delete from sqlite_sequence where name = ${name}`.execute(db);
    await sql`insert into sqlite_sequence (name, seq)
      values (${name}, (select max(${seq}, coalesce(max(id), 0)) from ${sql.table(name)}))`.execute(
      db,
    );
  }
}
