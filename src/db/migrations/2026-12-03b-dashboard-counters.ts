import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead. (The dialect is read from the adapter, as the first migrations
// do, rather than from src/db/dialect.ts: app code may change, this file may not.)

/**
 * The admin dashboard's numbers kept up to date by the database (issue 10, decision 016):
 * - `students.applications_count` and `students.selected_count`: this student's applications, and
 *   those of them at `selected`. "Applied" and "selected" count students with at least one, so
 *   a student's first application (or first selection) is the moment a distinct count changes.
 * - `placement_summary`: one row per (department, graduation_year, semester; 0 = not set) with
 *   `students`, `approved`, `applications` (of those students, any status), `selected` (students
 *   with >= 1 selected application), `approved_applied` and `approved_selected` (the same two,
 *   approved students only: the per-department table counts approved students).
 * Triggers keep both in the same transaction as the write, whoever writes (services, the seed,
 * a cascade from deleting a user or a job, hand-written SQL): applications -> the student's two
 * counters -> the student's summary row. A student's row is the only thing the summary reads, so
 * one pair of statements (take the old row's share out, put the new row's in) covers every change.
 */

const SUMMARY_COLUMNS =
  "students, approved, applications, selected, approved_applied, approved_selected";

/** The share of one students row (`r` is NEW or OLD) in its summary row, in SUMMARY_COLUMNS order. */
function share(r: string): string {
  return [
    "1",
    `case when ${r}.approved_at is not null then 1 else 0 end`,
    `${r}.applications_count`,
    `case when ${r}.selected_count > 0 then 1 else 0 end`,
    `case when ${r}.approved_at is not null and ${r}.applications_count > 0 then 1 else 0 end`,
    `case when ${r}.approved_at is not null and ${r}.selected_count > 0 then 1 else 0 end`,
  ].join(", ");
}

function addShare(r: string): string {
  const set = SUMMARY_COLUMNS.split(", ")
    .map((c) => `${c} = placement_summary.${c} + excluded.${c}`)
    .join(", ");
  return `insert into placement_summary (department, graduation_year, semester, ${SUMMARY_COLUMNS})
    values (${r}.department, ${r}.graduation_year, coalesce(${r}.semester, 0), ${share(r)})
    on conflict (department, graduation_year, semester) do update set ${set}`;
}

function removeShare(r: string): string {
  const values = share(r).split(", ");
  const set = SUMMARY_COLUMNS.split(", ")
    .map((c, i) => `${c} = ${c} - (${values[i]})`)
    .join(", ");
  return `update placement_summary set ${set}
    where department = ${r}.department and graduation_year = ${r}.graduation_year
      and semester = coalesce(${r}.semester, 0)`;
}

/** One application's weight on its student's counters; `sign` is + or -. */
function countApplication(r: string, sign: "+" | "-"): string {
  return `update students set applications_count = applications_count ${sign} 1,
      selected_count = selected_count ${sign} (case when ${r}.status = 'selected' then 1 else 0 end)
    where id = ${r}.student_id`;
}

// Only these columns change a student's share; an edit of a phone number or skills fires nothing.
const SHARE_COLUMNS =
  "department, graduation_year, semester, approved_at, applications_count, selected_count";
// A status change moves the counters only into or out of `selected` (or to another student).
const APPLICATION_MOVES =
  "old.student_id <> new.student_id or (old.status = 'selected') <> (new.status = 'selected')";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);

  // The migrator runs this in one transaction on both databases (database.ts tells Kysely that
  // SQLite rolls back DDL too). On PostgreSQL other connections could still write between the
  // backfill and the triggers and be lost: the lock keeps them waiting until commit. SQLite has
  // one writer at a time already.
  if (pg) await run("lock table students, applications in share row exclusive mode");
  for (const column of ["applications_count", "selected_count"]) {
    await db.schema
      .alterTable("students")
      .addColumn(column, "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await run(`update students set
      applications_count = (select count(*) from applications a where a.student_id = students.id),
      selected_count = (select count(*) from applications a
        where a.student_id = students.id and a.status = 'selected')
    where exists (select 1 from applications a where a.student_id = students.id)`);

  await db.schema
    .createTable("placement_summary")
    .addColumn("department", "text", (c) => c.notNull())
    .addColumn("graduation_year", "integer", (c) => c.notNull())
    // 0 for "not set": a key column cannot be null in a primary key.
    .addColumn("semester", "integer", (c) => c.notNull())
    .addColumn("students", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("approved", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("applications", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("selected", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("approved_applied", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("approved_selected", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("placement_summary_pk", ["department", "graduation_year", "semester"])
    .execute();
  const sums = share("s")
    .split(", ")
    .map((v) => `sum(${v})`)
    .join(", ");
  await run(`insert into placement_summary (department, graduation_year, semester, ${SUMMARY_COLUMNS})
    select s.department, s.graduation_year, coalesce(s.semester, 0), ${sums}
    from students s group by s.department, s.graduation_year, coalesce(s.semester, 0)`);

  if (pg) {
    await run(`create function placement_summary_student() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then ${removeShare("old")}; end if;
        if tg_op <> 'DELETE' then ${addShare("new")}; end if;
        return null;
      end $$`);
    await run(`create trigger students_placement_summary
      after insert or delete or update of ${SHARE_COLUMNS} on students
      for each row execute function placement_summary_student()`);
    await run(`create function placement_summary_application() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then ${countApplication("old", "-")}; end if;
        if tg_op <> 'DELETE' then ${countApplication("new", "+")}; end if;
        return null;
      end $$`);
    await run(`create trigger applications_count_insert_delete
      after insert or delete on applications
      for each row execute function placement_summary_application()`);
    await run(`create trigger applications_count_update
      after update of status, student_id on applications
      for each row when (${APPLICATION_MOVES}) execute function placement_summary_application()`);
  } else {
    await run(`create trigger students_summary_insert after insert on students
      begin ${addShare("new")}; end`);
    await run(`create trigger students_summary_delete after delete on students
      begin ${removeShare("old")}; end`);
    await run(`create trigger students_summary_update after update of ${SHARE_COLUMNS} on students
      begin ${removeShare("old")}; ${addShare("new")}; end`);
    await run(`create trigger applications_count_insert after insert on applications
      begin ${countApplication("new", "+")}; end`);
    await run(`create trigger applications_count_delete after delete on applications
      begin ${countApplication("old", "-")}; end`);
    await run(`create trigger applications_count_update after update of status, student_id
      on applications when ${APPLICATION_MOVES}
      begin ${countApplication("old", "-")}; ${countApplication("new", "+")}; end`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  if (pg) {
    await run("drop trigger applications_count_update on applications");
    await run("drop trigger applications_count_insert_delete on applications");
    await run("drop trigger students_placement_summary on students");
    await run("drop function placement_summary_application()");
    await run("drop function placement_summary_student()");
  } else {
    for (const trigger of [
      "applications_count_update",
      "applications_count_delete",
      "applications_count_insert",
      "students_summary_update",
      "students_summary_delete",
      "students_summary_insert",
    ])
      await run(`drop trigger ${trigger}`);
  }
  await db.schema.dropTable("placement_summary").execute();
  await db.schema.alterTable("students").dropColumn("selected_count").execute();
  await db.schema.alterTable("students").dropColumn("applications_count").execute();
}
