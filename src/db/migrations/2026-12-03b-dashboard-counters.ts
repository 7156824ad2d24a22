import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead. (The dialect is read from the adapter, as the first migrations
// do, rather than from src/db/dialect.ts: app code may change, this file may not.)

/**
 * The admin dashboard's numbers kept up to date by the database (issue 10, decision 019):
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

/** PostgreSQL: the shares of every row of a transition table, added to the summary. */
function addShares(rows: string): string {
  const set = SUMMARY_COLUMNS.split(", ")
    .map((c) => `${c} = placement_summary.${c} + excluded.${c}`)
    .join(", ");
  return `insert into placement_summary (department, graduation_year, semester, ${SUMMARY_COLUMNS})
    select r.department, r.graduation_year, coalesce(r.semester, 0), ${sumShares("r")}
    from ${rows} r group by r.department, r.graduation_year, coalesce(r.semester, 0)
    on conflict (department, graduation_year, semester) do update set ${set}`;
}

/** PostgreSQL: the shares of every row of a transition table, taken out of the summary. */
function removeShares(rows: string): string {
  const columns = SUMMARY_COLUMNS.split(", ");
  const set = columns.map((c) => `${c} = p.${c} - d.${c}`).join(", ");
  const sums = share("r")
    .split(", ")
    .map((v, i) => `sum(${v}) as ${columns[i]}`)
    .join(", ");
  return `update placement_summary p set ${set}
    from (select r.department, r.graduation_year, coalesce(r.semester, 0) as semester, ${sums}
          from ${rows} r group by r.department, r.graduation_year, coalesce(r.semester, 0)) d
    where p.department = d.department and p.graduation_year = d.graduation_year
      and p.semester = d.semester`;
}

function sumShares(r: string): string {
  return share(r)
    .split(", ")
    .map((v) => `sum(${v})`)
    .join(", ");
}

/** PostgreSQL: each application of a transition table as (student_id, n, sel), `sign` 1 or -1. */
function weights(rows: string, sign: 1 | -1): string {
  return `select student_id, ${sign} as n,
      ${sign} * (case when status = 'selected' then 1 else 0 end) as sel from ${rows}`;
}

/** PostgreSQL: each student's counters move by the sums of their weights, once per statement. */
function countApplications(changes: string): string {
  return `update students s set applications_count = s.applications_count + d.n,
      selected_count = s.selected_count + d.sel
    from (select student_id, sum(n) as n, sum(sel) as sel from (${changes}) c
          group by student_id having sum(n) <> 0 or sum(sel) <> 0) d
    where s.id = d.student_id`;
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
    // Statement-level triggers with transition tables: one statement inserting 1,000 rows (the
    // seed) updates each summary row once, not 1,000 times. Row-level triggers updating the same
    // few summary rows again and again in one transaction left PostgreSQL a chain of dead
    // versions to walk on every update: the 10,000-student seed took 294 s instead of 5 s.
    // A trigger with transition tables has one event, hence three of each.
    await run(`create function placement_summary_student() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then ${removeShares("old_rows")}; end if;
        if tg_op <> 'DELETE' then ${addShares("new_rows")}; end if;
        return null;
      end $$`);
    await run(`create function placement_summary_application() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${countApplications(weights("new_rows", 1))};
        elsif tg_op = 'DELETE' then ${countApplications(weights("old_rows", -1))};
        else ${countApplications(`${weights("old_rows", -1)} union all ${weights("new_rows", 1)}`)};
        end if;
        return null;
      end $$`);
    for (const [table, fn] of [
      ["students", "placement_summary_student"],
      ["applications", "placement_summary_application"],
    ] as const) {
      await run(`create trigger ${table}_summary_insert after insert on ${table}
        referencing new table as new_rows for each statement execute function ${fn}()`);
      await run(`create trigger ${table}_summary_delete after delete on ${table}
        referencing old table as old_rows for each statement execute function ${fn}()`);
      await run(`create trigger ${table}_summary_update after update on ${table}
        referencing old table as old_rows new table as new_rows
        for each statement execute function ${fn}()`);
    }
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
    for (const table of ["students", "applications"])
      for (const event of ["insert", "delete", "update"])
        await run(`drop trigger ${table}_summary_${event} on ${table}`);
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
