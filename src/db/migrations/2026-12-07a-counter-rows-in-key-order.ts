import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead. (Helpers of 2026-12-03b and 2026-12-03e are copied, not
// imported: those files are frozen too, and this one must keep working whatever they become.)

/**
 * Issue 22, decision 023: two admins' bulk moves crossing the same students and groups in
 * opposite orders deadlocked on PostgreSQL. 2026-12-06e made the summary rows' writes take their
 * rows in key order; the rows written before them were still taken in whatever order the plan
 * walked:
 * - the application triggers' `UPDATE students` (each student's two counters): now every student
 *   row of the statement is locked first, in id order (`SELECT ... ORDER BY id FOR UPDATE`, whose
 *   lock step runs after the sort), then updated;
 * - the company triggers' upsert into `company_student_counts`: now in key order (student_id,
 *   company), and a student's group change locks that student's rows in the same order first.
 * Every statement trigger of a write thus takes its rows table by table (company counts, company
 * summary, students, placement summary), each table's rows in key order: two writers sharing rows
 * queue on the first one they share instead of each holding what the other waits for.
 *
 * SQLite (one writer at a time, no deadlock): the placement summary is rewritten only when a
 * student's share changed. Its trigger fired `AFTER UPDATE OF` the share's columns, and an update
 * naming one of them without changing it (the profile form keeps the semester with
 * `coalesce(semester, ...)`, an academic correction writes every academic column) rewrote the
 * summary row with the same numbers. Now a WHEN says whether the share moved. (PostgreSQL already
 * writes nothing for a zero net change since 2026-12-06e.)
 */

const COUNTS = "company_student_counts";
const COUNTS_COLUMNS =
  "student_id, company, department, graduation_year, semester, approved, applications, selected";
const addCounts = `applications = ${COUNTS}.applications + excluded.applications,
  selected = ${COUNTS}.selected + excluded.selected`;
const isSelected = (r: string) => `(case when ${r}.status = 'selected' then 1 else 0 end)`;

/** The student's group and approval as the counts rows copy them, from a students row `s`. */
function group(s: string): string {
  return `${s}.department, ${s}.graduation_year, coalesce(${s}.semester, 0),
    case when ${s}.approved_at is not null then 1 else 0 end`;
}

/**
 * Deltas (company, student_id, n, sel) added to the company counts, summed per key first; rows
 * at zero deleted after, when `negative` (2026-12-03e). `ordered`: the upsert takes its rows in
 * key order (up); without, as 2026-12-03e wrote it (down).
 */
function applyDeltas(deltas: string, negative: boolean, ordered: boolean): string {
  const upsert = `insert into ${COUNTS} (${COUNTS_COLUMNS})
    select d.student_id, d.company, ${group("s")}, d.n, d.sel
    from (select company, student_id, sum(n) as n, sum(sel) as sel from (${deltas}) x
          group by company, student_id having sum(n) <> 0 or sum(sel) <> 0) d
    join students s on s.id = d.student_id
    ${ordered ? "order by d.student_id, d.company" : ""}
    on conflict (student_id, company) do update set ${addCounts}`;
  if (!negative) return upsert;
  // The rows deleted are among those the upsert just took: no new lock, no order needed.
  return `${upsert};
    if found then
      delete from ${COUNTS} c using (select distinct company, student_id from (${deltas}) x) d
        where c.company = d.company and c.student_id = d.student_id and c.applications = 0;
    end if`;
}

function applicationDeltas(rows: string, sign: 1 | -1): string {
  return `select j.company, r.student_id, ${sign} as n, ${sign} * ${isSelected("r")} as sel
    from ${rows} r join jobs j on j.id = r.job_id`;
}

function companyCountsApplication(ordered: boolean): string {
  return `begin
      if tg_op = 'INSERT' then ${applyDeltas(applicationDeltas("new_rows", 1), false, ordered)};
      elsif tg_op = 'DELETE' then ${applyDeltas(applicationDeltas("old_rows", -1), true, ordered)};
      else ${applyDeltas(
        `select * from (${applicationDeltas("old_rows", -1)}) o
          union all select * from (${applicationDeltas("new_rows", 1)}) n`,
        true,
        ordered,
      )};
      end if;
      return null;
    end`;
}

function companyCountsStudent(ordered: boolean): string {
  const moved = `from new_rows n join old_rows o on o.id = n.id
    where c.student_id = n.id and (o.department <> n.department
      or o.graduation_year <> n.graduation_year or o.semester is distinct from n.semester
      or (o.approved_at is null) <> (n.approved_at is null))`;
  const lock = ordered
    ? `perform 1 from ${COUNTS} c join new_rows n on c.student_id = n.id
         join old_rows o on o.id = n.id
         where (o.department <> n.department or o.graduation_year <> n.graduation_year
           or o.semester is distinct from n.semester
           or (o.approved_at is null) <> (n.approved_at is null))
         order by c.student_id, c.company for update of c;`
    : "";
  return `begin
      ${lock}
      update ${COUNTS} c set department = n.department, graduation_year = n.graduation_year,
          semester = coalesce(n.semester, 0),
          approved = case when n.approved_at is not null then 1 else 0 end
        ${moved};
      return null;
    end`;
}

function companyCountsJobCompany(ordered: boolean): string {
  const moved = "from old_rows o join new_rows n on n.id = o.id and n.company <> o.company";
  return `begin
      if not exists (select 1 ${moved}) then return null; end if;
      ${applyDeltas(
        `select o.company, a.student_id, -1 as n, -${isSelected("a")} as sel
           ${moved} join applications a on a.job_id = o.id
         union all
         select n.company, a.student_id, 1 as n, ${isSelected("a")} as sel
           ${moved} join applications a on a.job_id = n.id`,
        true,
        ordered,
      )};
      return null;
    end`;
}

function companyCountsJobDelete(ordered: boolean): string {
  return `begin
      ${applyDeltas(
        `select old.company, a.student_id, -1 as n, -${isSelected("a")} as sel
         from applications a where a.job_id = old.id`,
        true,
        ordered,
      )};
      return old;
    end`;
}

/** Each application of a transition table as (student_id, n, sel), `sign` 1 or -1. */
function weights(rows: string, sign: 1 | -1): string {
  return `select student_id, ${sign} as n,
      ${sign} * (case when status = 'selected' then 1 else 0 end) as sel from ${rows}`;
}

/** Each student's counters move by the sums of their weights, once per statement. */
function countApplications(changes: string, ordered: boolean): string {
  const moving = `select student_id, sum(n) as n, sum(sel) as sel from (${changes}) c
    group by student_id having sum(n) <> 0 or sum(sel) <> 0`;
  // The lock step of a SELECT ... ORDER BY ... FOR UPDATE runs on the sorted rows: id order.
  const lock = ordered
    ? `perform 1 from students s where s.id in (select student_id from (${moving}) m)
         order by s.id for update;`
    : "";
  return `${lock}
    update students s set applications_count = s.applications_count + d.n,
      selected_count = s.selected_count + d.sel
    from (${moving}) d
    where s.id = d.student_id`;
}

function placementSummaryApplication(ordered: boolean): string {
  return `begin
      if tg_op = 'INSERT' then ${countApplications(weights("new_rows", 1), ordered)};
      elsif tg_op = 'DELETE' then ${countApplications(weights("old_rows", -1), ordered)};
      else ${countApplications(
        `${weights("old_rows", -1)} union all ${weights("new_rows", 1)}`,
        ordered,
      )};
      end if;
      return null;
    end`;
}

const FUNCTIONS: [name: string, body: (ordered: boolean) => string][] = [
  ["placement_summary_application", placementSummaryApplication],
  ["company_counts_application", companyCountsApplication],
  ["company_counts_student", companyCountsStudent],
  ["company_counts_job_company", companyCountsJobCompany],
  ["company_counts_job_delete", companyCountsJobDelete],
];

// SQLite: a student's share in placement_summary (2026-12-03b `share`) and what moves it.
const SHARE_COLUMNS =
  "department, graduation_year, semester, approved_at, applications_count, selected_count";
const SHARE_MOVES = `old.department <> new.department
  or old.graduation_year <> new.graduation_year or old.semester is not new.semester
  or (old.approved_at is null) <> (new.approved_at is null)
  or old.applications_count <> new.applications_count
  or (old.selected_count > 0) <> (new.selected_count > 0)`;

const SUMMARY_COLUMNS =
  "students, approved, applications, selected, approved_applied, approved_selected";

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

function studentsSummaryUpdate(when: boolean): string {
  return `create trigger students_summary_update after update of ${SHARE_COLUMNS} on students
    ${when ? `when ${SHARE_MOVES}` : ""}
    begin ${removeShare("old")}; ${addShare("new")}; end`;
}

/** `issue22`: the trigger bodies described above (up); without, the ones they replace (down). */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function replace(db: Kysely<any>, issue22: boolean): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    for (const [name, body] of FUNCTIONS)
      await sql
        .raw(`create or replace function ${name}() returns trigger language plpgsql as $$
          ${body(issue22)} $$`)
        .execute(db);
  } else {
    await sql.raw("drop trigger students_summary_update").execute(db);
    await sql.raw(studentsSummaryUpdate(issue22)).execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await replace(db, true);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await replace(db, false);
}
