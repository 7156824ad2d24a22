/**
 * Applying to a job whose deadline nudge is queued for 20,000 students (issue 23): each
 * application cancels the student's nudge in its own transaction. `npx tsx bench/nudge-apply.ts
 * [--students 20000] [--applies 300]` on SQLite (DATABASE_URL for PostgreSQL); prints the
 * statement's plan and the time of an application, median and p99.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { pino } from "pino";
import { upsertAdmin } from "../src/accounts/service.ts";
import { applyToJob } from "../src/applications/service.ts";
import { loadConfig } from "../src/config.ts";
import { type AppContext, systemClock } from "../src/context.ts";
import { openDatabase } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { createJob } from "../src/jobs/service.ts";
import { seedDemo } from "../src/seed/demo.ts";
import { percentile } from "./drill-lib.ts";

const { values } = parseArgs({
  options: {
    students: { type: "string", default: "20000" },
    applies: { type: "string", default: "300" },
  },
});
const students = Number(values.students);
const applies = Number(values.applies);
const dir = mkdtempSync(join(tmpdir(), "nudge-apply-"));
const url = process.env.DATABASE_URL ?? `file:${join(dir, "portal.db")}`;
const database = openDatabase(url);
const silent = pino({ level: "silent" });
const ctx: AppContext = {
  db: database.db,
  dialect: database.dialect,
  config: loadConfig({ DATABASE_URL: url, DATA_DIR: dir, SMS_QUIET_HOURS: "" }, {}),
  clock: systemClock,
  log: silent,
  smsLog: silent,
};
try {
  await migrateToLatest(database.db);
  // No offers or policies: every student is in the nudge's audience.
  await seedDemo(ctx, { students, jobs: 0, applications: 0, password: "bench", season: false });
  const now = new Date().toISOString();
  await sql`update students set sms_opted_out_at = null, approved_at = coalesce(approved_at, ${now})`.execute(
    database.db,
  );
  const admin = await upsertAdmin(ctx, "bench@college.test", "bench-password-1");
  const job = await createJob(
    ctx,
    { id: admin.id, email: "bench@college.test" },
    {
      company: "Infosys",
      title: "Systems Engineer",
      type: "placement",
      description: "",
      location: "",
      package_range: "",
      official_link: null,
      departments: [],
      graduation_years: [],
      semesters: [],
      min_cgpa: null,
      max_backlogs: null,
      apply_by: new Date(Date.now() + 3 * 86_400_000).toISOString(),
      nudge_hours: 24,
      send_sms: false,
      submission_id: null,
    },
  );
  process.stdout.write(`nudges queued: ${job.nudges}\n`);
  if (database.dialect === "sqlite") {
    const plan = await sql<{ detail: string }>`explain query plan
      update sms_messages set status = 'cancelled'
      where +reference = ${`job:${job.id}:nudge`} and student_id in (1) and status = 'queued'`.execute(
      database.db,
    );
    process.stdout.write(`plan: ${plan.rows.map((r) => r.detail).join("; ")}\n`);
  }
  const ids = (
    await database.db
      .selectFrom("students")
      .select("id")
      .where("approved_at", "is not", null)
      .orderBy("id")
      .limit(applies)
      .execute()
  ).map((s) => s.id);
  const times: number[] = [];
  for (const id of ids) {
    const t0 = performance.now();
    const result = await applyToJob(ctx, id, job.id);
    times.push(performance.now() - t0);
    if (!result.ok) throw new Error(result.message);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `${database.dialect}, ${students} students, ${applies} applications: median ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms\n`,
  );
} finally {
  await database.destroy();
  rmSync(dir, { recursive: true, force: true });
}
