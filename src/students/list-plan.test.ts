// @both-databases: query plans.
import { type Compilable, CompiledQuery } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import { listStudents, type StudentFilters, studentListQueries } from "./student-list.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function planOf(app: TestApp, query: Compilable): Promise<string> {
  const compiled = query.compile();
  const plan = await app.ctx.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
  );
  return plan.rows.map((r) => r.detail).join(" | ");
}

// Every order a header click can ask for, on the big lists (approved, all) and the queue.
const ORDERS: Array<Partial<StudentFilters>> = [
  {},
  { page: 40 },
  { sort: "name", dir: "asc" },
  { sort: "name", dir: "desc" },
  { sort: "department", dir: "asc" },
  { sort: "year", dir: "desc" },
  { sort: "cgpa", dir: "asc" },
  { sort: "cgpa", dir: "desc" },
  { sort: "roll", dir: "asc" },
  { sort: "approved", dir: "asc" },
  { sort: "registered", dir: "asc" },
];

describe("the admin student list's queries", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "read the page from an index in the list's order on SQLite: no sort of every match, no join to users",
    async () => {
      t = await createTestApp();
      for (const status of ["approved", "all", "pending"] as const) {
        for (const order of ORDERS) {
          const filters: StudentFilters = { status, page: 1, ...order };
          const { pageIds, count } = studentListQueries(t.ctx, filters);
          const page = await planOf(t, pageIds);
          const what = JSON.stringify(filters);
          expect(page, what).toMatch(/(SCAN|SEARCH) students USING (COVERING )?INDEX/);
          // The queue (pending, a few hundred at most) may sort its right part; the big lists not.
          if (status !== "pending") expect(page, what).not.toMatch(/TEMP B-TREE/);
          expect(page, what).not.toMatch(/users/);
          // The count reads the summary's few rows, not the students (it would walk 95,000 at 100k).
          expect(await planOf(t, count), what).toMatch(/placement_summary/);
          expect(await planOf(t, count), what).not.toMatch(/users|\bstudents\b/);
        }
      }
      // The approved list in its own order reads the partial index of approved students only.
      const { pageIds } = studentListQueries(t.ctx, { status: "approved", page: 3 });
      expect(await planOf(t, pageIds)).toMatch(/students_approved_created_idx/);
    },
  );

  it("pages through the approved list in the same order as one long sorted list", async () => {
    t = await createTestApp();
    const approved: number[] = [];
    for (let i = 0; i < 60; i++) {
      const s = await createStudent(t.ctx, { cgpa: 6 + (i % 7) / 2 });
      if (i % 4 !== 0) approved.push(s.id);
    }
    await t.ctx.db
      .updateTable("students")
      .set({ approved_at: new Date().toISOString() })
      .where("id", "in", approved)
      .execute();
    for (const order of [
      {},
      { sort: "cgpa", dir: "asc" },
      { sort: "cgpa", dir: "desc" },
    ] as const) {
      const seen: number[] = [];
      for (let page = 1; page <= 3; page++) {
        const list = await listStudents(t.ctx, { status: "approved", page, ...order });
        expect(list.total).toBe(45);
        seen.push(...list.rows.map((r) => r.id));
      }
      expect(seen).toHaveLength(45);
      expect(new Set(seen).size).toBe(45);
      const all = await t.ctx.db
        .selectFrom("students")
        .select(["id", "cgpa", "created_at"])
        .where("approved_at", "is not", null)
        .execute();
      const dir = "dir" in order && order.dir === "asc" ? 1 : -1;
      const expected = all
        .sort((a, b) =>
          "sort" in order
            ? dir * (a.cgpa - b.cgpa) ||
              -String(a.created_at).localeCompare(String(b.created_at)) ||
              dir * (a.id - b.id)
            : -String(a.created_at).localeCompare(String(b.created_at)) || b.id - a.id,
        )
        .map((r) => r.id);
      expect(seen, JSON.stringify(order)).toEqual(expected);
    }
  });

  it("counts the list from the summary as the rows would, through approvals, edits and deletions", async () => {
    t = await createTestApp();
    const ctx = t.ctx;
    const ids: number[] = [];
    for (let i = 0; i < 24; i++) {
      const s = await createStudent(ctx, {
        department: ["CSE", "ECE", "MECH"][i % 3],
        graduation_year: 2026 + (i % 2),
        approved: i % 4 !== 0,
      });
      ids.push(s.id);
    }
    // Writes straight to the table, as any code path would make them: the triggers keep up.
    await ctx.db
      .updateTable("students")
      .set({ department: "ECE" })
      .where("id", "=", ids[0]!)
      .execute();
    await ctx.db
      .updateTable("students")
      .set({ approved_at: null })
      .where("id", "=", ids[1]!)
      .execute();
    await ctx.db
      .updateTable("students")
      .set({ graduation_year: 2028, semester: 5 })
      .where("id", "=", ids[2]!)
      .execute();
    await ctx.db.deleteFrom("students").where("id", "=", ids[3]!).execute();
    for (const status of ["approved", "pending", "all"] as const) {
      for (const department of [undefined, "CSE", "ECE", "CIVIL"]) {
        for (const year of [undefined, 2026, 2028, 1999]) {
          let raw = ctx.db.selectFrom("students").select((eb) => eb.fn.countAll<number>().as("n"));
          if (status === "approved") raw = raw.where("approved_at", "is not", null);
          if (status === "pending") raw = raw.where("approved_at", "is", null);
          if (department) raw = raw.where("department", "=", department);
          if (year) raw = raw.where("graduation_year", "=", year);
          const expected = Number((await raw.executeTakeFirstOrThrow()).n);
          const list = await listStudents(ctx, { status, department, year, page: 1 });
          expect(list.total, JSON.stringify({ status, department, year })).toBe(expected);
          expect(list.rows.length).toBe(Math.min(expected, 25));
        }
      }
    }
  });
});
