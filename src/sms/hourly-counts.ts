import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import { type DeltaFold, foldDeltas } from "../db/dialect.ts";
import type { DB } from "../db/schema.ts";
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
 * The most deltas one SQLite fold transaction takes: every writer waits while it runs (SQLite has
 * one writer at a time), and a 95,000-message fan-out followed by a bulk cancel leaves 285,000.
 */
export const SQLITE_FOLD_CHUNK = 20_000;

/**
 * Folds the deltas committed so far into the hourly counts, in short transactions of its own (on
 * PostgreSQL one, which locks only count rows, which no message writer touches; on SQLite one per
 * `chunk` deltas, so writers get their turn in between). Any dispatcher may run it at any time,
 * several at once: each delta is added exactly once. Returns how many it folded.
 */
export async function foldHourlyCounts(
  ctx: Pick<AppContext, "db" | "dialect">,
  chunk = SQLITE_FOLD_CHUNK,
): Promise<number> {
  let total = 0;
  for (;;) {
    const folded = await inTransaction(ctx.db, (trx) =>
      foldDeltas(trx, ctx.dialect, HOURLY_COUNTS_FOLD, chunk),
    );
    total += folded;
    // Fewer than a chunk: nothing was left behind. (PostgreSQL takes every delta at once, so a
    // large fold there runs once more and finds what came since.)
    if (folded < chunk) return total;
  }
}

/**
 * The hourly counts as they are now, for a reader that sums them: the folded rows and the deltas
 * not folded yet, one row each (`select ... from liveHourlyCounts(db).as("live") group by ...`).
 */
export function liveHourlyCounts(db: Kysely<DB>) {
  return db
    .selectFrom("sms_hourly_counts")
    .select(["hour", "kind", "status", "n"])
    .unionAll(db.selectFrom("sms_count_deltas").select(["hour", "kind", "status", "n"]));
}
