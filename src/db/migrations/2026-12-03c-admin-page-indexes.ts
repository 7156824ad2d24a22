import { type Kysely, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Indexes for the admin lists at 10,000-100,000 students (issue 10). Each one lets a list page
 * walk an index in the order it shows, stop after its page, and skip earlier pages on the index
 * alone, instead of sorting every row that matches on each request:
 * - the student list in its default orders (registration time; for approved students a partial
 *   index holding only them, so the approved list and its deep pages never read a pending row),
 *   and by each sortable column (roll number has its unique index already);
 * - the jobs list, newest first (it counted the applicants of every job before sorting).
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("students_created_idx")
    .on("students")
    .columns(["created_at", "id"])
    .execute();
  await db.schema
    .createIndex("students_approved_created_idx")
    .on("students")
    .columns(["created_at", "id"])
    .where(sql.ref("approved_at"), "is not", null)
    .execute();
  // A sorted list breaks ties by registration time, newest first (oldest first in the queue), and
  // a click on the header reverses only the column's direction: one index per direction of the
  // tie-break, so both clicks walk an index (backwards for the other direction of the column).
  for (const column of ["full_name", "department", "graduation_year", "cgpa", "approved_at"]) {
    await db.schema
      .createIndex(`students_${column}_sort_idx`)
      .on("students")
      .columns([column, "created_at", "id"])
      .execute();
    await db.schema
      .createIndex(`students_${column}_sort_desc_idx`)
      .on("students")
      .columns([column, "created_at desc", "id"])
      .execute();
  }
  await db.schema
    .createIndex("jobs_created_idx")
    .on("jobs")
    .columns(["created_at", "id"])
    .execute();
}
