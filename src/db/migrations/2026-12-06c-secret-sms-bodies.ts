import { type ColumnDataType, type Kysely, PostgresAdapter } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Messages that carry a one-time secret (issue 20: a password reset code stood in the SMS text
 * that every admin read, and could be used for its 10 minutes):
 * - `sms_messages.masked_body`: the text with the secret masked, all an admin is shown of it;
 * - `sms_messages.secret_until`: when the secret stops being worth anything. The dispatcher then
 *   replaces the body by the masked text (and cancels the message if it is still queued) and
 *   clears this column, so the partial index below holds only the live secrets it looks for.
 *
 * Reset codes already in the outbox get both: masked where a 6-digit code stands (the only
 * secret messages until now), and a secret that lived 10 minutes from the message's creation (the
 * codes' life then). Their texts leave the database at the dispatcher's first sweep. Few rows (3
 * codes an hour per account at most), so they are done one by one, alike on both databases.
 */

const CODE_LIFE_MS = 10 * 60_000;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";

  await db.schema.alterTable("sms_messages").addColumn("masked_body", "text").execute();
  await db.schema.alterTable("sms_messages").addColumn("secret_until", timestamp).execute();
  await db.schema
    .createIndex("sms_messages_secret_until_idx")
    .on("sms_messages")
    .column("secret_until")
    .where("secret_until", "is not", null)
    .execute();

  const codes = await db
    .selectFrom("sms_messages")
    .select(["id", "body", "created_at"])
    .where("kind", "=", "password_reset")
    .execute();
  for (const row of codes) {
    await db
      .updateTable("sms_messages")
      .set({
        masked_body: String(row.body).replace(/(?<!\d)\d{6}(?!\d)/g, "••••••"),
        secret_until: new Date(new Date(row.created_at).getTime() + CODE_LIFE_MS).toISOString(),
      })
      .where("id", "=", row.id)
      .execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("sms_messages_secret_until_idx").execute();
  await db.schema.alterTable("sms_messages").dropColumn("secret_until").execute();
  await db.schema.alterTable("sms_messages").dropColumn("masked_body").execute();
}
