import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead. (The body it replaces, of 2026-12-07a, is copied for down().)

/**
 * Issue 22: a bulk move into Selected updates each moved student's counters, and every
 * `UPDATE students` fires `company_counts_student`, which looked for students whose group or
 * approval changed by joining the statement's old and new rows on id. PostgreSQL plans transition
 * tables at one row each, so that join ran as a nested loop: 296 x 296 = 87,616 comparisons,
 * 27 ms of a 78 ms move of 300 (auto_explain, bench/README.md), and quadratic in the move's size,
 * though no group changes in a move at all.
 *
 * Now the students whose share of the company counts moved are the new rows EXCEPT the old ones,
 * compared as the counts store them (group, semester as `coalesce(semester, 0)`, approval): a
 * hashed set operation, linear, and empty when only counters changed. Their rows are locked in
 * key order first, as 2026-12-07a did, then updated from the new values the set carries.
 */

const COUNTS = "company_student_counts";

/** The students of the statement whose share moved, with their new group: (id, d, y, s, a). */
const MOVED = `select id, department, graduation_year, coalesce(semester, 0) as semester,
      case when approved_at is not null then 1 else 0 end as approved from new_rows
    except
    select id, department, graduation_year, coalesce(semester, 0),
      case when approved_at is not null then 1 else 0 end from old_rows`;

const WITHOUT_A_JOIN = `begin
      perform 1 from ${COUNTS} c join (${MOVED}) m on c.student_id = m.id
        order by c.student_id, c.company for update of c;
      if not found then return null; end if;
      update ${COUNTS} c set department = m.department, graduation_year = m.graduation_year,
          semester = m.semester, approved = m.approved
        from (${MOVED}) m
        where c.student_id = m.id;
      return null;
    end`;

// 2026-12-07a's body, as it shipped.
const JOINED = `begin
      perform 1 from ${COUNTS} c join new_rows n on c.student_id = n.id
         join old_rows o on o.id = n.id
         where (o.department <> n.department or o.graduation_year <> n.graduation_year
           or o.semester is distinct from n.semester
           or (o.approved_at is null) <> (n.approved_at is null))
         order by c.student_id, c.company for update of c;
      update ${COUNTS} c set department = n.department, graduation_year = n.graduation_year,
          semester = coalesce(n.semester, 0),
          approved = case when n.approved_at is not null then 1 else 0 end
        from new_rows n join old_rows o on o.id = n.id
    where c.student_id = n.id and (o.department <> n.department
      or o.graduation_year <> n.graduation_year or o.semester is distinct from n.semester
      or (o.approved_at is null) <> (n.approved_at is null));
      return null;
    end`;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
async function replace(db: Kysely<any>, body: string): Promise<void> {
  // SQLite's row triggers compare old and new of one row: nothing to change there.
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql
    .raw(`create or replace function company_counts_student() returns trigger
      language plpgsql as $$ ${body} $$`)
    .execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  await replace(db, WITHOUT_A_JOIN);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await replace(db, JOINED);
}
