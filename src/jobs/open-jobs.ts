import type { AppContext } from "../context.ts";
import { preparedRead } from "../db/prepared.ts";
import type { Job } from "../db/schema.ts";
import type { EligibilityRules } from "../placement/eligibility.ts";
import { packageLakhs } from "./package.ts";

/** A job as the open-jobs snapshot holds it: its rules, and its deadline and package parsed once. */
export interface SnapshotJob extends Job {
  rules: EligibilityRules;
  applyByMs: number;
  /** The top of its package in lakhs a year, null when the text has no figure (package.ts). */
  packageLakhs: number | null;
}

export interface OpenJobsSnapshot {
  version: string;
  /** Every job whose status is open (deadline passed or not), soonest deadline first, then id. */
  jobs: readonly SnapshotJob[];
}

/**
 * Every web process keeps the open jobs and their eligibility lists in memory: a student's
 * dashboard and job list otherwise test every open job's rules in SQL on each load, a cost that
 * grows with the jobs. Each use checks `data_versions.jobs` (student pages read it with the
 * session, `SessionUser.openJobsVersion`; other callers here), which triggers bump in the
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

async function currentJobsVersion(ctx: Pick<AppContext, "db">): Promise<string> {
  const [row] = await jobsVersion(ctx.db, {});
  if (!row) throw new Error('data_versions has no "jobs" row (migrations not run?)');
  return String(row.version);
}

/**
 * `knownVersion`: the version the caller read earlier in this request (with the session), so the
 * snapshot is as new as the request's start, without a statement of its own.
 */
export async function openJobsSnapshot(
  ctx: Pick<AppContext, "db">,
  loadRules: (jobs: Job[]) => Promise<(Job & { rules: EligibilityRules })[]>,
  knownVersion?: string | null,
): Promise<OpenJobsSnapshot> {
  const version = knownVersion ?? (await currentJobsVersion(ctx));
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
      packageLakhs: packageLakhs(job.package_range),
    }));
    withRules.sort((a, b) => a.applyByMs - b.applyByMs || a.id - b.id);
    const snapshot: OpenJobsSnapshot = { version, jobs: withRules };
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
