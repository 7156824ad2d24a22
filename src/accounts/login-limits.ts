import type { AppContext } from "../context.ts";
import { checkLimit, type Limit, recordLimitEvent } from "../web/limits.ts";

/**
 * Failed logins are counted per address and per account, separately; successful ones never count.
 *
 * - An address with 50 failures in 15 minutes (over all accounts: password spraying) may not try
 *   again until the oldest leaves the window. Generous, because a campus NAT puts hundreds of
 *   people behind one address.
 * - An account with 10 failures in 15 minutes (from anywhere: a guess at one password) is closed
 *   only to the addresses that took part: an address that failed on it fewer than 3 times in the
 *   window may still try. So an attacker cannot lock the real user out from elsewhere, and the
 *   real user may even mistype twice; a distributed attacker gets at most 3 guesses per address
 *   per window, each costing an argon2 verification.
 *
 * Refused attempts check no password and are not recorded, so a refused address cannot extend its
 * own lock indefinitely but also learns nothing.
 */

export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOGIN_LIMITS = {
  perAddress: { max: 50, windowSeconds: LOGIN_WINDOW_SECONDS },
  perAccount: { max: 10, windowSeconds: LOGIN_WINDOW_SECONDS },
  perAccountFromAddress: { max: 3, windowSeconds: LOGIN_WINDOW_SECONDS },
} satisfies Record<string, Limit>;

type Ctx = Pick<AppContext, "db" | "clock">;

export type LoginRefusal = { limit: "address" | "account"; retryAt: Date } | null;

/** Whether this address may try a password for `account` (a normalised email) now. */
export async function loginRefusal(
  ctx: Ctx,
  account: string,
  address: string,
): Promise<LoginRefusal> {
  const byAddress = await checkLimit(ctx, "login_failure", { address }, LOGIN_LIMITS.perAddress);
  if (byAddress.limited) return { limit: "address", retryAt: byAddress.retryAt };
  const byAccount = await checkLimit(ctx, "login_failure", { account }, LOGIN_LIMITS.perAccount);
  if (!byAccount.limited) return null;
  const fromHere = await checkLimit(
    ctx,
    "login_failure",
    { account, address },
    LOGIN_LIMITS.perAccountFromAddress,
  );
  if (!fromHere.limited) return null;
  // Allowed again as soon as either count drops below its limit.
  const retryAt = Math.min(byAccount.retryAt.getTime(), fromHere.retryAt.getTime());
  return { limit: "account", retryAt: new Date(retryAt) };
}

export function recordLoginFailure(ctx: Ctx, account: string, address: string): Promise<void> {
  return recordLimitEvent(ctx, "login_failure", { account, address });
}
