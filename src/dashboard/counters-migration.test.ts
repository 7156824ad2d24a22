// @both-databases: the counters' backfill per dialect.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { expect, it } from "vitest";
import { buildContext } from "#src/app-context.ts";
import { loadConfig } from "#src/config.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { migrations } from "#src/db/migrations/index.ts";
import { seedDemo } from "#src/seed/demo.ts";
import { createTestDatabase } from "#test/support/database.ts";

it("2026-12-03b backfills the students' counters and the placement summary from the rows already there", async () => {
  const database = await createTestDatabase({ empty: true });
  const dataDir = mkdtempSync(join(tmpdir(), "portal-data-"));
  try {
    const before = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => name < "2026-12-03b"),
    );
    await migrateToLatest(database.db, before);
    const config = loadConfig(
      { DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_DIR: join(dataDir, "logs") },
      {},
    );
    const silent = pino({ level: "silent" });
    const ctx = buildContext(config, database, { log: silent, smsLog: silent });
    // Written before the triggers exist: only the backfill can count these.
    await seedDemo(ctx, {
      students: 120,
      jobs: 8,
      applications: 400,
      password: "demo-student",
      rounds: false,
      season: false,
    });
    await ctx.db.updateTable("students").set({ semester: null }).where("id", "<=", 10).execute();

    expect(await migrateToLatest(database.db)).toContain("2026-12-03b-dashboard-counters");

    const wrong = await ctx.db
      .selectFrom("students")
      .select("id")
      .where((eb) =>
        eb.or([
          eb(
            "applications_count",
            "<>",
            eb
              .selectFrom("applications")
              .select((e) => e.fn.countAll<number>().as("n"))
              .whereRef("applications.student_id", "=", "students.id"),
          ),
          eb(
            "selected_count",
            "<>",
            eb
              .selectFrom("applications")
              .select((e) => e.fn.countAll<number>().as("n"))
              .whereRef("applications.student_id", "=", "students.id")
              .where("applications.status", "=", "selected"),
          ),
        ]),
      )
      .execute();
    expect(wrong).toEqual([]);

    const students = await ctx.db
      .selectFrom("students")
      .select(["id", "department", "graduation_year", "semester", "approved_at"])
      .execute();
    const applications = await ctx.db
      .selectFrom("applications")
      .select(["student_id", "status"])
      .execute();
    expect(applications.some((a) => a.status === "selected")).toBe(true);
    const expected = new Map<string, number[]>();
    for (const s of students) {
      const own = applications.filter((a) => a.student_id === s.id);
      const selected = own.some((a) => a.status === "selected");
      const approved = s.approved_at !== null;
      const key = `${s.department}/${s.graduation_year}/${s.semester ?? 0}`;
      const add = [
        1,
        +approved,
        own.length,
        +selected,
        +(approved && own.length > 0),
        +(approved && selected),
      ];
      expected.set(
        key,
        (expected.get(key) ?? [0, 0, 0, 0, 0, 0]).map((v, i) => v + add[i]!),
      );
    }
    const stored = await ctx.db.selectFrom("placement_summary").selectAll().execute();
    expect(
      Object.fromEntries(
        stored.map((r) => [
          `${r.department}/${r.graduation_year}/${r.semester}`,
          [
            r.students,
            r.approved,
            r.applications,
            r.selected,
            r.approved_applied,
            r.approved_selected,
          ].map(Number),
        ]),
      ),
    ).toEqual(Object.fromEntries(expected));
  } finally {
    await database.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it("2026-12-03e backfills the per-(student, company) counts and the company summary from the rows already there", async () => {
  const database = await createTestDatabase({ empty: true });
  const dataDir = mkdtempSync(join(tmpdir(), "portal-data-"));
  try {
    const before = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => name < "2026-12-03e"),
    );
    await migrateToLatest(database.db, before);
    const config = loadConfig(
      { DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_DIR: join(dataDir, "logs") },
      {},
    );
    const silent = pino({ level: "silent" });
    const ctx = buildContext(config, database, { log: silent, smsLog: silent });
    // Written before the company triggers exist: only the backfill can count these. 30 jobs
    // among the seed's 20 companies: some companies have several jobs, so a student's row adds
    // up more than one application.
    await seedDemo(ctx, {
      students: 120,
      jobs: 30,
      applications: 600,
      password: "demo-student",
      rounds: false,
      season: false,
    });
    await ctx.db.updateTable("students").set({ semester: null }).where("id", "<=", 10).execute();

    expect(await migrateToLatest(database.db)).toContain("2026-12-03e-dashboard-company-summary");

    const students = new Map(
      (
        await ctx.db
          .selectFrom("students")
          .select(["id", "department", "graduation_year", "semester", "approved_at"])
          .execute()
      ).map((s) => [s.id, s]),
    );
    const applications = await ctx.db
      .selectFrom("applications")
      .innerJoin("jobs", "jobs.id", "applications.job_id")
      .select(["applications.student_id", "applications.status", "jobs.company"])
      .execute();
    expect(applications.some((a) => a.status === "selected")).toBe(true);
    const counts = new Map<string, number[]>();
    for (const a of applications) {
      const key = `${a.student_id}/${a.company}`;
      const [n, sel] = counts.get(key) ?? [0, 0];
      counts.set(key, [n! + 1, sel! + +(a.status === "selected")]);
    }
    expect([...counts.values()].some(([n]) => n! > 1)).toBe(true);
    const summary = new Map<string, number[]>();
    for (const [key, [n, sel]] of counts) {
      const [studentId, company] = key.split("/");
      const s = students.get(Number(studentId))!;
      const approved = s.approved_at !== null;
      const group = `${company}/${s.department}/${s.graduation_year}/${s.semester ?? 0}`;
      const add = [n!, +(sel! > 0), +approved, +(approved && sel! > 0)];
      summary.set(
        group,
        (summary.get(group) ?? [0, 0, 0, 0]).map((v, i) => v + add[i]!),
      );
    }

    const storedCounts = await ctx.db.selectFrom("company_student_counts").selectAll().execute();
    expect(
      Object.fromEntries(
        storedCounts.map((r) => [
          `${r.student_id}/${r.company}`,
          [r.applications, r.selected].map(Number),
        ]),
      ),
    ).toEqual(Object.fromEntries(counts));
    const stored = await ctx.db.selectFrom("company_placement_summary").selectAll().execute();
    expect(
      Object.fromEntries(
        stored.map((r) => [
          `${r.company}/${r.department}/${r.graduation_year}/${r.semester}`,
          [r.applications, r.selected, r.approved_applied, r.approved_selected].map(Number),
        ]),
      ),
    ).toEqual(Object.fromEntries(summary));
  } finally {
    await database.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
