import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  const real: ColumnDataType = pg ? "double precision" : "real";
  const id = pg
    ? // biome-ignore lint/suspicious/noExplicitAny: column builder callback
      (c: any) => c.primaryKey().generatedByDefaultAsIdentity()
    : // biome-ignore lint/suspicious/noExplicitAny: column builder callback
      (c: any) => c.primaryKey().autoIncrement();

  await db.schema
    .createTable("users")
    .addColumn("id", "integer", id)
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull().check(sql`role in ('student', 'admin')`))
    .addColumn("deactivated_at", timestamp)
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("last_login_at", timestamp)
    .execute();

  await db.schema
    .createTable("students")
    .addColumn("id", "integer", id)
    .addColumn("user_id", "integer", (c) =>
      c.notNull().unique().references("users.id").onDelete("cascade"),
    )
    .addColumn("full_name", "text", (c) => c.notNull())
    .addColumn("roll_number", "text", (c) => c.notNull().unique())
    .addColumn("phone_e164", "text", (c) => c.notNull())
    .addColumn("department", "text", (c) => c.notNull())
    .addColumn("semester", "integer")
    .addColumn("graduation_year", "integer", (c) => c.notNull())
    .addColumn("cgpa", real, (c) => c.notNull().check(sql`cgpa >= 0 and cgpa <= 10`))
    .addColumn("active_backlogs", "integer", (c) =>
      c.notNull().defaultTo(0).check(sql`active_backlogs >= 0`),
    )
    .addColumn("skills", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("resume_path", "text")
    .addColumn("approved_at", timestamp)
    .addColumn("approved_by", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("sms_opted_out_at", timestamp)
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("students_queue_idx")
    .on("students")
    .columns(["approved_at", "department", "graduation_year"])
    .execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("id", "integer", id)
    .addColumn("actor_user_id", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("actor_email", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("details", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_log_at_idx").on("audit_log").column("at").execute();

  await db.schema
    .createTable("sms_messages")
    .addColumn("id", "integer", id)
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("priority", "integer", (c) => c.notNull().defaultTo(10))
    .addColumn("dedupe_key", "text", (c) => c.notNull().unique())
    // No cascade: a rejected student's messages stay as the record of what was sent.
    .addColumn("student_id", "integer", (c) => c.references("students.id").onDelete("set null"))
    .addColumn("to_e164", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("encoding", "text", (c) => c.notNull())
    .addColumn("segments", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c
        .notNull()
        .check(
          sql`status in ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'skipped', 'captured')`,
        ),
    )
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", timestamp, (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", timestamp)
    // Set when a send attempt may have reached Twilio without us learning the outcome (a worker
    // killed mid-send, a timeout, a 5xx): the next attempt first asks Twilio what happened.
    .addColumn("unconfirmed_attempt_at", timestamp)
    .addColumn("twilio_sid", "text", (c) => c.unique())
    .addColumn("provider_status", "text")
    .addColumn("error_code", "integer")
    .addColumn("error_message", "text")
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("sent_at", timestamp)
    .addColumn("delivered_at", timestamp)
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
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

  // One row shared by every dispatcher: a rate-limit pause and a credentials alarm apply to all.
  await db.schema
    .createTable("sms_dispatch_state")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("paused_until", timestamp)
    .addColumn("credentials_error", "text")
    .addColumn("credentials_error_at", timestamp)
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
  await db
    .insertInto("sms_dispatch_state")
    .values({ id: 1, updated_at: new Date().toISOString() })
    .execute();

  // A delivery callback can overtake the answer to the create request: kept here until the row
  // has its SID.
  await db.schema
    .createTable("sms_early_callbacks")
    .addColumn("id", "integer", id)
    .addColumn("twilio_sid", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("error_code", "integer")
    .addColumn("received_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("sms_early_callbacks_sid_idx")
    .on("sms_early_callbacks")
    .column("twilio_sid")
    .execute();

  await db.schema
    .createIndex("sms_messages_student_idx")
    .on("sms_messages")
    .column("student_id")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "sms_early_callbacks",
    "sms_dispatch_state",
    "sms_messages",
    "audit_log",
    "students",
    "users",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
