import type { Kysely } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Announcements people can aim (issue 9):
 * - `announcements.audience`: `everyone` (every approved student, as before), `students` (a
 *   selection by department, graduation year and semester, in the three list tables below; no row
 *   in a list means "any") or `applicants` (of `audience_job_id`, at `audience_stage` when set);
 *   `audience_job_label` keeps the job's words for when the job is deleted;
 * - `announcement_recipients`: who was in an aimed audience when it was posted. Only they see it,
 *   and only they were texted; an announcement to everyone has no rows here.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("announcements")
    .addColumn("audience", "text", (c) => c.notNull().defaultTo("everyone"))
    .execute();
  await db.schema
    .alterTable("announcements")
    .addColumn("audience_job_id", "integer", (c) => c.references("jobs.id").onDelete("set null"))
    .execute();
  await db.schema.alterTable("announcements").addColumn("audience_job_label", "text").execute();
  await db.schema.alterTable("announcements").addColumn("audience_stage", "text").execute();

  for (const [table, column] of [
    ["announcement_departments", "department"],
    ["announcement_graduation_years", "graduation_year"],
    ["announcement_semesters", "semester"],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn("announcement_id", "integer", (c) =>
        c.notNull().references("announcements.id").onDelete("cascade"),
      )
      .addColumn(column, column === "department" ? "text" : "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ["announcement_id", column])
      .execute();
  }

  await db.schema
    .createTable("announcement_recipients")
    .addColumn("announcement_id", "integer", (c) =>
      c.notNull().references("announcements.id").onDelete("cascade"),
    )
    .addColumn("student_id", "integer", (c) =>
      c.notNull().references("students.id").onDelete("cascade"),
    )
    // The dashboard asks "is this student among its recipients?": student first.
    .addPrimaryKeyConstraint("announcement_recipients_pk", ["student_id", "announcement_id"])
    .execute();
  // Deleting an announcement (the cascade) finds its rows by announcement.
  await db.schema
    .createIndex("announcement_recipients_announcement_idx")
    .on("announcement_recipients")
    .column("announcement_id")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "announcement_recipients",
    "announcement_semesters",
    "announcement_graduation_years",
    "announcement_departments",
  ]) {
    await db.schema.dropTable(table).execute();
  }
  for (const column of ["audience_stage", "audience_job_label", "audience_job_id", "audience"]) {
    await db.schema.alterTable("announcements").dropColumn(column).execute();
  }
}
