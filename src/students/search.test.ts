// @both-databases: student search is FTS5 on SQLite and pg_trgm on PostgreSQL.
import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdmin, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { seedDemo } from "../seed/demo.ts";
import {
  listStudents,
  plainStudentSearch,
  SEARCH_COUNT_LIMIT,
  STUDENTS_PAGE_SIZE,
  studentSearch,
} from "./student-list.ts";

/**
 * The admin student search reads trigram indexes (migration 2026-12-03f): on each database it
 * must find exactly the students the plain case-insensitive LIKE over every row finds, whatever
 * the names, roll numbers, emails and searches hold: LIKE's own `%` `_` `\`, quotes (FTS5 query
 * syntax), letters whose case only Unicode folds (SQLite's LIKE folds ASCII only), ligatures,
 * Indic letters, emoji. Rows are written by hand in SQL, inserted, edited and deleted, so the
 * index is kept by the database whoever writes, not by a service.
 */

const SEED = Number(process.env.SEARCH_SEED ?? 20261203);
const RUNS = Number(process.env.SEARCH_RUNS ?? 40);

// Few symbols, so random searches often hit; each stands for a way an index could disagree.
const UNITS = [
  ..."aAbBkK", // ASCII case
  ..."éÉöÖßẞıİ\u212A", // case folded by Unicode only (Kelvin sign folds to k)
  ..."%_\\", // LIKE's wildcards and escape, literal in a search
  ...`"'*^:()-+`, // FTS5 query syntax
  ..." @.",
  "ﬀ",
  "अ",
  "्",
  "😀",
];
const text = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...UNITS), minLength: min, maxLength: max });

