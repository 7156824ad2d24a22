import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import {
  type BatchLimits,
  daysBefore,
  deleteInBatches,
  RETENTION_BATCHES,
} from "../db/retention.ts";
import type { DB } from "../db/schema.ts";
import { REJECTION_KEPT_DAYS } from "./rejected-registrations.ts";

/**
 * A spent reset code (used or expired; a used one expires minutes after it was made) is kept a
 * day after its expiry, then deleted. Nothing reads it once it expired (the limits count their own
 * events, the audit log tells who asked); the day is room for the clocks of several processes.
 */
export const SPENT_CODE_KEPT_DAYS = 1;

type Ctx = Pick<AppContext, "db" | "clock">;

/** Codes that expired before `cutoff`, at most `rows` (password_reset_codes_expires_idx). */
export function spentResetCodes(db: Kysely<DB>, cutoff: string, rows: number) {
  return db
    .selectFrom("password_reset_codes")
    .select("id")
    .where("expires_at", "<", cutoff)
    .orderBy("expires_at")
    .limit(rows);
}

/** Rejections made before `cutoff`, at most `rows` (rejected_registrations_rejected_at_idx). */
export function oldRejections(db: Kysely<DB>, cutoff: string, rows: number) {
  return db
    .selectFrom("rejected_registrations")
    .select("email_sha256")
    .where("rejected_at", "<", cutoff)
    .orderBy("rejected_at")
    .limit(rows);
}

export async function pruneSpentResetCodes(
  ctx: Ctx,
  limits: BatchLimits = RETENTION_BATCHES,
): Promise<number> {
  return deleteInBatches(ctx.db, limits, (trx, rows) =>
    trx
      .deleteFrom("password_reset_codes")
      .where(
        "id",
        "in",
        spentResetCodes(trx, daysBefore(ctx.clock.now(), SPENT_CODE_KEPT_DAYS), rows),
      ),
  );
}

/**
 * Rejections older than REJECTION_KEPT_DAYS: ignored by login already, and pruned at each new
 * rejection; deleted here too, so that they go even when no registration is rejected any more.
 */
export async function pruneOldRejections(
  ctx: Ctx,
  limits: BatchLimits = RETENTION_BATCHES,
): Promise<number> {
  return deleteInBatches(ctx.db, limits, (trx, rows) =>
    trx
      .deleteFrom("rejected_registrations")
      .where(
        "email_sha256",
        "in",
        oldRejections(trx, daysBefore(ctx.clock.now(), REJECTION_KEPT_DAYS), rows),
      ),
  );
}
