// @both-databases: query plans.
import { type Compilable, CompiledQuery, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import {
  DENSE_SEARCH_CANDIDATES,
  listStudents,
  type StudentFilters,
  searchIsDense,
  studentListQueries,
} from "./student-list.ts";

/**
 * The admin student search reads its trigram indexes (migration 2026-12-03f), not every student:
 * the FTS5 table on SQLite, pg_trgm's GIN indexes on PostgreSQL, for the page's ids and for the
 * count, on the lists a search is made from.
 */

const STUDENTS = 3000;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // Rows in the thousands, so that no plan is chosen for an empty table.
  const now = new Date().toISOString();
  for (let from = 0; from < STUDENTS; from += 500) {
    const n = Array.from({ length: 500 }, (_, i) => from + i);
    const users = await t.ctx.db
      .insertInto("users")
      .values(
        n.map((i) => ({
          email: `student${i}@college.test`,
          password_hash: "x",
          role: "student" as const,
          created_at: now,
        })),
      )
      .returning("id")
      .execute();
    await t.ctx.db
      .insertInto("students")
      .values(
        n.map((i, k) => ({
          user_id: users[k]!.id,
          full_name: `Student ${i} ${["Rao", "Iyer", "Khan", "Das"][i % 4]}`,
          roll_number: `1XY22CS${String(i).padStart(4, "0")}`,
          phone_e164: "+919876543210",
          department: "CSE",
          semester: null,
          graduation_year: 2027,
          cgpa: 8,
          active_backlogs: 0,
          skills: "",
          approved_at: i % 3 ? now : null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
  // VACUUM on PostgreSQL also moves the GIN indexes' pending entries into the index proper, as
  // autovacuum does on a live database: left pending, they are priced as a scan.
  await sql`${sql.raw(testDialect() === "postgres" ? "vacuum analyze" : "analyze")}`.execute(
    t.ctx.db,
  );
});
afterAll(async () => {
  await t.close();
});

/**
 * The query's plan. On PostgreSQL with sequential scans priced out: a few thousand rows are a
 * few pages, which the planner rightly reads whole; what this checks is that the query is written
 * so that every branch can use its index (an OR across the join to users could not, and would
 * still scan). The 100,000-student figures in bench/README.md show the planner choosing them.
 */
async function planOf(query: Compilable): Promise<string> {
  const compiled = query.compile();
  const explain = CompiledQuery.raw(
    `${testDialect() === "postgres" ? "explain (costs off)" : "explain query plan"} ${compiled.sql}`,
    [...compiled.parameters],
  );
  const rows =
    testDialect() === "postgres"
      ? await t.ctx.db.transaction().execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          return (await trx.executeQuery<Record<string, string>>(explain)).rows;
        })
      : (await t.ctx.db.executeQuery<Record<string, string>>(explain)).rows;
  return rows.map((r) => r.detail ?? r["QUERY PLAN"]).join(" | ");
}

// A rare search, as most are (a roll number, part of a name or an email), on each list.
const SEARCHES: StudentFilters[] = [
  { status: "all", q: "cs1234", page: 1 },
  { status: "approved", q: "zqx", page: 1 },
  { status: "pending", q: "Student 12", page: 1 },
  { status: "approved", q: "t2999@col", page: 1, sort: "cgpa", dir: "desc" },
];

describe("the admin student search's plan", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "on SQLite reads the FTS5 trigram table and looks each candidate up, never scanning students or users",
    async () => {
      for (const filters of SEARCHES) {
        const { pageIds, count } = studentListQueries(t.ctx, filters);
        for (const plan of [await planOf(pageIds), await planOf(count)]) {
          const what = `${JSON.stringify(filters)}: ${plan}`;
          expect(plan, what).toMatch(/SCAN students_search VIRTUAL TABLE INDEX 0:M/);
          // By primary key, or by an index in the list's order with the id in it.
          expect(plan, what).toMatch(/SEARCH students USING .*(rowid|id)=\?/);
          expect(plan, what).not.toMatch(/SCAN (students|users)( |$)/);
        }
      }
      // One or two characters give a trigram table nothing to match: the LIKE reads every row.
      const { count } = studentListQueries(t.ctx, { status: "all", q: "ra", page: 1 });
      expect(await planOf(count)).not.toMatch(/students_search/);
    },
  );

  it.skipIf(testDialect() !== "postgres")(
    "on PostgreSQL reads the three GIN trigram indexes, never scanning students or users",
    async () => {
      for (const filters of SEARCHES) {
        const { pageIds, count } = studentListQueries(t.ctx, filters);
        for (const plan of [await planOf(pageIds), await planOf(count)]) {
          const what = `${JSON.stringify(filters)}: ${plan}`;
          // At this size the planner may instead walk a list's own index (the queue's, the
          // approved students') and filter: only the whole list must take the bitmaps.
          const indexes =
            filters.status === "all"
              ? [
                  "students_full_name_trgm_idx",
                  "students_roll_number_trgm_idx",
                  "users_email_trgm_idx",
                ]
              : ["users_email_trgm_idx"];
          for (const index of indexes)
            expect(plan, what).toMatch(new RegExp(`Bitmap Index Scan on ${index}`));
          expect(plan, what).not.toMatch(/Seq Scan on (students|users)/);
        }
      }
    },
  );

  it.skipIf(testDialect() !== "sqlite")(
    "on SQLite walks the list in its order for a search with many candidates, instead of sorting them all",
    async () => {
      // "Student" is in all 3,000 names; "Rao" in 750, fewer than DENSE_SEARCH_CANDIDATES.
      expect(STUDENTS).toBeGreaterThanOrEqual(DENSE_SEARCH_CANDIDATES);
      expect(await searchIsDense(t.ctx, "Student")).toBe(true);
      expect(await searchIsDense(t.ctx, "Rao")).toBe(false);
      expect(await searchIsDense(t.ctx, "st")).toBe(false);
      for (const order of [
        {},
        { sort: "name", dir: "asc" },
        { sort: "cgpa", dir: "desc" },
      ] as const) {
        for (const status of ["approved", "all", "pending"] as const) {
          const filters: StudentFilters = { status, q: "Student", page: 2, ...order };
          const walked = studentListQueries(t.ctx, filters, { searchInListOrder: true });
          const plan = await planOf(walked.pageIds);
          const what = `${JSON.stringify(filters)}: ${plan}`;
          expect(plan, what).toMatch(/(SCAN|SEARCH) students USING (COVERING )?INDEX/);
          if (status !== "pending") expect(plan, what).not.toMatch(/TEMP B-TREE/);
          // Its count streams the candidates and stops at the cap: no list of all of them first.
          const countPlan = await planOf(walked.count);
          expect(countPlan, what).toMatch(
            /SCAN students_search VIRTUAL TABLE INDEX 0:M.*SEARCH students USING INTEGER PRIMARY KEY/,
          );
          expect(countPlan, what).not.toMatch(/LIST SUBQUERY/);
          // The same page as sorting every candidate.
          const sorted = studentListQueries(t.ctx, filters);
          expect(await walked.pageIds.execute(), what).toEqual(await sorted.pageIds.execute());
          const listed = await listStudents(t.ctx, filters);
          expect(
            listed.rows.map((r) => ({ id: r.id })),
            what,
          ).toEqual(await sorted.pageIds.execute());
        }
      }
    },
  );
});
