import { type Kysely, type SqlBool, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * A student holds at most one live (pending or accepted) pre-placement or off-campus offer per
 * company: the office records these from pasted lists, and the same list confirmed twice (a
 * double click, a retried request, two admins) must record them once. Campus offers are one per
 * application already (`offers.application_id` is unique).
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("offers_live_outside_idx")
    .unique()
    .on("offers")
    .columns(["student_id", "source", "company"])
    .where(sql.raw<SqlBool>("status in ('pending', 'accepted') and source <> 'campus'"))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("offers_live_outside_idx").execute();
}
