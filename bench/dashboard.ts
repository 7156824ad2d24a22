/**
 * The admin dashboard's service call, timed in-process on a database seeded beforehand:
 *   DATA_DIR=/tmp/d DATABASE_URL=file:/tmp/d/portal.db npx tsx src/cli/portal.ts seed --demo \
 *     --students 10000 --jobs 500 --applications 100000
 *   npx tsx bench/dashboard.ts --url file:/tmp/d/portal.db [--runs 30]
 * Opening the database applies any pending migration first (timed: the dashboard's backfill).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { openContext } from "#src/app-context.ts";
import { loadConfig } from "#src/config.ts";
import { adminDashboard, type DashboardFilters } from "#src/dashboard/service.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, runs: { type: "string", default: "30" } },
});
if (!values.url) throw new Error("--url DATABASE_URL is required");
const runs = Number(values.runs);
const dataDir = mkdtempSync(join(tmpdir(), "portal-bench-dashboard-"));
const config = loadConfig(
  { DATABASE_URL: values.url, DATA_DIR: dataDir, LOG_DIR: join(dataDir, "logs") },
  {},
);
const silent = pino({ level: "silent" });
const opening = performance.now();
const { ctx, database } = await openContext(config, { log: silent, smsLog: silent });
const openMs = performance.now() - opening;
try {
  const counts = await ctx.db
    .selectFrom("applications")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  console.log(
    `${ctx.dialect}: ${counts.n} applications; open + migrate ${openMs.toFixed(0)} ms (load: ${(await import("node:os")).loadavg()[0]!.toFixed(2)})`,
  );
  const cases: [string, DashboardFilters][] = [
    ["unfiltered", {}],
    ["department=CSE", { department: "CSE" }],
    [
      "department=CSE&year&semester",
      { department: "CSE", year: new Date().getUTCFullYear() + 1, semester: 6 },
    ],
    ["company=Infosys", { company: "Infosys" }],
    ["department=CSE&company=Infosys", { department: "CSE", company: "Infosys" }],
  ];
  const rows = [];
  for (const [name, filters] of cases) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await adminDashboard(ctx, filters);
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    const at = (p: number) =>
      samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!.toFixed(2);
    rows.push({ filters: name, p50ms: at(50), p95ms: at(95), maxms: samples.at(-1)!.toFixed(2) });
  }
  console.table(rows);
} finally {
  await database.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
