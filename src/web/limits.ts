import { isIPv4, isIPv6 } from "node:net";
import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import { lockKeys } from "../db/dialect.ts";
import type { DB, LimitEventKind } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";

/**
 * Abuse limits kept in the database (`limit_events`), so every web process counts the same
 * events: "at most `max` events of a kind for this account / this address in the last
 * `windowSeconds`". Features decide what counts (failed logins, registrations, ...) and take the
 * limit before the slow work it guards (`takeLimit`); nothing is counted in memory. Times come from ctx.clock (tests move it instead of sleeping).
 */

type Ctx = Pick<AppContext, "db" | "dialect" | "clock">;

export interface Limit {
  max: number;
  windowSeconds: number;
}

/**
 * A limit the placement office may change (the limits page, /admin/limits): declared by the
 * feature that takes it, beside its code, with the words the page shows and its default. The
 * office's value, if any, is a row of `limit_settings` keyed by `name`, read on every attempt
 * (one indexed read of a few rows), so a change holds at once in every web process.
 */
export interface LimitSetting {
  /** Its key in `limit_settings` and its address on the limits page: "login.per_address". */
  name: string;
  /** The heading it is listed under: "Logins", "Password reset", "Registration". */
  area: string;
  /** What it counts, in a few words: "Failed logins from one address". */
  title: string;
  /** What happens at the limit and why the default is what it is, in plain words. */
  about: string;
  /** Used while the office has set no other value. */
  default: Limit;
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

/**
 * What the office may set: at least 1 (0 would close the form to everyone), at most 100,000 (a
 * count reads at most that many rows), and a window no longer than the events are kept.
 */
export const LIMIT_MAX_RANGE = { min: 1, max: 100_000 } as const;
export const LIMIT_WINDOW_MINUTES_RANGE = { min: 1, max: KEEP_SECONDS / 60 } as const;

/**
 * One count: at most `limit.max` events of the kind that match, in the window. A `LimitSetting`
 * counts with the office's value when it set one, its default otherwise.
 */
export interface LimitRule {
  match: LimitMatch;
  limit: Limit | LimitSetting;
}

/**
 * What an attempt must pass: one rule, or several of which any one is enough (login: the account
 * is under its limit, or this address has tried it only a few times). `name` says which refused.
 */
export type LimitGate<Name extends string = string> =
  | ({ name: Name } & LimitRule)
  | { name: Name; anyOf: LimitRule[] };

export type LimitTicket<Name extends string = string> =
  | {
      limited: false;
      /** Takes the attempt's event back (a login that succeeded is not counted against anyone). */
      release(): Promise<void>;
    }
  | { limited: true; retryAt: Date; refusedBy: Name };

/**
 * Counts the events of every gate and, if all of them pass, records the attempt's event: in one
 * transaction, locked per counted key (db/dialect.ts `lockKeys`), so attempts at the same
 * account or address are counted one after another however many arrive together, and exactly
 * `max` of a burst pass. Taken before the slow work it guards (a password hash, an upload); a
 * refused attempt records nothing, so an address that keeps trying while refused does not push
 * its own wait further out. An attempt counted under several identities at once (a registration:
 * its address, email, roll number and phone) records one event for each; `release` takes them
 * all back.
 */
export async function takeLimit<Name extends string>(
  ctx: Ctx,
  kind: LimitEventKind,
  event: LimitMatch | LimitMatch[],
  gates: LimitGate<Name>[],
): Promise<LimitTicket<Name>> {
  const now = ctx.clock.now();
  const rulesOf = (gate: LimitGate<Name>) => ("anyOf" in gate ? gate.anyOf : [gate]);
  const rules = gates.flatMap(rulesOf);
  const keys = rules.map(({ match }) => limitKey(kind, match));
  const outcome = await inTransaction(ctx.db, async (trx) => {
    const limits = await resolveLimits(
      trx,
      rules.map((rule) => rule.limit),
    );
    await lockKeys(trx, ctx.dialect, keys);
    for (const gate of gates) {
      const counts: LimitCheck[] = [];
      for (const rule of rulesOf(gate))
        counts.push(await countLimit(trx, kind, rule.match, limits(rule.limit), now));
      if (counts.some((count) => !count.limited)) continue;
      // Allowed again as soon as any one of the rules is.
      const retryAt = Math.min(...counts.map((c) => (c.limited ? c.retryAt.getTime() : 0)));
      return { limited: true as const, retryAt: new Date(retryAt), refusedBy: gate.name };
    }
    const ids: number[] = [];
    for (const match of Array.isArray(event) ? event : [event])
      ids.push(await insertEvent(trx, kind, match, now));
    return { limited: false as const, ids };
  });
  if (outcome.limited) return outcome;
  await pruneEvents(ctx, now);
  return {
    limited: false,
    release: async () => {
      await ctx.db.deleteFrom("limit_events").where("id", "in", outcome.ids).execute();
    },
  };
}

/**
 * The limits in force: each setting's value from `limit_settings` (one read by primary key for
 * all of them), or its default; a plain `Limit` as it is.
 */
export async function resolveLimits(
  db: Kysely<DB>,
  limits: readonly (Limit | LimitSetting)[],
): Promise<(limit: Limit | LimitSetting) => Limit> {
  const names = [...new Set(limits.flatMap((l) => ("name" in l ? [l.name] : [])))];
  const rows =
    names.length === 0
      ? []
      : await db
          .selectFrom("limit_settings")
          .select(["name", "max", "window_seconds"])
          .where("name", "in", names)
          .execute();
  const set = new Map(
    rows.map((r) => [r.name, { max: Number(r.max), windowSeconds: Number(r.window_seconds) }]),
  );
  return (limit) => ("name" in limit ? (set.get(limit.name) ?? limit.default) : limit);
}

/** Records one event now, outside any limit: for tests and imports that set the scene. */
export async function recordLimitEvent(
  ctx: Ctx,
  kind: LimitEventKind,
  match: LimitMatch,
): Promise<number> {
  const now = ctx.clock.now();
  const id = await insertEvent(ctx.db, kind, match, now);
  await pruneEvents(ctx, now);
  return id;
}

function limitKey(kind: LimitEventKind, match: LimitMatch): string {
  const address = match.address === undefined ? "" : limitAddress(match.address);
  return JSON.stringify(["limit", kind, match.account ?? "", address]);
}

async function insertEvent(
  db: Kysely<DB>,
  kind: LimitEventKind,
  match: LimitMatch,
  now: Date,
): Promise<number> {
  const row = await db
    .insertInto("limit_events")
    .values({
      kind,
      account: match.account ?? null,
      address: match.address === undefined ? null : limitAddress(match.address),
      at: now.toISOString(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** An indexed delete of the few events that aged out of every window since the last one. */
async function pruneEvents(ctx: Ctx, now: Date): Promise<void> {
  await ctx.db
    .deleteFrom("limit_events")
    .where("at", "<", new Date(now.getTime() - KEEP_SECONDS * 1000).toISOString())
    .execute();
}

/**
 * Whether `max` events already match in the window, and if so when one more is allowed: when the
 * oldest of the newest `max` leaves it. Reads at most `max` rows.
 */
async function countLimit(
  db: Kysely<DB>,
  kind: LimitEventKind,
  match: LimitMatch,
  limit: Limit,
  now: Date,
): Promise<LimitCheck> {
  const windowMs = limit.windowSeconds * 1000;
  let query = db
    .selectFrom("limit_events")
    .select("at")
    .where("kind", "=", kind)
    .where("at", ">", new Date(now.getTime() - windowMs).toISOString());
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
