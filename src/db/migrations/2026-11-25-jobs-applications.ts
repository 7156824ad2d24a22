import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.

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
    .createTable("jobs")
    .addColumn("id", "integer", id)
    .addColumn("company", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) =>
      c.notNull().check(sql`type in ('placement', 'internship', 'drive')`),
    )
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("location", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("package_range", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("official_link", "text")
    .addColumn("min_cgpa", real)
    .addColumn("max_backlogs", "integer")
    .addColumn("apply_by", timestamp, (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    .addColumn("alert_sms_count", "integer", (c) => c.notNull().defaultTo(0))
    // The posting form's one-time id: a double click posts (and alerts) once.
    .addColumn("submission_id", "text", (c) => c.unique())
    .addColumn("posted_by", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("jobs_status_apply_by_idx")
    .on("jobs")
    .columns(["status", "apply_by"])
    .execute();
  await db.schema.createIndex("jobs_company_idx").on("jobs").column("company").execute();

  // Eligibility lists as rows, not JSON: the same SQL then selects eligible students on both databases.
  // No rows for a job means "every department" / "every year" / "every semester".
  for (const [table, column] of [
    ["job_departments", "department"],
    ["job_graduation_years", "graduation_year"],
    ["job_semesters", "semester"],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn("job_id", "integer", (c) => c.notNull().references("jobs.id").onDelete("cascade"))
      .addColumn(column, column === "department" ? "text" : "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ["job_id", column])
      .execute();
  }

  await db.schema
    .createTable("applications")
    .addColumn("id", "integer", id)
    .addColumn("job_id", "integer", (c) => c.notNull().references("jobs.id").onDelete("cascade"))
    .addColumn("student_id", "integer", (c) =>
      c.notNull().references("students.id").onDelete("cascade"),
    )
    .addColumn("status", "text", (c) =>
      c
        .notNull()
        .check(
          sql`status in ('applied', 'shortlisted', 'interview', 'selected', 'rejected', 'withdrawn')`,
        ),
    )
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .addUniqueConstraint("applications_job_student_unique", ["job_id", "student_id"])
    .execute();
  await db.schema
    .createIndex("applications_job_status_idx")
    .on("applications")
    .columns(["job_id", "status"])
    .execute();
  await db.schema
    .createIndex("applications_student_idx")
    .on("applications")
    .columns(["student_id", "status"])
    .execute();
  await db.schema
    .createIndex("applications_status_idx")
    .on("applications")
    .column("status")
    .execute();

  await db.schema
    .createTable("application_events")
    .addColumn("id", "integer", id)
    .addColumn("application_id", "integer", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("from_status", "text")
    .addColumn("to_status", "text", (c) => c.notNull())
    .addColumn("by_user_id", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("by_role", "text", (c) => c.notNull())
    .addColumn("at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("application_events_app_idx")
    .on("application_events")
    .column("application_id")
    .execute();

  await db.schema
    .createTable("announcements")
    .addColumn("id", "integer", id)
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("sms_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("submission_id", "text", (c) => c.unique())
    .addColumn("posted_by", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("posted_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("announcements_posted_at_idx")
    .on("announcements")
    .column("posted_at")
    .execute();

  // The dashboards and the fan-out filter students by these.
  await db.schema
    .createIndex("students_eligibility_idx")
    .on("students")
    .columns(["department", "graduation_year", "cgpa"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("students_eligibility_idx").execute();
  for (const table of [
    "announcements",
    "application_events",
    "applications",
    "job_semesters",
    "job_graduation_years",
    "job_departments",
    "jobs",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
