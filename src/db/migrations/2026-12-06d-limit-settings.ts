import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * The office's values of the abuse limits (issue 20), set on the limits page:
 * - `limit_settings`: one row per limit the office changed, keyed by the limit's name
 *   ("registration.per_address"), with its count and window and who set them. A limit without a
 *   row uses its default from the code, so this migration copies no value; every attempt reads
 *   the rows of its limits by the primary key, and a change holds at once in every process.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema
    .createTable("limit_settings")
    .addColumn("name", "text", (c) => c.primaryKey())
    // The page checks the ranges; the database keeps out what would switch a limit off.
    .addColumn("max", "integer", (c) => c.notNull().check(sql`max >= 1`))
    .addColumn("window_seconds", "integer", (c) => c.notNull().check(sql`window_seconds >= 1`))
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("limit_settings").execute();
}
