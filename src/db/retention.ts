import type { DeleteResult, Kysely } from "kysely";
import type { DB } from "./schema.ts";
import { inTransaction } from "./transaction.ts";

/**
 * How the maintenance prunes old data (README, "What is kept, how long"): in batches of a few
 * hundred rows, each batch its own short transaction, a few batches a round. A round never holds
 * locks long, so requests and sends go on while years of rows are pruned; a backlog (the first
 * round after an upgrade) takes several rounds instead of one long one.
 */
export interface BatchLimits {
  /** Rows one statement changes at most. */
  rowsPerStatement: number;
  /** Statements one round runs at most, for each kind of data. */
  statementsPerRound: number;
}

export const RETENTION_BATCHES: BatchLimits = { rowsPerStatement: 500, statementsPerRound: 4 };

const DAY_MS = 24 * 3_600_000;

/** The moment `days` days before `now`, as stored (ISO). */
export function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}

/**
 * Runs `batch` (one statement's worth, returning how many rows it changed) until a batch comes
 * back short or the round's statements are spent; returns the rows changed in all.
 */
export async function inBatches(
  limits: BatchLimits,
  batch: (rows: number) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < limits.statementsPerRound; i++) {
    const done = await batch(limits.rowsPerStatement);
    total += done;
    if (done < limits.rowsPerStatement) break;
  }
  return total;
}

/**
 * Deletes in batches as `inBatches` runs them, each batch its own transaction: `remove` builds one
 * batch's DELETE (its rows chosen by a subquery limited to `rows`).
 */
export function deleteInBatches(
  db: Kysely<DB>,
  limits: BatchLimits,
  remove: (trx: Kysely<DB>, rows: number) => { executeTakeFirst(): Promise<DeleteResult> },
): Promise<number> {
  return inBatches(limits, (rows) =>
    inTransaction(db, async (trx) =>
      Number((await remove(trx, rows).executeTakeFirst()).numDeletedRows),
    ),
  );
}
