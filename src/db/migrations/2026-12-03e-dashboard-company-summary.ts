import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead. (The dialect is read from the adapter, as 2026-12-03b does.)

/**
 * The admin dashboard's company filter kept up to date by the database, as 2026-12-03b keeps the
 * rest of it (issue 10, decision 019, "Company filter"):
 * - `company_student_counts`: one row per (student, company) with at least one application to
 *   that company's jobs: how many (`applications`), how many at `selected`, and a copy of the
 *   student's group (department, graduation_year, semester; 0 = not set) and approval, so that a
 *   row's share in the summary is read from the row alone, even while its student is being
 *   deleted.
 * - `company_placement_summary`: one row per (company, department, graduation_year, semester):
 *   `applications`, `selected` (students with >= 1 selected application to the company),
 *   `approved_applied` and `approved_selected` (the same two, approved students only). The
 *   students and approved counts stay in `placement_summary`: they do not depend on a company.
 * Triggers, in the transaction of the write, whoever writes:
 * - an application (insert, delete, a change of status into or out of `selected`, of student or
 *   of job) moves the counts of (its student, its job's company);
 * - a job's company edited moves each of its applications from the old company to the new one;
 * - a job deleted takes its applications out BEFORE the delete: its applications then go by
 *   cascade, and by then their job (and so their company) can no longer be read; their own
 *   triggers find no job and do nothing;
 * - a student's group or approval changed is copied onto their rows; a student deleted takes
 *   their rows with them (foreign key cascade), their applications' triggers then find no student;
 * - a change to a `company_student_counts` row takes the old row's share out of its summary row
 *   and puts the new row's in: "a summary row is the sum of its rows' shares", as in 2026-12-03b.
 */

const COUNTS = "company_student_counts";
const SUMMARY = "company_placement_summary";
const KEY = "company, department, graduation_year, semester";
const SUMMARY_COLUMNS = "applications, selected, approved_applied, approved_selected";

/** The share of one counts row (`r` is NEW, OLD or an alias) in its summary row. */
function share(r: string): string[] {
  return [
    `${r}.applications`,
    `case when ${r}.selected > 0 then 1 else 0 end`,
    `case when ${r}.approved = 1 and ${r}.applications > 0 then 1 else 0 end`,
    `case when ${r}.approved = 1 and ${r}.selected > 0 then 1 else 0 end`,
  ];
}

const keyOf = (r: string) => KEY.split(", ").map((c) => `${r}.${c}`);
const columns = SUMMARY_COLUMNS.split(", ");
const addExcluded = columns.map((c) => `${c} = ${SUMMARY}.${c} + excluded.${c}`).join(", ");

/** SQLite: one row's share added to its summary row. */
function addShare(r: string): string {
  return `insert into ${SUMMARY} (${KEY}, ${SUMMARY_COLUMNS})
    values (${[...keyOf(r), ...share(r)].join(", ")})
    on conflict (${KEY}) do update set ${addExcluded}`;
}

/** SQLite: one row's share taken out of its summary row. */
function removeShare(r: string): string {
  const values = share(r);
  const set = columns.map((c, i) => `${c} = ${c} - (${values[i]})`).join(", ");
  const where = KEY.split(", ")
    .map((c) => `${c} = ${r}.${c}`)
    .join(" and ");
  return `update ${SUMMARY} set ${set} where ${where}`;
}

/** The student's group and approval as the counts rows copy them, from a students row `s`. */
function group(s: string): string {
  return `${s}.department, ${s}.graduation_year, coalesce(${s}.semester, 0),
    case when ${s}.approved_at is not null then 1 else 0 end`;
}
const COUNTS_COLUMNS =
  "student_id, company, department, graduation_year, semester, approved, applications, selected";
const addCounts = `applications = ${COUNTS}.applications + excluded.applications,
  selected = ${COUNTS}.selected + excluded.selected`;
const isSelected = (r: string) => `(case when ${r}.status = 'selected' then 1 else 0 end)`;

/** SQLite: one application (`r`) counted for (its student, its job's company). */
function countApplication(r: string): string {
  // The WHERE is needed: SQLite cannot parse an upsert's SELECT without one.
  return `insert into ${COUNTS} (${COUNTS_COLUMNS})
    select s.id, j.company, ${group("s")}, 1, ${isSelected(r)}
    from jobs j, students s where j.id = ${r}.job_id and s.id = ${r}.student_id
    on conflict (student_id, company) do update set ${addCounts}`;
}

