import type { Kysely } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * The season report (issue 24, src/reports/) reads one graduation year's students and their
 * offers. Without these it looked up every student row of the year (and every offer row) in the
 * table itself: 10,000 students, 32 ms of CPU per page and p99 1.3 s over HTTP at 8 connections.
 * - `students_season_idx`: the year's students by department and roll number, with the two
 *   columns that decide eligibility and the id (PostgreSQL's index entries do not carry it, as
 *   SQLite's carry the rowid): the per-department counts and the students joined to their offers
 *   read the index alone, and the unplaced list walks it in its order (no sort).
 * - `offers_student_report_idx`: a student's offers with what the report counts (status, source,
 *   company, CTC), so the offers joined to them are read from the index alone too.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("students_season_idx")
    .on("students")
    .columns([
      "graduation_year",
      "department",
      "roll_number",
      "approved_at",
      "placement_opted_out_at",
      "id",
    ])
    .execute();
  await db.schema
    .createIndex("offers_student_report_idx")
    .on("offers")
    .columns(["student_id", "status", "source", "company", "ctc_lpa"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("offers_student_report_idx").execute();
  await db.schema.dropIndex("students_season_idx").execute();
}
