import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import {
  type BatchLimits,
  daysBefore,
  deleteInBatches,
  RETENTION_BATCHES,
} from "../db/retention.ts";
import type { DB } from "../db/schema.ts";

/** Entries made before `cutoff`, at most `rows` (audit_log_at_idx). */
export function oldAuditEntries(db: Kysely<DB>, cutoff: string, rows: number) {
  return db.selectFrom("audit_log").select("id").where("at", "<", cutoff).orderBy("at").limit(rows);
}

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
  return deleteInBatches(ctx.db, limits, (trx, rows) =>
    trx
      .deleteFrom("audit_log")
      .where("id", "in", oldAuditEntries(trx, daysBefore(ctx.clock.now(), days), rows)),
  );
}
