import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Pages at scale (issue 10): a version number for the open jobs and their eligibility lists, so
 * every web process can keep them in memory and know, with one primary-key read, whether its copy
 * is current. Triggers bump it in the same transaction as any change to `jobs`,
 * `job_departments`, `job_graduation_years` or `job_semesters`, whatever code (or hand-written SQL)
 * makes the change: no write path can forget it.
 */

const WATCHED = ["jobs", "job_departments", "job_graduation_years", "job_semesters"] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable("data_versions")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("version", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.insertInto("data_versions").values({ name: "jobs", version: 0 }).execute();

  if (pg) {
    await sql`
      create function bump_jobs_version() returns trigger language plpgsql as $$
      begin
        update data_versions set version = version + 1 where name = 'jobs';
        return null;
      end $$`.execute(db);
    for (const table of WATCHED) {
      // Once per statement: posting a job with 12 departments bumps it once, not 12 times.
      await sql`
        create trigger ${sql.raw(`${table}_bump_jobs_version`)}
        after insert or update or delete on ${sql.table(table)}
        for each statement execute function bump_jobs_version()`.execute(db);
    }
    return;
  }
  for (const table of WATCHED) {
    for (const event of ["insert", "update", "delete"]) {
      await sql`
        create trigger ${sql.raw(`${table}_${event}_bumps_jobs_version`)}
        after ${sql.raw(event)} on ${sql.table(table)}
        begin
          update data_versions set version = version + 1 where name = 'jobs';
        end`.execute(db);
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    for (const table of WATCHED)
      await sql`drop trigger if exists ${sql.raw(`${table}_bump_jobs_version`)} on ${sql.table(table)}`.execute(
        db,
      );
    await sql`drop function if exists bump_jobs_version()`.execute(db);
  } else {
    for (const table of WATCHED)
      for (const event of ["insert", "update", "delete"])
        await sql`drop trigger if exists ${sql.raw(`${table}_${event}_bumps_jobs_version`)}`.execute(
          db,
        );
  }
  await db.schema.dropTable("data_versions").execute();
}
