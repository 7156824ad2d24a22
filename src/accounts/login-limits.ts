import type { AppContext } from "../context.ts";
import { type Limit, type LimitTicket, takeLimit } from "../web/limits.ts";

/**
 * Password attempts are counted per address and per account, separately; successful ones are
 * taken back, so only wrong passwords stay counted.
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
 * The attempt is recorded before the password is checked (web/limits.ts), so a burst of attempts
 * sent together gets no more checks than the limits say. Refused attempts check no password and
 * are not kept, so a refused address cannot extend its own lock but also learns nothing.
 */

export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOGIN_LIMITS = {
  perAddress: { max: 50, windowSeconds: LOGIN_WINDOW_SECONDS },
  perAccount: { max: 10, windowSeconds: LOGIN_WINDOW_SECONDS },
  perAccountFromAddress: { max: 3, windowSeconds: LOGIN_WINDOW_SECONDS },
} satisfies Record<string, Limit>;

type Ctx = Pick<AppContext, "db" | "dialect" | "clock">;

/**
 * One password attempt at `account` (a normalised email) from this address: refused (say why and
 * until when), or allowed, to be released if the password turns out right.
 */
export function takeLoginAttempt(
  ctx: Ctx,
  account: string,
  address: string,
): Promise<LimitTicket<"address" | "account">> {
  return takeLimit(ctx, "login_failure", { account, address }, [
    { name: "address", match: { address }, limit: LOGIN_LIMITS.perAddress },
    {
      name: "account",
      anyOf: [
        { match: { account }, limit: LOGIN_LIMITS.perAccount },
        { match: { account, address }, limit: LOGIN_LIMITS.perAccountFromAddress },
      ],
    },
  ]);
}
