/**
 * The eligibility part of a student's page load, in-process: the open-jobs snapshot filtered for
 * one student, and the dashboard's whole `jobsForStudent` call on SQLite, for the walk the portal
 * uses (`snapshotJobsForStudent`: every job's rules tested with `meetsRules`) and for the bit sets
 * it replaced (decision 017, "Update: back to one walk"; kept below only to be measured against).
 *
 *   npx tsx bench/eligibility.ts [--students 10000] [--jobs 500,5000] [--calls 20000]
 *
 * Each size is a fresh SQLite database seeded by `seedDemo` (10 applications per student; the seed
 * leaves about 85 % of the jobs open, half of those before their deadline: 500 jobs -> about 425 in
 * the snapshot, 5,000 -> about 4,244, the count at 100,000 students). Both versions run in the same
 * process over the same students in a shuffled order, alternated in blocks; every student's answer
 * is checked equal between them first (which also builds every bit set the timed calls use).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { buildApp } from "#src/app.ts";
import { loadConfig } from "#src/config.ts";
import { type AppContext, systemClock } from "#src/context.ts";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import type { ApplicationStatus, Student } from "#src/db/schema.ts";
import { openJobsSnapshot, type SnapshotJob } from "#src/jobs/open-jobs.ts";
import { jobsForStudent, snapshotJobsForStudent, withRules } from "#src/jobs/service.ts";
import {
  CHECKS,
  closedReasons,
  ineligibilityReasons,
  type StudentFacts,
} from "#src/placement/eligibility.ts";
import { seedDemo } from "#src/seed/demo.ts";
import { loginAs } from "#test/support/client.ts";

const { values } = parseArgs({
  options: {
    students: { type: "string", default: "10000" },
    jobs: { type: "string", default: "500,5000" },
    calls: { type: "string", default: "20000" },
    block: { type: "string", default: "1000" },
  },
});
const STUDENTS = Number(values.students);
const CALLS = Number(values.calls);
const BLOCK = Number(values.block);
const DASHBOARD_ROWS = 10; // as src/dashboard/routes.tsx
const LIST_ROWS = 50; // STUDENT_JOBS_PAGE_SIZE

// ---- The bit sets as they were (068df88 to this change), to measure against. ----

/** The one student fact each check of CHECKS reads, in CHECKS' order (`reads` on each check then). */
const READS: readonly (keyof StudentFacts)[] = [
  "department",
  "cgpa",
  "active_backlogs",
  "graduation_year",
  "semester",
];
assert.equal(READS.length, CHECKS.length);

class BitSetIndex {
  private readonly words: number;
  private readonly passing = new Map<string, Uint32Array>();
  constructor(private readonly jobs: readonly SnapshotJob[]) {
    this.words = Math.ceil(jobs.length / 32);
  }
  forStudent(student: StudentFacts): Uint32Array {
    const all = new Uint32Array(this.words).fill(0xffffffff);
    for (let c = 0; c < CHECKS.length; c++) {
      const check = CHECKS[c]!;
      const reads = READS[c]!;
      const key = `${reads}\u0000${String(student[reads])}`;
      let bits = this.passing.get(key);
      if (!bits) {
        bits = new Uint32Array(this.words);
        for (let j = 0; j < this.jobs.length; j++)
          if (!check.fails(this.jobs[j]!.rules, student)) bits[j >>> 5]! |= 1 << (j & 31);
        if (this.passing.size >= 4096) this.passing.clear();
        this.passing.set(key, bits);
      }
      for (let w = 0; w < this.words; w++) all[w]! &= bits[w]!;
    }
    return all;
  }
}
const hasBit = (bits: Uint32Array, j: number) => ((bits[j >>> 5]! >>> (j & 31)) & 1) === 1;
function countBitsFrom(bits: Uint32Array, from: number): number {
  let n = 0;
  for (let w = from >>> 5; w < bits.length; w++) {
    let v = bits[w]!;
    if (w === from >>> 5) v = (v & ~((1 << (from & 31)) - 1)) >>> 0;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  return n;
}
function firstOpenIndex(jobs: readonly SnapshotJob[], nowMs: number): number {
  let low = 0;
  let high = jobs.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (jobs[mid]!.applyByMs > nowMs) high = mid;
    else low = mid + 1;
  }
  return low;
}
interface BitSets {
  index: BitSetIndex;
  positions: Map<number, number>;
}
const bitSetsOf = new WeakMap<readonly SnapshotJob[], BitSets>();
function bitSetsFor(jobs: readonly SnapshotJob[]): BitSets {
  let sets = bitSetsOf.get(jobs);
  if (!sets) {
    sets = { index: new BitSetIndex(jobs), positions: new Map(jobs.map((job, j) => [job.id, j])) };
    bitSetsOf.set(jobs, sets);
  }
  return sets;
}

