import type { AppContext } from "../context.ts";
import { type BatchLimits, daysBefore, inBatches, RETENTION_BATCHES } from "../db/retention.ts";
import { inTransaction } from "../db/transaction.ts";

/**
 * Audit entries older than AUDIT_RETENTION_DAYS are deleted (0 keeps them forever). They name
 * people, rejected students among them, with the office's reasons: kept as long as the office may
 * be asked about what it did (docs/decisions/029-retention.md), not longer.
 */
export async function pruneOldAuditEntries(
  ctx: Pick<AppContext, "db" | "clock" | "config">,
  limits: BatchLimits = RETENTION_BATCHES,
): Promise<number> {
  const days = ctx.config.AUDIT_RETENTION_DAYS;
  if (days === 0) return 0;
  return inBatches(limits, (rows) =>
    inTransaction(ctx.db, async (trx) => {
      const result = await trx
        .deleteFrom("audit_log")
        .where("id", "in", (eb) =>
          eb
            .selectFrom("audit_log")
            .select("id")
            // audit_log_at_idx
            .where("at", "<", daysBefore(ctx.clock.now(), days))
            .orderBy("at")
            .limit(rows),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    }),
  );
}