/** SQLite: one application (`r`) taken out; its row goes when it counts nothing any more. */
function uncountApplication(r: string): string[] {
  const where = `student_id = ${r}.student_id
    and company = (select company from jobs where id = ${r}.job_id)`;
  return [
    `update ${COUNTS} set applications = applications - 1, selected = selected - ${isSelected(r)}
      where ${where}`,
    `delete from ${COUNTS} where ${where} and applications = 0`,
  ];
}

/** SQLite: every application of job `job` taken out of `company`'s counts. */
function uncountJob(job: string, company: string): string[] {
  const applicants = `student_id in (select student_id from applications where job_id = ${job})`;
  return [
    `update ${COUNTS} set applications = applications - 1,
        selected = selected - (select ${isSelected("a")} from applications a
          where a.job_id = ${job} and a.student_id = ${COUNTS}.student_id)
      where company = ${company} and ${applicants}`,
    `delete from ${COUNTS} where company = ${company} and applications = 0 and ${applicants}`,
  ];
}

/** SQLite: every application of job `job` counted for `company`. */
function countJob(job: string, company: string): string {
  return `insert into ${COUNTS} (${COUNTS_COLUMNS})
    select s.id, ${company}, ${group("s")}, 1, ${isSelected("a")}
    from applications a join students s on s.id = a.student_id where a.job_id = ${job}
    on conflict (student_id, company) do update set ${addCounts}`;
}

// SQLite: a status change moves the counts only into or out of `selected`, or to another
// student or job.
const APPLICATION_MOVES = `old.student_id <> new.student_id or old.job_id <> new.job_id
  or (old.status = 'selected') <> (new.status = 'selected')`;
const STUDENT_MOVES = `old.department <> new.department
  or old.graduation_year <> new.graduation_year or old.semester is not new.semester
  or (old.approved_at is null) <> (new.approved_at is null)`;

/**
 * PostgreSQL: deltas (company, student_id, n, sel) added to the counts, summed per key first
 * (an upsert may not touch a row twice); rows at zero are deleted after, when `negative`.
 * A delta whose student is gone (a cascade from deleting them) joins nothing and is dropped.
 */
function applyDeltas(deltas: string, negative: boolean): string {
  const upsert = `insert into ${COUNTS} (${COUNTS_COLUMNS})
    select d.student_id, d.company, ${group("s")}, d.n, d.sel
    from (select company, student_id, sum(n) as n, sum(sel) as sel from (${deltas}) x
          group by company, student_id having sum(n) <> 0 or sum(sel) <> 0) d
    join students s on s.id = d.student_id
    on conflict (student_id, company) do update set ${addCounts}`;
  if (!negative) return upsert;
  // FOUND: the upsert touched a row (most status changes move nothing and skip the delete).
  return `${upsert};
    if found then
      delete from ${COUNTS} c using (select distinct company, student_id from (${deltas}) x) d
        where c.company = d.company and c.student_id = d.student_id and c.applications = 0;
    end if`;
}

/** PostgreSQL: each application of a transition table as a delta, `sign` 1 or -1. */
function applicationDeltas(rows: string, sign: 1 | -1): string {
  return `select j.company, r.student_id, ${sign} as n, ${sign} * ${isSelected("r")} as sel
    from ${rows} r join jobs j on j.id = r.job_id`;
}

/** PostgreSQL: the shares of every row of a transition table, added to the summary. */
function addShares(rows: string): string {
  return `insert into ${SUMMARY} (${KEY}, ${SUMMARY_COLUMNS})
    select ${keyOf("r").join(", ")}, ${share("r")
      .map((v) => `sum(${v})`)
      .join(", ")}
    from ${rows} r group by ${keyOf("r").join(", ")}
    on conflict (${KEY}) do update set ${addExcluded}`;
}