const student = fc.record({ name: text(0, 12), roll: text(1, 8), email: text(1, 10) });
const world = fc.record({
  students: fc.uniqueArray(student, {
    minLength: 1,
    maxLength: 10,
    // Roll numbers and emails are unique columns.
    selector: (s) => s.roll,
  }),
  edits: fc.array(
    fc.record({
      pick: fc.nat(),
      kind: fc.constantFrom("name", "roll", "email", "delete"),
      value: text(1, 10),
    }),
    { maxLength: 4 },
  ),
  searches: fc.array(
    fc.oneof(
      { arbitrary: text(1, 5), weight: 1 },
      // A piece of a stored value, its case changed: what an admin types.
      {
        arbitrary: fc.record({
          pick: fc.nat(),
          column: fc.constantFrom("name", "roll", "email"),
          flip: fc.boolean(),
          from: fc.nat(6),
          len: fc.integer({ min: 3, max: 6 }),
        }),
        weight: 3,
      },
    ),
    { minLength: 1, maxLength: 8 },
  ),
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function ids(build: typeof studentSearch, q: string): Promise<number[]> {
  const rows = await t.ctx.db
    .selectFrom("students")
    .select("students.id")
    .where((eb) => build(t.ctx, eb, q))
    .orderBy("students.id")
    .execute();
  return rows.map((r) => r.id);
}

const flipCase = (s: string) =>
  [...s].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join("");

describe("the admin student search", () => {
  it("finds exactly what the plain LIKE finds, for any names, roll numbers, emails and searches", async () => {
    let n = 0;
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(world, async ({ students, edits, searches }) => {
        // A fresh set each run; deleting users cascades to students (and their index rows).
        await t.ctx.db.deleteFrom("users").execute();
        const now = new Date().toISOString();
        const stored: Array<{ id: number; name: string; roll: string; email: string }> = [];
        for (const s of students) {
          n += 1;
          // Emails are unique too: the run's number keeps two equal ones apart.
          const email = `${s.email}${n}`;
          const user = await t.ctx.db
            .insertInto("users")
            .values({ email, password_hash: "x", role: "student", created_at: now })
            .returning("id")
            .executeTakeFirstOrThrow();
          const row = await t.ctx.db
            .insertInto("students")
            .values({
              user_id: user.id,
              full_name: s.name,
              roll_number: s.roll,
              phone_e164: "+919876543210",
              department: "CSE",
              semester: null,
              graduation_year: 2027,
              cgpa: 8,
              active_backlogs: 0,
              skills: "",
              created_at: now,
              updated_at: now,
            })
            .returning("id")
            .executeTakeFirstOrThrow();
          stored.push({ id: row.id, name: s.name, roll: s.roll, email });
        }
        for (const edit of edits) {
          const target = stored[edit.pick % stored.length];
          if (!target) continue;
          n += 1;
          if (edit.kind === "delete") {
            await t.ctx.db.deleteFrom("students").where("id", "=", target.id).execute();
            stored.splice(stored.indexOf(target), 1);
          } else if (edit.kind === "email") {
            target.email = `${edit.value}${n}`;
            await sql`update users set email = ${target.email}
              where id = (select user_id from students where id = ${target.id})`.execute(t.ctx.db);
          } else {
            const column = edit.kind === "name" ? "full_name" : "roll_number";
            const value = edit.kind === "name" ? edit.value : `${edit.value}${n}`;
            await t.ctx.db
              .updateTable("students")
              .set({ [column]: value })
              .where("id", "=", target.id)
              .execute();
            if (edit.kind === "name") target.name = value;
            else target.roll = value;
          }
        }
        for (const search of searches) {
          let q: string;
          if (typeof search === "string") q = search;
          else {
            const s = stored[search.pick % Math.max(1, stored.length)];
            const piece = [...(s?.[search.column] ?? "")]
              .slice(search.from, search.from + search.len)
              .join("");
            q = search.flip ? flipCase(piece) : piece;
          }
          // The list trims the search, and an empty one is no search.
          q = q.trim();
          if (!q) continue;
          const expected = await ids(plainStudentSearch, q);
          // Hits of 3 characters or more: those SQLite answers from its trigram table.
          if (expected.length > 0 && [...q].length >= 3) hits += 1;
          expect(await ids(studentSearch, q), JSON.stringify({ q, stored })).toEqual(expected);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Searches must often find someone through the index, or equality with "none" proves little.
    expect(hits).toBeGreaterThan(RUNS);
  });

  it("is what the admin list shows, and sees edits of a name, a roll number and an email", async () => {
    await t.ctx.db.deleteFrom("users").execute();
    const now = new Date().toISOString();
    const user = await t.ctx.db
      .insertInto("users")
      .values({ email: "asha@college.test", password_hash: "x", role: "student", created_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    const { id } = await t.ctx.db
      .insertInto("students")
      .values({
        user_id: user.id,
        full_name: "Asha Rao",
        roll_number: "1XY22CS001",
        phone_e164: "+919876543210",
        department: "CSE",
        semester: null,
        graduation_year: 2027,
        cgpa: 8,
        active_backlogs: 0,
        skills: "",
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const found = async (q: string) =>
      (await listStudents(t.ctx, { status: "all", q, page: 1 })).rows.map((r) => r.id);
    expect(await found("a rA")).toEqual([id]);
    expect(await found("22cs")).toEqual([id]);
    expect(await found("ASHA@")).toEqual([id]);
    await t.ctx.db
      .updateTable("students")
      .set({ full_name: "Meera Iyer", roll_number: "4AB21EC777" })
      .where("id", "=", id)
      .execute();
    await t.ctx.db.updateTable("users").set({ email: "meera@college.test" }).execute();
    expect(await found("a rA")).toEqual([]);
    expect(await found("22cs")).toEqual([]);
    expect(await found("ASHA@")).toEqual([]);
    expect(await found("ra iy")).toEqual([id]);
    expect(await found("21ec7")).toEqual([id]);
    expect(await found("meera@")).toEqual([id]);
    expect((await listStudents(t.ctx, { status: "all", q: "ra iy", page: 1 })).total).toBe(1);
  });
});

describe("a search with more matches than it counts", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
    // 1,100 students whose emails all hold "demo.student"; "demo.student10" is 111 of them.
    await seedDemo(app.ctx, { students: 1100, jobs: 0, applications: 0, password: "demo-student" });
  });
  afterAll(async () => {
    await app.close();
  });

  it("stops counting at SEARCH_COUNT_LIMIT, says there are more and still pages on", async () => {
    const many = await listStudents(app.ctx, { status: "all", q: "demo.student", page: 1 });
    expect(many).toMatchObject({ total: SEARCH_COUNT_LIMIT, more: true });
    expect(many.rows).toHaveLength(STUDENTS_PAGE_SIZE);
    const some = await listStudents(app.ctx, { status: "all", q: "demo.student10", page: 1 });
    expect(some).toMatchObject({ total: 111, more: false });

    const admin = await createAdmin(app.ctx);
    const client = await loginAs(app.app, admin.email, admin.password);
    const first = (await client.get("/admin/students?status=all&q=demo.student")).body;
    expect(first).toContain("More than 1,000 students match; add to the search to narrow it.");
    expect(first).toContain("Page 1 of more than 40");
    expect(first).toMatch(/href="[^"]*page=2"[^>]*>Next/);
    // Past the counted pages, the rows are still there.
    const deep = (await client.get("/admin/students?status=all&q=demo.student&page=42")).body;
    expect(deep).toContain("Page 42 of more than 40");
    expect(deep.match(/<tr/g)?.length).toBeGreaterThan(STUDENTS_PAGE_SIZE);
    const exact = (await client.get("/admin/students?status=all&q=demo.student10")).body;
    expect(exact).toContain("111 students");
    expect(exact).toContain("Page 1 of 5");
  });
});
