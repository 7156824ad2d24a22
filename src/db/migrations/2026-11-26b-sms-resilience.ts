import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  // The shared circuit breaker: consecutive outage-like failures seen by any dispatcher, until
  // when sending is stopped, and which dispatcher holds the one probe allowed while it is open.
  await db.schema
    .alterTable("sms_dispatch_state")
    .addColumn("consecutive_failures", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("sms_dispatch_state")
    .addColumn("circuit_open_until", timestamp)
    .execute();
  await db.schema
    .alterTable("sms_dispatch_state")
    .addColumn("circuit_opened_at", timestamp)
    .execute();
  await db.schema.alterTable("sms_dispatch_state").addColumn("probe_owner", "text").execute();
  await db.schema.alterTable("sms_dispatch_state").addColumn("probe_until", timestamp).execute();

  // Pruning parked callbacks by age.
  await db.schema
    .createIndex("sms_early_callbacks_received_idx")
    .on("sms_early_callbacks")
    .column("received_at")
    .execute();
}
