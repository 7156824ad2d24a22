import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import {
  type BatchLimits,
  daysBefore,
  deleteInBatches,
  RETENTION_BATCHES,
} from "../db/retention.ts";
import type { DB } from "../db/schema.ts";

/**
 * A change of number that was confirmed, voided or left to expire holds the number asked for and
 * a code's hash: kept a day after its expiry (room for the clocks of several processes), then
 * deleted. Nothing reads it once it expired: only the newest change of a student can be
 * confirmed, and it must be live; the audit log tells what was asked (numbers masked).
 */
export const SPENT_PHONE_CHANGE_KEPT_DAYS = 1;

/** Changes that expired before `cutoff`, at most `rows` (phone_changes_expires_idx). */
export function spentPhoneChanges(db: Kysely<DB>, cutoff: string, rows: number) {
  return db
    .selectFrom("phone_changes")
    .select("id")
    .where("expires_at", "<", cutoff)
    .orderBy("expires_at")
    .limit(rows);
}

export async function pruneSpentPhoneChanges(
  ctx: Pick<AppContext, "db" | "clock">,
  limits: BatchLimits = RETENTION_BATCHES,
): Promise<number> {
  return deleteInBatches(ctx.db, limits, (trx, rows) =>
    trx
      .deleteFrom("phone_changes")
      .where(
        "id",
        "in",
        spentPhoneChanges(trx, daysBefore(ctx.clock.now(), SPENT_PHONE_CHANGE_KEPT_DAYS), rows),
      ),
  );
}
