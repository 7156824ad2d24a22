import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Issue 23: a job's selection rounds, their slots and who is in them.
 * - `rounds`: one step of a job's selection (an aptitude test, an interview), in `position` order,
 *   with its kind, length, venue or meeting link and instructions; `cancelled_at` when called off.
 * - `round_slots`: when a round takes place, one row per batch (10:00, 11:00), each with an
 *   optional capacity. `sequence` grows with every change a student's calendar must see (RFC 5545
 *   SEQUENCE of the slot's event).
 * - `round_members`: a student's place in one slot of a round (one per round: the unique key),
 *   the application it is for, and the round's outcome for them (attendance, result).
 * - `students.calendar_feed_version`: part of the secret the calendar feed's address is derived
 *   from; raising it ends the old address.
 * - `jobs.nudge_hours`: hours before the apply-by time at which the students who have not applied
 *   are reminded; null: no nudge.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  // biome-ignore lint/suspicious/noExplicitAny: the column builder of either dialect
  const id = (c: any) =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();
  await db.schema
    .createTable("rounds")
    .addColumn("id", "integer", id)
    .addColumn("job_id", "integer", (c) => c.notNull().references("jobs.id").onDelete("cascade"))
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) =>
      c.notNull().check(sql`kind in ('test', 'group_discussion', 'interview', 'hr', 'other')`),
    )
    .addColumn("duration_minutes", "integer", (c) =>
      c.notNull().check(sql`duration_minutes > 0 and duration_minutes <= 1440`),
    )
    .addColumn("venue", "text", (c) => c.notNull())
    .addColumn("meeting_link", "text")
    .addColumn("instructions", "text", (c) => c.notNull())
    .addColumn("cancelled_at", timestamp)
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("rounds_job_idx")
    .on("rounds")
    .columns(["job_id", "position"])
    .execute();
  await db.schema
    .createTable("round_slots")
    .addColumn("id", "integer", id)
    .addColumn("round_id", "integer", (c) =>
      c.notNull().references("rounds.id").onDelete("cascade"),
    )
    .addColumn("starts_at", timestamp, (c) => c.notNull())
    .addColumn("capacity", "integer", (c) => c.check(sql`capacity > 0`))
    .addColumn("sequence", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("round_slots_round_idx")
    .on("round_slots")
    .columns(["round_id", "starts_at"])
    .execute();
  // The day view: every slot of a day, across jobs.
  await db.schema
    .createIndex("round_slots_starts_idx")
    .on("round_slots")
    .column("starts_at")
    .execute();
  await db.schema
    .createTable("round_members")
    .addColumn("round_id", "integer", (c) =>
      c.notNull().references("rounds.id").onDelete("cascade"),
    )
    .addColumn("slot_id", "integer", (c) =>
      c.notNull().references("round_slots.id").onDelete("cascade"),
    )
    .addColumn("student_id", "integer", (c) =>
      c.notNull().references("students.id").onDelete("cascade"),
    )
    .addColumn("application_id", "integer", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("attendance", "text", (c) => c.check(sql`attendance in ('present', 'absent')`))
    .addColumn("result", "text", (c) => c.check(sql`result in ('passed', 'not_passed')`))
    .addColumn("added_at", timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint("round_members_pk", ["round_id", "student_id"])
    .execute();
  await db.schema
    .createIndex("round_members_slot_idx")
    .on("round_members")
    .column("slot_id")
    .execute();
  await db.schema
    .createIndex("round_members_student_idx")
    .on("round_members")
    .column("student_id")
    .execute();
  await db.schema
    .createIndex("round_members_application_idx")
    .on("round_members")
    .column("application_id")
    .execute();
  await db.schema
    .alterTable("students")
    .addColumn("calendar_feed_version", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("jobs").addColumn("nudge_hours", "integer").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("jobs").dropColumn("nudge_hours").execute();
  await db.schema.alterTable("students").dropColumn("calendar_feed_version").execute();
  await db.schema.dropTable("round_members").execute();
  await db.schema.dropTable("round_slots").execute();
  await db.schema.dropTable("rounds").execute();
}
