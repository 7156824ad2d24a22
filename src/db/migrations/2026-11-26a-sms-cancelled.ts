import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * An outbox row can be `cancelled` (the job was closed or deleted, the announcement deleted before
 * it was sent), and carries the `reference` of what it is about ("job:12", "announcement:3") so a
 * feature cancels or rewrites its queued messages with one indexed UPDATE.
 */

const STATUSES = sql`status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'skipped', 'captured', 'cancelled')`;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // The foundation's column CHECK got PostgreSQL's default name.
    await sql`alter table sms_messages drop constraint sms_messages_status_check`.execute(db);
    await sql`alter table sms_messages add constraint sms_messages_status_check check (${STATUSES})`.execute(
      db,
    );
    await db.schema.alterTable("sms_messages").addColumn("reference", "text").execute();
  } else {
    // SQLite cannot alter a CHECK: build the table again with it, copy the rows, swap the names
    // (the migrator runs this in one transaction).
    await sql`create table sms_messages_new (
        id integer primary key autoincrement,
        kind text not null,
        priority integer default 10 not null,
        dedupe_key text not null unique,
        student_id integer references students (id) on delete set null,
        to_e164 text not null,
        body text not null,
        encoding text not null,
        segments integer not null,
        status text not null check (${STATUSES}),
        attempts integer default 0 not null,
        next_attempt_at text not null,
        lease_owner text,
        lease_until text,
        unconfirmed_attempt_at text,
        twilio_sid text unique,
        provider_status text,
        error_code integer,
        error_message text,
        created_at text not null,
        sent_at text,
        delivered_at text,
        updated_at text not null,
        reference text
      )`.execute(db);
    const columns = sql.raw(
      "id, kind, priority, dedupe_key, student_id, to_e164, body, encoding, segments, status, " +
        "attempts, next_attempt_at, lease_owner, lease_until, unconfirmed_attempt_at, twilio_sid, " +
        "provider_status, error_code, error_message, created_at, sent_at, delivered_at, updated_at",
    );
    await sql`insert into sms_messages_new (${columns}) select ${columns} from sms_messages`.execute(
      db,
    );
    await sql`drop table sms_messages`.execute(db);
    await sql`alter table sms_messages_new rename to sms_messages`.execute(db);
    await db.schema
      .createIndex("sms_messages_due_idx")
      .on("sms_messages")
      .columns(["status", "priority", "next_attempt_at"])
      .execute();
    await db.schema
      .createIndex("sms_messages_lease_idx")
      .on("sms_messages")
      .columns(["status", "lease_until"])
      .execute();
    await db.schema
      .createIndex("sms_messages_student_idx")
      .on("sms_messages")
      .column("student_id")
      .execute();
    await createReferenceIndex(db);
    return;
  }
  await createReferenceIndex(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
async function createReferenceIndex(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("sms_messages_reference_idx")
    .on("sms_messages")
    .columns(["reference", "status"])
    .execute();
}
