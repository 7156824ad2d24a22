import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB } from "../db/schema.ts";

/**
 * A rejected registration is deleted (user, profile, resume), but its person must not be told
 * "Incorrect email or password" when they try to log in. For REJECTION_KEPT_DAYS the portal keeps,
 * per email, its SHA-256 (never the email), the account's argon2 password hash, the reason and
 * when. Login says "not approved" only when the password matches that hash, so the page tells
 * nothing to someone who only knows the email. Rows are pruned at each rejection, and ignored
 * once older; a new registration with the email drops its row.
 */
export const REJECTION_KEPT_DAYS = 180;

/** The email as kept: normalised as login and registration do (service.ts normaliseEmail). */
export function emailSha256(email: string): string {
  return createHash("sha256")
    .update(`placement-portal:${email.trim().toLowerCase()}`)
    .digest("hex");
}

function keptSince(now: Date): string {
  return new Date(now.getTime() - REJECTION_KEPT_DAYS * 24 * 3600 * 1000).toISOString();
}

/** Keeps a rejection (replacing an earlier one of the email), with the caller's transaction. */
export async function keepRejection(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock">,
  rejection: { email: string; passwordHash: string; reason: string | null },
): Promise<void> {
  const now = ctx.clock.now();
  const key = emailSha256(rejection.email);
  await trx
    .deleteFrom("rejected_registrations")
    .where((w) => w.or([w("email_sha256", "=", key), w("rejected_at", "<", keptSince(now))]))
    .execute();
  await trx
    .insertInto("rejected_registrations")
    .values({
      email_sha256: key,
      password_hash: rejection.passwordHash,
      reason: rejection.reason,
      rejected_at: now.toISOString(),
    })
    .execute();
}

/** The rejection kept for `email` within the retention period, if any. */
export async function findRejection(
  ctx: Pick<AppContext, "db" | "clock">,
  email: string,
): Promise<{ passwordHash: string; reason: string | null; rejectedAt: string } | undefined> {
  const row = await ctx.db
    .selectFrom("rejected_registrations")
    .select(["password_hash", "reason", "rejected_at"])
    .where("email_sha256", "=", emailSha256(email))
    .where("rejected_at", ">=", keptSince(ctx.clock.now()))
    .executeTakeFirst();
  return row
    ? { passwordHash: row.password_hash, reason: row.reason, rejectedAt: row.rejected_at }
    : undefined;
}

/** A new registration with the email: the earlier rejection is no longer its answer. */
export async function forgetRejection(trx: Kysely<DB>, email: string): Promise<void> {
  await trx
    .deleteFrom("rejected_registrations")
    .where("email_sha256", "=", emailSha256(email))
    .execute();
}