/** PostgreSQL: the shares of every row of a transition table, taken out of the summary. */
function removeShares(rows: string): string {
  const set = columns.map((c) => `${c} = p.${c} - d.${c}`).join(", ");
  const sums = share("r")
    .map((v, i) => `sum(${v}) as ${columns[i]}`)
    .join(", ");
  const where = KEY.split(", ")
    .map((c) => `p.${c} = d.${c}`)
    .join(" and ");
  return `update ${SUMMARY} p set ${set}
    from (select ${keyOf("r").join(", ")}, ${sums} from ${rows} r
          group by ${keyOf("r").join(", ")}) d
    where ${where}`;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);

  // As in 2026-12-03b: one transaction; on PostgreSQL other connections wait until commit, so no
  // write slips in between the backfill and the triggers.
  if (pg) await run("lock table students, applications, jobs in share row exclusive mode");

  await db.schema
    .createTable(COUNTS)
    .addColumn("student_id", "integer", (c) =>
      c.notNull().references("students.id").onDelete("cascade"),
    )
    .addColumn("company", "text", (c) => c.notNull())
    .addColumn("department", "text", (c) => c.notNull())
    .addColumn("graduation_year", "integer", (c) => c.notNull())
    .addColumn("semester", "integer", (c) => c.notNull())
    .addColumn("approved", "integer", (c) => c.notNull())
    .addColumn("applications", "integer", (c) => c.notNull())
    .addColumn("selected", "integer", (c) => c.notNull())
    // Student first: a student's group change and the cascade from deleting them find their
    // rows by it; the application triggers look rows up by the whole key.
    .addPrimaryKeyConstraint(`${COUNTS}_pk`, ["student_id", "company"])
    .execute();
  await run(`insert into ${COUNTS} (${COUNTS_COLUMNS})
    select s.id, j.company, ${group("s")}, count(*), sum(${isSelected("a")})
    from applications a join jobs j on j.id = a.job_id join students s on s.id = a.student_id
    group by s.id, j.company, s.department, s.graduation_year, s.semester, s.approved_at`);

  await db.schema
    .createTable(SUMMARY)
    .addColumn("company", "text", (c) => c.notNull())
    .addColumn("department", "text", (c) => c.notNull())
    .addColumn("graduation_year", "integer", (c) => c.notNull())
    .addColumn("semester", "integer", (c) => c.notNull())
    .addColumn("applications", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("selected", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("approved_applied", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("approved_selected", "integer", (c) => c.notNull().defaultTo(0))
    // Company first: the dashboard reads one company's rows, narrowed by the student filters.
    .addPrimaryKeyConstraint(`${SUMMARY}_pk`, [
      "company",
      "department",
      "graduation_year",
      "semester",
    ])
    .execute();
  await run(`insert into ${SUMMARY} (${KEY}, ${SUMMARY_COLUMNS})
    select ${keyOf("r").join(", ")}, ${share("r")
      .map((v) => `sum(${v})`)
      .join(", ")}
    from ${COUNTS} r group by ${keyOf("r").join(", ")}`);

  // The company filter's open-jobs card: that company's open jobs only, not every open job's row
  // read to check its company (5,000 jobs at 1,000,000 applications).
  await db.schema
    .createIndex("jobs_company_open_idx")
    .on("jobs")
    .columns(["company", "status", "apply_by"])
    .execute();

  if (pg) {
    // Statement-level triggers with transition tables, as in 2026-12-03b: one statement of 500
    // applications (the seed) updates each summary row once; row-level ones made that seed 30x
    // slower. A trigger with transition tables has one event, hence one per event.
    await run(`create function company_summary_counts() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then ${removeShares("old_rows")}; end if;
        if tg_op <> 'DELETE' then ${addShares("new_rows")}; end if;
        return null;
      end $$`);
    await run(`create function company_counts_application() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${applyDeltas(applicationDeltas("new_rows", 1), false)};
        elsif tg_op = 'DELETE' then ${applyDeltas(applicationDeltas("old_rows", -1), true)};
        else ${applyDeltas(
          `select * from (${applicationDeltas("old_rows", -1)}) o
            union all select * from (${applicationDeltas("new_rows", 1)}) n`,
          true,
        )};
        end if;
        return null;
      end $$`);
    // Only a change of group or approval is copied; the counters' own updates (every
    // application moves them) join to nothing here.
    await run(`create function company_counts_student() returns trigger language plpgsql as $$
      begin
        update ${COUNTS} c set department = n.department, graduation_year = n.graduation_year,
            semester = coalesce(n.semester, 0),
            approved = case when n.approved_at is not null then 1 else 0 end
          from new_rows n join old_rows o on o.id = n.id
          where c.student_id = n.id and (o.department <> n.department
            or o.graduation_year <> n.graduation_year or o.semester is distinct from n.semester
            or (o.approved_at is null) <> (n.approved_at is null));
        return null;
      end $$`);
    const moved = "from old_rows o join new_rows n on n.id = o.id and n.company <> o.company";
    // Most job updates (closing, alert counts) keep the company: nothing to move, no statement run.
    await run(`create function company_counts_job_company() returns trigger language plpgsql as $$
      begin
        if not exists (select 1 ${moved}) then return null; end if;
        ${applyDeltas(
          `select o.company, a.student_id, -1 as n, -${isSelected("a")} as sel
             ${moved} join applications a on a.job_id = o.id
           union all
           select n.company, a.student_id, 1 as n, ${isSelected("a")} as sel
             ${moved} join applications a on a.job_id = n.id`,
          true,
        )};
        return null;
      end $$`);
    // Row-level and BEFORE: the job's company must be read while the job is still there (its
    // applications go by cascade after it). Jobs are deleted a few at a time.
    await run(`create function company_counts_job_delete() returns trigger language plpgsql as $$
      begin
        ${applyDeltas(
          `select old.company, a.student_id, -1 as n, -${isSelected("a")} as sel
           from applications a where a.job_id = old.id`,
          true,
        )};
        return old;
      end $$`);

    for (const [table, fn] of [
      [COUNTS, "company_summary_counts"],
      ["applications", "company_counts_application"],
    ] as const) {
      await run(`create trigger ${table}_company_insert after insert on ${table}
        referencing new table as new_rows for each statement execute function ${fn}()`);
      await run(`create trigger ${table}_company_delete after delete on ${table}
        referencing old table as old_rows for each statement execute function ${fn}()`);
      await run(`create trigger ${table}_company_update after update on ${table}
        referencing old table as old_rows new table as new_rows
        for each statement execute function ${fn}()`);
    }
    await run(`create trigger students_company_update after update on students
      referencing old table as old_rows new table as new_rows
      for each statement execute function company_counts_student()`);
    await run(`create trigger jobs_company_update after update on jobs
      referencing old table as old_rows new table as new_rows
      for each statement execute function company_counts_job_company()`);
    await run(`create trigger jobs_company_delete before delete on jobs
      for each row execute function company_counts_job_delete()`);
  } else {
    await run(`create trigger ${COUNTS}_insert after insert on ${COUNTS}
      begin ${addShare("new")}; end`);
    await run(`create trigger ${COUNTS}_delete after delete on ${COUNTS}
      begin ${removeShare("old")}; end`);
    await run(`create trigger ${COUNTS}_update after update on ${COUNTS}
      begin ${removeShare("old")}; ${addShare("new")}; end`);
    await run(`create trigger applications_company_insert after insert on applications
      begin ${countApplication("new")}; end`);
    await run(`create trigger applications_company_delete after delete on applications
      begin ${uncountApplication("old").join("; ")}; end`);
    await run(`create trigger applications_company_update
      after update of status, student_id, job_id on applications when ${APPLICATION_MOVES}
      begin ${uncountApplication("old").join("; ")}; ${countApplication("new")}; end`);
    await run(`create trigger students_company_update
      after update of department, graduation_year, semester, approved_at on students
      when ${STUDENT_MOVES}
      begin
        update ${COUNTS} set department = new.department, graduation_year = new.graduation_year,
          semester = coalesce(new.semester, 0),
          approved = case when new.approved_at is not null then 1 else 0 end
        where student_id = new.id;
      end`);
    await run(`create trigger jobs_company_update after update of company on jobs
      when old.company <> new.company
      begin ${uncountJob("old.id", "old.company").join("; ")}; ${countJob("new.id", "new.company")}; end`);
    // BEFORE: the cascade deletes the applications after the job, when its company is gone.
    await run(`create trigger jobs_company_delete before delete on jobs
      begin ${uncountJob("old.id", "old.company").join("; ")}; end`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  if (pg) {
    for (const table of [COUNTS, "applications"])
      for (const event of ["insert", "delete", "update"])
        await run(`drop trigger ${table}_company_${event} on ${table}`);
    await run("drop trigger students_company_update on students");
    await run("drop trigger jobs_company_update on jobs");
    await run("drop trigger jobs_company_delete on jobs");
    for (const fn of [
      "company_summary_counts",
      "company_counts_application",
      "company_counts_student",
      "company_counts_job_company",
      "company_counts_job_delete",
    ])
      await run(`drop function ${fn}()`);
  } else {
    for (const trigger of [
      "jobs_company_delete",
      "jobs_company_update",
      "students_company_update",
      "applications_company_update",
      "applications_company_delete",
      "applications_company_insert",
      `${COUNTS}_update`,
      `${COUNTS}_delete`,
      `${COUNTS}_insert`,
    ])
      await run(`drop trigger ${trigger}`);
  }
  await db.schema.dropIndex("jobs_company_open_idx").execute();
  await db.schema.dropTable(SUMMARY).execute();
  await db.schema.dropTable(COUNTS).execute();
}
