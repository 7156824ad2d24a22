import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Resumes in the database (issue 10, more than one machine):
 * - `resumes`: one PDF per student, the bytes themselves (blob on SQLite, bytea on PostgreSQL),
 *   with its size and sha256; it goes with the student (cascade). Every web process on every
 *   machine reads the same row, where a file under one machine's DATA_DIR was seen by that one only.
 * - A partial index on the students that still name a file (`resume_path`): the start-up import
 *   (src/students/resume-import.ts) reads those files into this table and clears the path. A
 *   migration cannot do it: it does not know DATA_DIR, and on several machines only one has the
 *   files. The index keeps that check at every start one indexed read once it is done.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  const bytes: ColumnDataType = pg ? "bytea" : "blob";

  await db.schema
    .createTable("resumes")
    .addColumn("student_id", "integer", (c) =>
      c.primaryKey().references("students.id").onDelete("cascade"),
    )
    .addColumn("size", "integer", (c) => c.notNull().check(sql`size >= 0`))
    // Hex; lets an operator check a copy, and a download carry a strong ETag.
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("uploaded_at", timestamp, (c) => c.notNull())
    // Last: SQLite keeps the columns after a large blob on its overflow pages, so a page that
    // only asks whether there is a resume (its size) would read the whole PDF to get there.
    // Measured on a SQLite file with 1 MB resumes: a student row with its resume's size took
    // 450-780 us with `content` before `size`, 8-14 us with it last (8-10 us without the size).
    .addColumn("content", bytes, (c) => c.notNull())
    .execute();

  await db.schema
    .createIndex("students_resume_file_idx")
    .on("students")
    .column("id")
    .where(sql.ref("resume_path"), "is not", null)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("students_resume_file_idx").execute();
  await db.schema.dropTable("resumes").execute();
}
