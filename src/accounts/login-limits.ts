import type { AppContext } from "../context.ts";
import { type LimitSetting, type LimitTicket, takeLimit } from "../web/limits.ts";

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
 *
 * These are the defaults; the office may change each on the limits page (web/limits.ts).
 */

export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOGIN_LIMITS = {
  perAddress: {
    name: "login.per_address",
    area: "Logins",
    title: "Failed logins from one address",
    about:
      "Wrong passwords from one address, over all accounts (password spraying). Then that address waits. Generous, because a campus network puts hundreds of people behind one address.",
    default: { max: 50, windowSeconds: LOGIN_WINDOW_SECONDS },
  },
  perAccount: {
    name: "login.per_account",
    area: "Logins",
    title: "Failed logins on one account",
    about:
      "Wrong passwords for one account, from anywhere. Then only the addresses that reached the next limit on it are refused: the real user, elsewhere, still logs in.",
    default: { max: 10, windowSeconds: LOGIN_WINDOW_SECONDS },
  },
  perAccountFromAddress: {
    name: "login.per_account_from_address",
    area: "Logins",
    title: "Failed logins on one account from one address",
    about:
      "Once an account has reached its limit above, an address with this many wrong passwords on it waits; an address with fewer may still try.",
    default: { max: 3, windowSeconds: LOGIN_WINDOW_SECONDS },
  },
} satisfies Record<string, LimitSetting>;

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
