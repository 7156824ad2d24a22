import type { Kysely } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * One sending pace for the whole portal (issue 22, decision 025): `sms_send_budget` holds one row,
 * shared by every dispatcher of every process.
 * - `next_free_ms`: the database-clock instant (epoch ms) from which sending time is still free.
 *   A dispatcher books a short stretch of it with one UPDATE ... RETURNING and spaces its sends
 *   within that stretch, so SMS_RATE_PER_SECOND holds for all processes together.
 * - `booked_ms`: all the sending time ever booked. Between two of its bookings a dispatcher sees
 *   how much the others booked, so after a 429 it knows its share of what the portal sent.
 * - `ceiling_per_second`, `ceiling_until_ms`: after Twilio answered 429, the pace Twilio was
 *   found to accept and until when every dispatcher keeps under it (null: none found lately).
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("sms_send_budget")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("next_free_ms", "double precision", (c) => c.notNull())
    .addColumn("booked_ms", "double precision", (c) => c.notNull())
    .addColumn("ceiling_per_second", "double precision")
    .addColumn("ceiling_until_ms", "double precision")
    .execute();
  await db.insertInto("sms_send_budget").values({ id: 1, next_free_ms: 0, booked_ms: 0 }).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("sms_send_budget").execute();
}
