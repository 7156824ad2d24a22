import type { AppContext } from "../context.ts";
import { preparedRead } from "../db/prepared.ts";
import type { Job } from "../db/schema.ts";
import { CHECKS, type EligibilityRules, type StudentFacts } from "../placement/eligibility.ts";

/** A job as the open-jobs snapshot holds it: its rules, and its deadline parsed once. */
export interface SnapshotJob extends Job {
  rules: EligibilityRules;
  applyByMs: number;
}

export interface OpenJobsSnapshot {
  version: string;
  /** Every job whose status is open (deadline passed or not), soonest deadline first, then id. */
  jobs: readonly SnapshotJob[];
  /** Which of `jobs` a student's facts meet the rules of (built from CHECKS, see below). */
  eligibility: EligibilityIndex;
  /** Each job's index in `jobs`, by id. */
  positions: ReadonlyMap<number, number>;
}

/**
 * The rules of every snapshot job as bit sets: for each check of CHECKS and each value of the one
 * fact it reads (a department, a CGPA, ...), the jobs that check lets through, computed once per
 * snapshot by that check's own `fails`. A student's eligible jobs are the AND of their five sets,
 * one 32-bit word per 32 jobs, instead of testing every job's rules in turn on each page load.
 */
export class EligibilityIndex {
  private readonly words: number;
  private readonly passing = new Map<string, Uint32Array>();

  constructor(private readonly jobs: readonly SnapshotJob[]) {
    this.words = Math.ceil(jobs.length / 32);
  }

  /** Bit j is set when `jobs[j]` takes a student with these facts (its rules, not its deadline). */
  forStudent(student: StudentFacts): Uint32Array {
    const all = new Uint32Array(this.words).fill(0xffffffff);
    for (const check of CHECKS) {
      const key = `${check.reads}\u0000${String(student[check.reads])}`;
      let bits = this.passing.get(key);
      if (!bits) {
        bits = new Uint32Array(this.words);
        for (let j = 0; j < this.jobs.length; j++)
          if (!check.fails(this.jobs[j]!.rules, student)) bits[j >>> 5]! |= 1 << (j & 31);
        // Bounded: a CGPA is one of about 500 values, the other facts of a few dozen.
        if (this.passing.size >= 4096) this.passing.clear();
        this.passing.set(key, bits);
      }
      for (let w = 0; w < this.words; w++) all[w]! &= bits[w]!;
    }
    return all;
  }
}

/** Whether bit `j` is set. */
export function hasBit(bits: Uint32Array, j: number): boolean {
  return ((bits[j >>> 5]! >>> (j & 31)) & 1) === 1;
}

/** How many bits are set from `from` on. */
export function countBitsFrom(bits: Uint32Array, from: number): number {
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

/** The first index whose deadline is after `nowMs` (jobs are soonest deadline first). */
export function firstOpenIndex(jobs: readonly SnapshotJob[], nowMs: number): number {
  let low = 0;
  let high = jobs.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (jobs[mid]!.applyByMs > nowMs) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * Every web process keeps the open jobs and their eligibility lists in memory: a student's
 * dashboard and job list otherwise test every open job's rules in SQL on each load, a cost that
 * grows with the jobs. Each use reads `data_versions.jobs`, which triggers bump in the
 * transaction of any change to the jobs or their rules (migration 2026-12-03d), and reloads on
 * a new number: a job posted, edited, closed or deleted through any process, on any machine, is
 * seen by the next page load everywhere. The version is read before the jobs, so a change that
 * lands between the two makes the next use reload again; a copy is never kept past its version.
 */
const snapshots = new WeakMap<object, OpenJobsSnapshot>();

/** Read on every use of the snapshot (compiled once: see db/prepared.ts). */
const jobsVersion = preparedRead((db) =>
  db.selectFrom("data_versions").select("version").where("name", "=", "jobs"),
);
const loading = new WeakMap<object, Promise<OpenJobsSnapshot>>();

export async function openJobsSnapshot(
  ctx: Pick<AppContext, "db">,
  loadRules: (jobs: Job[]) => Promise<(Job & { rules: EligibilityRules })[]>,
): Promise<OpenJobsSnapshot> {
  const [row] = await jobsVersion(ctx.db, {});
  if (!row) throw new Error('data_versions has no "jobs" row (migrations not run?)');
  const version = String(row.version);
  const cached = snapshots.get(ctx.db);
  if (cached?.version === version) return cached;
  // One load at a time per database: a burst of page loads after a change shares it.
  const pending = loading.get(ctx.db);
  if (pending) {
    const loaded = await pending;
    if (loaded.version === version) return loaded;
  }
  const load = (async () => {
    const jobs = await ctx.db.selectFrom("jobs").selectAll().where("status", "=", "open").execute();
    const withRules = (await loadRules(jobs)).map((job) => ({
      ...job,
      applyByMs: Date.parse(job.apply_by),
    }));
    withRules.sort((a, b) => a.applyByMs - b.applyByMs || a.id - b.id);
    const snapshot: OpenJobsSnapshot = {
      version,
      jobs: withRules,
      eligibility: new EligibilityIndex(withRules),
      positions: new Map(withRules.map((job, j) => [job.id, j])),
    };
    const current = snapshots.get(ctx.db);
    // A slower load of an older version never replaces a newer copy.
    if (!current || BigInt(current.version) <= BigInt(version)) snapshots.set(ctx.db, snapshot);
    return snapshot;
  })();
  loading.set(ctx.db, load);
  try {
    return await load;
  } finally {
    if (loading.get(ctx.db) === load) loading.delete(ctx.db);
  }
}
