import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead. (The dialect is read from the adapter, as the first migrations
// do, rather than from src/db/dialect.ts: app code may change, this file may not.)

/**
 * Trigram indexes for the admin student search (`/admin/students?q=`, issue 10), which matches a
 * substring of a student's full name, roll number or account email, case-insensitively, and read
 * every student to do it (113 ms on SQLite, 420 ms on PostgreSQL at 100,000 students).
 * - PostgreSQL: pg_trgm's GIN indexes on the three columns. The planner answers `ilike '%x%'`
 *   from them itself and rechecks each candidate row, so results stay those of the plain ILIKE.
 *   (pg_trgm is a trusted extension since PostgreSQL 13: the database owner may create it.)
 * - SQLite: an FTS5 table with the trigram tokenizer, one row per student (rowid = students.id)
 *   holding the same three values, kept by triggers in the same transaction as every write to
 *   students and users (registration, profile edits, the seed, a cascade, hand-written SQL).
 *   Contentless (the values are in students and users already), with contentless_delete so a
 *   trigger can drop a row by rowid alone. Its trigram tokenizer folds case for all of Unicode,
 *   SQLite's LIKE for ASCII only, so the service rechecks its candidates with the same LIKE.
 */

const SQLITE_TRIGGERS = [
  "students_search_insert",
  "students_search_update",
  "students_search_delete",
  "students_search_email",
];

/** SQLite: the search row of every student `where` selects (`s` is students), from its tables. */
function insertRows(where: string): string {
  return `insert into students_search (rowid, full_name, roll_number, email)
    select s.id, s.full_name, s.roll_number, u.email
    from students s join users u on u.id = s.user_id where ${where}`;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);

  if (pg) {
    await run("create extension if not exists pg_trgm");
    for (const [table, column] of [
      ["students", "full_name"],
      ["students", "roll_number"],
      ["users", "email"],
    ] as const)
      await run(
        `create index ${table}_${column}_trgm_idx on ${table} using gin (${column} gin_trgm_ops)`,
      );
    return;
  }

  await run(`create virtual table students_search using fts5(
      full_name, roll_number, email,
      tokenize = 'trigram case_sensitive 0', content = '', contentless_delete = 1)`);
  // The migrator runs this in one transaction, and SQLite has one writer: no write can fall
  // between the backfill and the triggers.
  await run(insertRows("1 = 1"));
  await run(`create trigger students_search_insert after insert on students
    begin ${insertRows("s.id = new.id")}; end`);
  // Only the searched columns (and the account) change a row; an approval or a CGPA edit, none.
  await run(`create trigger students_search_update
    after update of full_name, roll_number, user_id on students
    when old.full_name is not new.full_name or old.roll_number is not new.roll_number
      or old.user_id is not new.user_id
    begin
      delete from students_search where rowid = old.id;
      ${insertRows("s.id = new.id")};
    end`);
  await run(`create trigger students_search_delete after delete on students
    begin delete from students_search where rowid = old.id; end`);
  await run(`create trigger students_search_email after update of email on users
    when old.email is not new.email
    begin
      delete from students_search where rowid in (select id from students where user_id = new.id);
      ${insertRows("s.user_id = new.id")};
    end`);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  if (pg) {
    // The extension stays: other databases' objects, or a later migration, may use it.
    for (const index of [
      "students_full_name_trgm_idx",
      "students_roll_number_trgm_idx",
      "users_email_trgm_idx",
    ])
      await run(`drop index if exists ${index}`);
    return;
  }
  for (const trigger of SQLITE_TRIGGERS) await run(`drop trigger if exists ${trigger}`);
  await run("drop table if exists students_search");
}
