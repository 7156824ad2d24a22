/**
 * What the placement policy costs a student's pages (decision 034): the job list, the "can apply
 * to" list and a job's page for a student holding an accepted offer under a tiered policy, against
 * the same pages for a student the policy cannot hold back, on the 10,000-student demo seed,
 * through the real app with a real session (`app.inject`). SQLite; `--postgres URL` for PostgreSQL.
 *
 *   npx tsx bench/policy-pages.ts [--postgres postgres://postgres@127.0.0.1:5432/test] [--runs 60]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { pino } from "pino";
import { buildApp } from "#src/app.ts";
import { loadConfig } from "#src/config.ts";
import { type AppContext, systemClock } from "#src/context.ts";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { seedDemo } from "#src/seed/demo.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";

const { values } = parseArgs({
  options: {
    postgres: { type: "string" },
    students: { type: "string", default: "10000" },
    runs: { type: "string", default: "60" },
  },
});
const RUNS = Number(values.runs);

async function database() {
  if (!values.postgres) {
    const dir = mkdtempSync(join(tmpdir(), "portal-bench-policy-"));
    return {
      url: `file:${join(dir, "bench.db")}`,
      drop: async () => rmSync(dir, { recursive: true }),
    };
  }
  const name = `portal_bench_policy_${process.pid}`;
  const admin = new pg.Client({ connectionString: values.postgres });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(values.postgres);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: values.postgres });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

async function time(client: TestClient, url: string) {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const response = await client.get(url);
    samples.push(performance.now() - started);
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) =>
    samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!.toFixed(1);
  return { p50: at(50), p95: at(95) };
}

const db = await database();
const dataDir = mkdtempSync(join(tmpdir(), "portal-bench-data-"));
const opened = openDatabase(db.url, { poolSize: 10 });
try {
  await migrateToLatest(opened.db);
  const silent = pino({ level: "silent" });
  const ctx: AppContext = {
    db: opened.db,
    dialect: opened.dialect,
    config: loadConfig(
      { DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_DIR: join(dataDir, "logs") },
      {},
    ),
    clock: systemClock,
    log: silent,
    smsLog: silent,
  };
  const students = Number(values.students);
  await seedDemo(ctx, {
    students,
    jobs: students / 20,
    applications: students * 10,
    password: "demo-student",
  });
  // Two approved students of one year: one placed (15 LPA accepted: Super dream, the tier of every
  // seeded job, whose packages top out at 13-24 LPA), one the policy cannot touch.
  const pair = await ctx.db
    .selectFrom("students")
    .innerJoin("users", "users.id", "students.user_id")
    .select(["students.id", "students.graduation_year", "users.email"])
    .where("students.approved_at", "is not", null)
    .where("students.graduation_year", "=", (eb) =>
      eb.selectFrom("students").select("graduation_year").where("id", "=", 1),
    )
    .orderBy("students.id", "desc")
    .limit(2)
    .execute();
  const [placed, free] = pair as [(typeof pair)[number], (typeof pair)[number]];
  const facts = (offers: number, best: number | null) => ({
    accepted_offers: offers,
    best_offer_lpa: best,
    accepted_ppos: 0,
    reneged_at: null,
    placement_opted_out_at: null,
  });
  await ctx.db.updateTable("students").set(facts(1, 15)).where("id", "=", placed.id).execute();
  await ctx.db.updateTable("students").set(facts(0, null)).where("id", "=", free.id).execute();
  await ctx.db
    .insertInto("placement_policies")
    .values({
      graduation_year: placed.graduation_year,
      max_accepted: 1,
      tiers: JSON.stringify([
        { name: "Regular", fromLpa: 0 },
        { name: "Dream", fromLpa: 6 },
        { name: "Super dream", fromLpa: 12 },
      ]),
      placed_may_apply: "higher_tier",
      package_multiple: null,
      block_on_decline: 1,
      ppo_in_campus: 0,
      updated_by: null,
      updated_at: new Date().toISOString(),
    })
    .onConflict((oc) => oc.column("graduation_year").doNothing())
    .execute();
  const app = await buildApp(ctx, { sessionSecret: "bench-session-secret-0123456789abcdefghij" });
  const job = await ctx.db
    .selectFrom("jobs")
    .select("id")
    .where("status", "=", "open")
    .where("apply_by", ">", new Date().toISOString())
    .executeTakeFirstOrThrow();
  const clients = {
    placed: await loginAs(app, placed.email, "demo-student"),
    free: await loginAs(app, free.email, "demo-student"),
  };
  console.log(`| page | not held back p50 / p95 | placed, tiered policy p50 / p95 |`);
  console.log(`| --- | --- | --- |`);
  for (const url of ["/student/jobs", "/student/jobs?eligible=1", `/student/jobs/${job.id}`]) {
    // Warm both once: the open-jobs snapshot and compiled statements.
    await clients.free.get(url);
    await clients.placed.get(url);
    const a = await time(clients.free, url);
    const b = await time(clients.placed, url);
    console.log(
      `| \`${url.replace(/\/\d+$/, "/:id")}\` | ${a.p50} / ${a.p95} | ${b.p50} / ${b.p95} |`,
    );
  }
  await app.close();
} finally {
  await opened.destroy();
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
