import { type ExpressionBuilder, sql } from "kysely";
import { type DialectName, notByIndex } from "../db/dialect.ts";
import type { DB, Job } from "../db/schema.ts";

/**
 * What "open" means, everywhere a job is listed or counted: its status is open AND its apply-by
 * time is still ahead. A job past its deadline is closed to applications even while its status
 * still says open (nobody has to close it by hand). One rule, read in TypeScript and in SQL; a test
 * holds the two equal.
 */
export function isOpenForApplications(job: Pick<Job, "status" | "apply_by">, now: Date): boolean {
  return job.status === "open" && Date.parse(job.apply_by) > now.getTime();
}

/**
 * The same rule as a WHERE condition on `jobs`. With `walkOtherIndex` (the database's dialect),
 * written so that no index serves it (`notByIndex`): for a query that walks another index in its
 * order and tests each row.
 */
export function openForApplications(now: Date, walkOtherIndex?: DialectName) {
  const column = (name: "jobs.status" | "jobs.apply_by") =>
    walkOtherIndex ? notByIndex(walkOtherIndex, name) : sql.ref(name);
  return (eb: ExpressionBuilder<DB, "jobs">) =>
    eb.and([
      eb(column("jobs.status"), "=", "open"),
      eb(column("jobs.apply_by"), ">", now.toISOString()),
    ]);
}

/** Its negation: closed by an admin, or past the deadline. */
export function closedToApplications(now: Date) {
  return (eb: ExpressionBuilder<DB, "jobs">) =>
    eb.or([eb("jobs.status", "=", "closed"), eb("jobs.apply_by", "<=", now.toISOString())]);
}

/** The job's state in words, for badges: "Open", "Closed" or "Deadline passed". */
export function openStateLabel(job: Pick<Job, "status" | "apply_by">, now: Date): string {
  if (job.status === "closed") return "Closed";
  return isOpenForApplications(job, now) ? "Open" : "Deadline passed";
}
