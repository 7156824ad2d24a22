import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { dbNow } from "../db/dialect.ts";
import type { SmsAttemptOutcome, SmsKind, SmsStatus } from "../db/schema.ts";
import { readLiveness } from "./heartbeat.ts";
import { liveHourlyCounts } from "./hourly-counts.ts";

/**
 * What `/metrics` reports about SMS (decision 026), read from the database, so that any web
 * process shows the whole portal's figures whichever process sends: the dispatchers of
 * `portal worker` processes serve no HTTP, and `portal serve`'s runs on a thread of its own.
 */
export interface SmsMetrics {
  /** Messages by kind and status (the hourly counts and their deltas, kept by triggers), zero counts left out. */
  messages: { kind: SmsKind; status: SmsStatus; n: number }[];
  /** How long the message due longest has waited since it became due; 0 when none is due. */
  oldestDueSeconds: number;
  /** Send attempts that finished in the last `ATTEMPT_WINDOW_SECONDS`, by outcome. */
  recentAttempts: { outcome: SmsAttemptOutcome; n: number }[];
  /** Of those, the ones Twilio refused with its rate limit (429 or 20429). */
  recentRateLimited: number;
  circuit: "closed" | "open" | "half_open";
  adminPaused: boolean;
  credentialsRefused: boolean;
  /** Dispatchers seen within SMS_STALLED_AFTER_SECONDS. */
  liveDispatchers: number;
  messagesDue: boolean;
}

/** The window of the recent attempt counts: a scrape every 15 to 60 seconds sees each one often. */
export const ATTEMPT_WINDOW_SECONDS = 300;

type Ctx = Pick<AppContext, "db" | "dialect" | "config">;

export async function readSmsMetrics(ctx: Ctx): Promise<SmsMetrics> {
  const since = dbNow(ctx.dialect, -ATTEMPT_WINDOW_SECONDS);
  const [messages, oldest, attempts, limited, state, live] = await Promise.all([
    ctx.db
      .selectFrom(liveHourlyCounts(ctx.db).as("live"))
      .select(["kind", "status", (eb) => eb.fn.sum<number>("n").as("n")])
      .groupBy(["kind", "status"])
      .execute(),
    // The due index (status first) holds the queued rows; `now` comes from the same clock.
    ctx.db
      .selectFrom("sms_messages")
      .select((eb) => [
        eb.fn.min("next_attempt_at").as("oldest"),
        sql<string>`${dbNow(ctx.dialect)}`.as("now"),
      ])
      .where("status", "=", sql.lit("queued"))
      .where("next_attempt_at", "<=", dbNow(ctx.dialect))
      .executeTakeFirst(),
    ctx.db
      .selectFrom("sms_attempts")
      .select(["outcome", (eb) => eb.fn.countAll<number>().as("n")])
      .where("finished_at", ">=", since)
      .groupBy("outcome")
      .execute(),
    ctx.db
      .selectFrom("sms_attempts")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("finished_at", ">=", since)
      .where("outcome", "=", "retry")
      .where("error_code", "in", [429, 20429])
      .executeTakeFirst(),
    ctx.db
      .selectFrom("sms_dispatch_state")
      .select([
        "admin_paused_at",
        "credentials_error",
        "circuit_open_until",
        "probe_owner",
        "probe_until",
        sql<string>`${dbNow(ctx.dialect)}`.as("now"),
      ])
      .where("id", "=", 1)
      .executeTakeFirstOrThrow(),
    readLiveness(ctx),
  ]);
  const oldestDueMs =
    oldest?.oldest && oldest.now ? Date.parse(oldest.now) - Date.parse(String(oldest.oldest)) : 0;
  const now = Date.parse(state.now);
  const ahead = (at: string | null) => at !== null && Date.parse(at) > now;
  return {
    messages: messages
      .map((row) => ({ kind: row.kind, status: row.status, n: Number(row.n) }))
      .filter((row) => row.n > 0),
    oldestDueSeconds: Math.max(0, oldestDueMs / 1000),
    recentAttempts: attempts.map((row) => ({ outcome: row.outcome, n: Number(row.n) })),
    recentRateLimited: Number(limited?.n ?? 0),
    circuit: ahead(state.circuit_open_until)
      ? "open"
      : state.probe_owner !== null && ahead(state.probe_until)
        ? "half_open"
        : "closed",
    adminPaused: state.admin_paused_at !== null,
    credentialsRefused: state.credentials_error !== null,
    liveDispatchers: live.liveDispatchers,
    messagesDue: live.messagesDue,
  };
}
