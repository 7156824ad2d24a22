import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Dispatcher heartbeats (issue 22): `sms_dispatchers` holds one row per running SMS dispatcher
 * (the thread of `portal serve`, each `portal worker`), keyed by its worker id, with the machine,
 * the process id, when it started, when it was last seen (the database's clock) and when a claim
 * last took rows. A dispatcher writes its row every few seconds and deletes it on a graceful stop;
 * one that died leaves a row whose `seen_at` grows old, and the maintenance prunes it later. The
 * admin banner, `/healthz` and `/metrics` read it to tell whether anything is sending.
 *
 * `sms_attempts_finished_idx`: `/metrics` counts the attempts of the last five minutes by outcome;
 * without it each scrape would read every attempt ever made.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema
    .createTable("sms_dispatchers")
    .addColumn("worker_id", "text", (c) => c.primaryKey())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("pid", "integer", (c) => c.notNull())
    .addColumn("started_at", timestamp, (c) => c.notNull())
    .addColumn("seen_at", timestamp, (c) => c.notNull())
    .addColumn("last_claim_at", timestamp)
    .execute();
  await db.schema
    .createIndex("sms_attempts_finished_idx")
    .on("sms_attempts")
    .column("finished_at")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("sms_attempts_finished_idx").execute();
  await db.schema.dropTable("sms_dispatchers").execute();
}
