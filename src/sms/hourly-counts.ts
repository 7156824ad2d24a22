import type { AppContext } from "../context.ts";
import { type DeltaFold, foldDeltas } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";

/**
 * `sms_count_deltas` folded into `sms_hourly_counts` (migration 2026-12-07b, decision 024): the
 * triggers on `sms_messages` only append deltas, so no writer of messages waits on another's
 * count row; the counts catch up here, and readers add what is not folded yet.
 */
export const HOURLY_COUNTS_FOLD: DeltaFold = {
  deltas: "sms_count_deltas",
  summary: "sms_hourly_counts",
  key: ["hour", "kind", "status"],
  value: "n",
};

/**
 * Folds the deltas committed so far into the hourly counts, in one short transaction of its own
 * (it locks only count rows, which no message writer touches). Any dispatcher may run it at any
 * time, several at once: each delta is added exactly once. Returns how many deltas it folded.
 */
export async function foldHourlyCounts(ctx: Pick<AppContext, "db" | "dialect">): Promise<number> {
  return inTransaction(ctx.db, (trx) => foldDeltas(trx, ctx.dialect, HOURLY_COUNTS_FOLD));
}