type Page = { page: SnapshotJob[]; total: number };
type Applied = ReadonlyMap<number, ApplicationStatus>;

function bitSetsPage(
  jobs: readonly SnapshotJob[],
  student: StudentFacts,
  applied: Applied,
  nowMs: number,
  eligibleOnly: boolean,
  offset: number,
  pageSize: number,
): Page {
  const { index, positions } = bitSetsFor(jobs);
  const open = firstOpenIndex(jobs, nowMs);
  const page: SnapshotJob[] = [];
  let total: number;
  if (eligibleOnly) {
    const eligible = index.forStudent(student);
    const taken = (job: SnapshotJob) => {
      const status = applied.get(job.id);
      return status !== undefined && status !== "withdrawn";
    };
    total = countBitsFrom(eligible, open);
    for (const [jobId, status] of applied) {
      const j = positions.get(jobId);
      if (j !== undefined && j >= open && hasBit(eligible, j) && status !== "withdrawn") total--;
    }
    let skipped = 0;
    for (let j = open; j < jobs.length && page.length < pageSize; j++) {
      if (!hasBit(eligible, j) || taken(jobs[j]!)) continue;
      if (skipped++ >= offset) page.push(jobs[j]!);
    }
  } else {
    total = jobs.length;
    const openCount = jobs.length - open;
    for (let i = offset; i < Math.min(total, offset + pageSize); i++)
      page.push(jobs[i < openCount ? open + i : i - openCount]!);
  }
  return { page, total };
}

/** The dashboard's `jobsForStudent` call as it was with the bit sets (same statements). */
async function bitSetsJobsForStudent(
  ctx: AppContext,
  student: Student,
  applied: Applied,
  pageSize: number,
) {
  const [s, snapshot, a] = await Promise.all([
    (async () => student)(),
    openJobsSnapshot(ctx, (jobs) => withRules(ctx, jobs)),
    applied,
  ]);
  const now = ctx.clock.now();
  const { page, total } = bitSetsPage(snapshot.jobs, s, a, now.getTime(), true, 0, pageSize);
  const rows = page.map(({ applyByMs: _, ...job }) => ({
    job,
    closed: closedReasons(job, now),
    reasons: ineligibilityReasons(job.rules, s),
    applied: a.get(job.id) ?? null,
  }));
  return {
    eligible: rows.filter((r) => r.closed.length === 0 && r.reasons.length === 0),
    others: rows.filter((r) => r.closed.length === 0 && r.reasons.length > 0),
    closed: rows.filter((r) => r.closed.length > 0),
    total,
  };
}

// ---- The walk the portal uses. ----

function walkPage(
  jobs: readonly SnapshotJob[],
  student: Student,
  applied: Applied,
  nowMs: number,
  eligibleOnly: boolean,
  offset: number,
  pageSize: number,
): Page {
  // Without a placement policy: the walk of the rules alone, as in decision 017.
  const listed = snapshotJobsForStudent(jobs, student, undefined, applied, nowMs, eligibleOnly);
  return { page: listed.slice(offset, offset + pageSize), total: listed.length };
}

// ---- Timing. ----

interface Stats {
  median: number;
  p99: number;
  /** CPU time (user + system, all threads: GC helpers too) per call, the median over blocks. */
  cpu: number;
}

function quantile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * Both versions, `CALLS` calls each, alternated in blocks of `BLOCK` (which goes first alternates
 * too), after one untimed block each. Wall time per call (median, p99), and CPU time per call
 * per block: the machine may be busy, and a call preempted half-way counts its wait in wall time.
 */
