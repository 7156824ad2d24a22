import { isIPv4, isIPv6 } from "node:net";
import type { AppContext } from "../context.ts";
import type { LimitEventKind } from "../db/schema.ts";

/**
 * Abuse limits kept in the database (`limit_events`), so every web process counts the same
 * events: "at most `max` events of a kind for this account / this address in the last
 * `windowSeconds`". Features decide what counts (failed logins, registrations, ...) and record it;
 * nothing is counted in memory. Times come from ctx.clock (tests move it instead of sleeping).
 */

type Ctx = Pick<AppContext, "db" | "clock">;

export interface Limit {
  max: number;
  windowSeconds: number;
}

/** Which events a limit counts: those about one account, from one address, or both. */
export interface LimitMatch {
  account?: string;
  address?: string;
}

export type LimitCheck = { limited: false } | { limited: true; retryAt: Date };

/**
 * The address a limit counts by: an IPv4 address as it is (also when written as IPv6,
 * `::ffff:1.2.3.4`), an IPv6 address by its /64 network, because one home or phone gets a whole
 * /64 and could otherwise take a new address for every try.
 */
export function limitAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = "", tail] = ip.toLowerCase().split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** Events older than this are deleted as new ones come in: longer than any window in use. */
const KEEP_SECONDS = 24 * 60 * 60;

export async function recordLimitEvent(
  ctx: Ctx,
  kind: LimitEventKind,
  match: LimitMatch,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db
    .insertInto("limit_events")
    .values({
      kind,
      account: match.account ?? null,
      address: match.address === undefined ? null : limitAddress(match.address),
      at: now.toISOString(),
    })
    .execute();
  // An indexed delete of the few rows that aged out since the last event.
  await ctx.db
    .deleteFrom("limit_events")
    .where("at", "<", new Date(now.getTime() - KEEP_SECONDS * 1000).toISOString())
    .execute();
}

/**
 * Whether `limit` is reached for the events that match, and if so when the next one is allowed:
 * when the oldest of the newest `max` events leaves the window. Reads at most `max` rows.
 */
export async function checkLimit(
  ctx: Ctx,
  kind: LimitEventKind,
  match: LimitMatch,
  limit: Limit,
): Promise<LimitCheck> {
  const now = ctx.clock.now().getTime();
  const windowMs = limit.windowSeconds * 1000;
  let query = ctx.db
    .selectFrom("limit_events")
    .select("at")
    .where("kind", "=", kind)
    .where("at", ">", new Date(now - windowMs).toISOString());
  if (match.account !== undefined) query = query.where("account", "=", match.account);
  if (match.address !== undefined) query = query.where("address", "=", limitAddress(match.address));
  const rows = await query.orderBy("at", "desc").limit(limit.max).execute();
  if (rows.length < limit.max) return { limited: false };
  return { limited: true, retryAt: new Date(Date.parse(rows.at(-1)!.at) + windowMs) };
}

/** Whole minutes until `retryAt`, at least 1: what a page tells a person to wait. */
export function minutesUntil(retryAt: Date, now: Date): number {
  return Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 60_000));
}

export function tryAgainIn(minutes: number): string {
  return minutes === 1 ? "Try again in 1 minute." : `Try again in ${minutes} minutes.`;
}
