import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Editable SMS texts (issue 9):
 * - `sms_templates`: the office's versions of each template's text, with its DLT template id.
 *   Version 1 is the default text in the code and has no row: the first save writes version 2,
 *   so a template nobody edited follows the code, and this migration copies no app text.
 * - `sms_dlt_settings`: one row, the sender's DLT entity id and header, set on the same pages.
 * - `sms_messages.template_id`, `template_version`: the version each message was built from
 *   (null on the messages queued before this).
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema
    .createTable("sms_templates")
    .addColumn("template_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("dlt_template_id", "text")
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    // Two admins saving at once both try version N+1: the key lets one of them have it.
    .addPrimaryKeyConstraint("sms_templates_pk", ["template_id", "version"])
    .execute();

  await db.schema
    .createTable("sms_dlt_settings")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("entity_id", "text")
    .addColumn("header", "text")
    .addColumn("updated_at", timestamp)
    .addColumn("updated_by", "text")
    .execute();
  await db.insertInto("sms_dlt_settings").values({ id: 1 }).execute();

  await db.schema.alterTable("sms_messages").addColumn("template_id", "text").execute();
  await db.schema.alterTable("sms_messages").addColumn("template_version", "integer").execute();
}