async function race(
  versions: Record<"walk" | "bit sets", (i: number) => unknown>,
): Promise<Record<string, Stats>> {
  const wall: Record<string, number[]> = { walk: [], "bit sets": [] };
  const cpu: Record<string, number[]> = { walk: [], "bit sets": [] };
  const names = Object.keys(versions) as (keyof typeof versions)[];
  let i = 0;
  for (let round = -1; round * BLOCK < CALLS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const fn = versions[name];
      const samples: number[] = [];
      const cpuStarted = process.cpuUsage();
      for (let k = 0; k < BLOCK; k++) {
        const started = process.hrtime.bigint();
        const out = fn(i + k);
        if (out instanceof Promise) await out;
        samples.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      const used = process.cpuUsage(cpuStarted);
      if (round < 0) continue;
      wall[name]!.push(...samples);
      cpu[name]!.push((used.user + used.system) / BLOCK);
    }
    i += BLOCK;
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        median: quantile(wall[name]!, 0.5),
        p99: quantile(wall[name]!, 0.99),
        cpu: quantile(cpu[name]!, 0.5),
      },
    ]),
  );
}

async function run(jobCount: number) {
  const dir = mkdtempSync(join(tmpdir(), "portal-bench-eligibility-"));
  const database = openDatabase(`file:${join(dir, "bench.db")}`);
  try {
    await migrateToLatest(database.db);
    const silent = pino({ level: "silent" });
    const config = loadConfig(
      { DATABASE_URL: `file:${join(dir, "bench.db")}`, DATA_DIR: dir, LOG_DIR: join(dir, "logs") },
      {},
    );
    const ctx: AppContext = {
      ...database,
      config,
      clock: systemClock,
      log: silent,
      smsLog: silent,
    };
    const seeded = await seedDemo(ctx, {
      students: STUDENTS,
      jobs: jobCount,
      applications: STUDENTS * 10,
      password: "demo-student",
    });
    const students = await ctx.db
      .selectFrom("students")
      .selectAll()
      .where("approved_at", "is not", null)
      .execute();
    const appliedOf = new Map<number, Map<number, ApplicationStatus>>();
    for (const a of await ctx.db
      .selectFrom("applications")
      .select(["student_id", "job_id", "status"])
      .execute()) {
      const map = appliedOf.get(a.student_id) ?? new Map<number, ApplicationStatus>();
      map.set(a.job_id, a.status);
      appliedOf.set(a.student_id, map);
    }
    const none = new Map<number, ApplicationStatus>();
    // A fixed shuffle: consecutive calls are different students, as page loads are.
    let seed = 17;
    for (let i = students.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [students[i], students[j]] = [students[j]!, students[i]!];
    }
    const who = (i: number) => students[i % students.length]!;
    const appliedFor = (s: Student) => appliedOf.get(s.id) ?? none;

    const snapshot = await openJobsSnapshot(ctx, (jobs) => withRules(ctx, jobs));
    const jobs = snapshot.jobs;
    const nowMs = Date.now();
    const open = jobs.filter((job) => job.applyByMs > nowMs).length;

    // Same answers, every student (the bit sets are all built here, before any timing).
    for (const s of students) {
      for (const [eligibleOnly, offset, size] of [
        [true, 0, DASHBOARD_ROWS],
        [true, 50, LIST_ROWS],
        [false, 0, LIST_ROWS],
        [false, 400, LIST_ROWS],
      ] as const) {
        const a = walkPage(jobs, s, appliedFor(s), nowMs, eligibleOnly, offset, size);
        const b = bitSetsPage(jobs, s, appliedFor(s), nowMs, eligibleOnly, offset, size);
        assert.deepEqual(
          { ids: a.page.map((j) => j.id), total: a.total },
          { ids: b.page.map((j) => j.id), total: b.total },
        );
      }
    }
    for (const s of students.slice(0, 2000)) {
      const options = { student: s, applied: appliedFor(s), pageSize: DASHBOARD_ROWS };
      assert.deepEqual(
        await jobsForStudent(ctx, s.id, { eligibleOnly: true, page: 1 }, options),
        await bitSetsJobsForStudent(ctx, s, appliedFor(s), DASHBOARD_ROWS),
      );
    }

    const results: Record<string, Record<string, Stats>> = {};
    results["filter: dashboard (eligible only, first 10)"] = await race({
      walk: (i) => walkPage(jobs, who(i), appliedFor(who(i)), nowMs, true, 0, DASHBOARD_ROWS),
      "bit sets": (i) =>
        bitSetsPage(jobs, who(i), appliedFor(who(i)), nowMs, true, 0, DASHBOARD_ROWS),
    });
    results["filter: job list (all, first 50)"] = await race({
      walk: (i) => walkPage(jobs, who(i), appliedFor(who(i)), nowMs, false, 0, LIST_ROWS),
      "bit sets": (i) => bitSetsPage(jobs, who(i), appliedFor(who(i)), nowMs, false, 0, LIST_ROWS),
    });
    results["jobsForStudent: dashboard, SQLite"] = await race({
      walk: (i) =>
        jobsForStudent(
          ctx,
          who(i).id,
          { eligibleOnly: true, page: 1 },
          { student: who(i), applied: appliedFor(who(i)), pageSize: DASHBOARD_ROWS },
        ),
      "bit sets": (i) => bitSetsJobsForStudent(ctx, who(i), appliedFor(who(i)), DASHBOARD_ROWS),
    });

    // The denominator, in the same process and conditions: a whole `/student` load through the app
    // (`app.inject`, a real session), one student, with the walk.
    const app = await buildApp(ctx, { sessionSecret: "bench-session-secret-0123456789abcdefghij" });
    const client = await loginAs(app, seeded.firstStudentEmail!, "demo-student");
    const page = async () => {
      const response = await client.get("/student");
      if (response.statusCode !== 200) throw new Error(`/student answered ${response.statusCode}`);
    };
    const pageSamples: number[] = [];
    const pageCpu: number[] = [];
    const PAGE_BLOCK = Math.max(1, Math.round(BLOCK / 10));
    for (let round = -1; round * PAGE_BLOCK < CALLS / 10; round++) {
      const samples: number[] = [];
      const cpuStarted = process.cpuUsage();
      for (let k = 0; k < PAGE_BLOCK; k++) {
        const started = process.hrtime.bigint();
        await page();
        samples.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      const used = process.cpuUsage(cpuStarted);
      if (round < 0) continue;
      pageSamples.push(...samples);
      pageCpu.push((used.user + used.system) / PAGE_BLOCK);
    }
    await app.close();
    const pageStats: Stats = {
      median: quantile(pageSamples, 0.5),
      p99: quantile(pageSamples, 0.99),
      cpu: quantile(pageCpu, 0.5),
    };

    console.log(
      `\n${seeded.students} students, ${seeded.jobs} jobs: ${jobs.length} in the snapshot, ${open} before their deadline; ${CALLS} calls per version and case (load ${loadavg()[0]!.toFixed(1)})`,
    );
    console.log("| per call, us | walk: median / p99 / CPU | bit sets: median / p99 / CPU |");
    console.log("| --- | --- | --- |");
    const f = (s: Stats) => `${s.median.toFixed(1)} / ${s.p99.toFixed(1)} / ${s.cpu.toFixed(1)}`;
    for (const [name, r] of Object.entries(results))
      console.log(`| ${name} | ${f(r.walk!)} | ${f(r["bit sets"]!)} |`);
    const whole = results["jobsForStudent: dashboard, SQLite"]!;
    const difference = whole.walk!.cpu - whole["bit sets"]!.cpu;
    console.log(
      `| \`GET /student\` (app.inject, walk; ${pageSamples.length} loads) | ${f(pageStats)} | - |`,
    );
    console.log(
      `\njobsForStudent, walk - bit sets: ${difference.toFixed(1)} us of CPU per /student load, ${((100 * difference) / pageStats.cpu).toFixed(1)} % of the page's ${pageStats.cpu.toFixed(0)} us`,
    );
  } finally {
    await database.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const jobs of values.jobs.split(",").map(Number)) await run(jobs);
