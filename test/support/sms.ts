import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Kysely, type KyselyPlugin, type QueryId, TableNode, UpdateQueryNode } from "kysely";
import { afterEach } from "vitest";
import type { AppContext, Clock } from "#src/context.ts";
import type { DB, SmsKind } from "#src/db/schema.ts";
import type { Dispatcher } from "#src/sms/dispatcher.ts";
import { PRIORITY_BULK, PRIORITY_TRANSACTIONAL, queueSms } from "#src/sms/outbox-api.ts";
import { startTwilioEmulator, type TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import { createTestApp, type TestApp } from "./app.ts";

export const TEST_ACCOUNT_SID = `AC${"1".repeat(32)}`;
export const TEST_AUTH_TOKEN = "emulator-auth-token-0123456789abcdef";
export const TEST_FROM = "+15005550006";
/** The Messaging Service the test account has, for tests that send through one. */
export const TEST_MESSAGING_SERVICE_SID = `MG${"2".repeat(32)}`;

export async function startEmulator(
  knobs: Parameters<typeof startTwilioEmulator>[0] = {},
): Promise<TwilioEmulator> {
  return startTwilioEmulator({
    accountSid: TEST_ACCOUNT_SID,
    authToken: TEST_AUTH_TOKEN,
    // The account's senders: the emulator refuses any other, as Twilio does.
    phoneNumbers: [TEST_FROM],
    messagingServiceSids: [TEST_MESSAGING_SERVICE_SID],
    ...knobs,
  });
}

/** Settings that point the portal's Twilio transport at the emulator, fast enough for tests. */
export function twilioEnv(
  emulator: TwilioEmulator,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SMS_BACKEND: "twilio",
    TWILIO_API_URL: emulator.url,
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: TEST_FROM,
    SMS_RETRY_DELAY_SECONDS: "1",
    SMS_RATE_PER_SECOND: "100",
    SMS_CONCURRENCY: "10",
    SMS_POLL_MS: "100",
    SMS_CREDENTIALS_RECHECK_SECONDS: "1",
    ...extra,
  };
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  what = "condition",
): Promise<Exclude<T, null | undefined | false | 0 | "">> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Exclude<T, null | undefined | false | 0 | "">;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The SMS log once it holds `text`. A line is written after the database change it reports, so a
 * test that has seen the change must still wait for the line.
 */
export function smsLogWith(ctx: AppContext, text: string, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    () => {
      const log = readFileSync(join(ctx.config.LOG_DIR, "sms.log"), "utf8");
      return log.includes(text) ? log : null;
    },
    timeoutMs,
    `"${text}" in sms.log`,
  );
}

let counter = 0;

/** Queues messages straight into the outbox, as a committed business transaction would. */
export async function queueTestMessages(
  ctx: AppContext,
  count: number,
  options: { to?: string; kind?: SmsKind; bulk?: boolean; body?: (i: number) => string } = {},
): Promise<number[]> {
  const ids: number[] = [];
  await ctx.db.transaction().execute(async (trx: Kysely<DB>) => {
    for (let i = 0; i < count; i++) {
      counter += 1;
      const result = await queueSms(trx, ctx, {
        kind: options.kind ?? "custom",
        dedupeKey: `test:${process.pid}:${counter}`,
        studentId: null,
        toE164: options.to ?? `+9198450${String(10000 + (counter % 90000)).padStart(5, "0")}`,
        body: options.body ? options.body(i) : `Test message ${counter}`,
        priority: options.bulk ? PRIORITY_BULK : PRIORITY_TRANSACTIONAL,
      });
      ids.push(result.id!);
    }
  });
  return ids;
}

export function smsRow(ctx: AppContext, id: number) {
  return ctx.db
    .selectFrom("sms_messages")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
}

/**
 * Waits until the row has gone out and returns it: `sent`, or already `delivered` when a recovered
 * (reconciled) message takes Twilio's later status.
 */
export function waitUntilSent(ctx: AppContext, id: number, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const r = await smsRow(ctx, id);
      return r.status === "sent" || r.status === "delivered" ? r : null;
    },
    timeoutMs,
    `message ${id} sent`,
  );
}

export async function statusCounts(ctx: AppContext): Promise<Record<string, number>> {
  const rows = await ctx.db
    .selectFrom("sms_messages")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** The dispatcher a running portal has: the configured transport and housekeeping, woken by local
 * commits. */
export async function startDispatcher(ctx: AppContext) {
  const { newDispatcher } = await import("#src/maintenance.ts");
  const dispatcher = newDispatcher(ctx);
  ctx.wakeSmsDispatcher = () => dispatcher.wake();
  dispatcher.start();
  return dispatcher;
}

/** One outbox claim (an `UPDATE sms_messages ... RETURNING`): the rows it took, null until done. */
export interface Claim {
  rows: number | null;
}

export interface WatchedDispatcher {
  dispatcher: Dispatcher;
  /** Every claim the dispatcher has begun, in order. A poll is one claim or two (rows whose
   * lease ran out, then due rows). */
  claims: Claim[];
  /**
   * Waits until a whole poll has begun after `claims[from]` (by default: now) and ended, and every
   * row the dispatcher holds is finished: whatever was due by then has been dealt with. The way
   * to show that something did NOT happen without sleeping. Returns the rows those polls took.
   */
  polled(from?: number, timeoutMs?: number): Promise<number>;
}

/**
 * `startDispatcher`, with the dispatcher's claims recorded (through a Kysely plugin on its own
 * handle to the database: the SQL and the connection are the same).
 */
export async function startWatchedDispatcher(ctx: AppContext): Promise<WatchedDispatcher> {
  const claims: Claim[] = [];
  const running = new WeakMap<QueryId, Claim>();
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      if (
        UpdateQueryNode.is(node) &&
        node.returning &&
        node.table &&
        TableNode.is(node.table) &&
        node.table.table.identifier.name === "sms_messages"
      ) {
        const claim: Claim = { rows: null };
        claims.push(claim);
        running.set(queryId, claim);
      }
      return node;
    },
    async transformResult({ result, queryId }) {
      const claim = running.get(queryId);
      // Recorded once the microtasks the answer sets off have run: by then the dispatcher has
      // taken the rows into its queue, or gone to sleep.
      if (claim) setImmediate(() => (claim.rows = result.rows.length));
      return result;
    },
  };
  const dispatcher = await startDispatcher({ ...ctx, db: ctx.db.withPlugin(plugin) });
  ctx.wakeSmsDispatcher = () => dispatcher.wake();
  return {
    dispatcher,
    claims,
    async polled(from = claims.length, timeoutMs = 10_000) {
      const since = await waitFor(
        () => {
          const since = claims.slice(from);
          return since.length >= 2 &&
            since.every((c) => c.rows !== null) &&
            dispatcher.inFlight === 0
            ? since
            : null;
        },
        timeoutMs,
        "the dispatcher to poll the outbox again",
      );
      return since.reduce((n, c) => n + c.rows!, 0);
    },
  };
}

/** The message creations the emulator received, in order. */
export function creates(e: Pick<TwilioEmulator, "requests">) {
  return e.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json"));
}

/** When the emulator received each message creation, in ms, in order. */
export function createTimes(e: Pick<TwilioEmulator, "requests">): number[] {
  return creates(e).map((r) => r.at.getTime());
}

/** The most of `times` (sorted ms) in any `windowMs`: a rate measured at the emulator. */
export function mostInAnyWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; first < times.length; first++) {
    while (last < times.length && times[last]! < times[first]! + windowMs) last++;
    most = Math.max(most, last - first);
  }
  return most;
}

/** SMS_QUIET_HOURS from an hour ago to an hour from now (India time), whatever the time of day. */
export function quietHoursAroundNow(): string {
  const indiaClock = (minutes: number) =>
    new Date(Date.now() + (minutes + 330) * 60_000).toISOString().slice(11, 16);
  return `${indiaClock(-60)}-${indiaClock(60)}`;
}

/** A fan-out's audience of exactly these students (`FanOut.students`). */
export function theseStudents(db: Kysely<DB>, ids: readonly number[]) {
  return db
    .selectFrom("students")
    .select("students.id")
    .where("students.id", "in", [...ids]);
}

/**
 * For a file whose tests each need the Twilio emulator, an app pointed at it and perhaps a
 * dispatcher: `start` makes the first two (the app with `twilioEnv` and `env`), `watch` starts a
 * watched dispatcher, and all three are closed after each test.
 */
export function useEmulatorApp() {
  let app: TestApp | undefined;
  let emulator: TwilioEmulator | undefined;
  let dispatcher: Dispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.stop();
    await app?.close();
    await emulator?.close();
    app = emulator = dispatcher = undefined;
  });
  return {
    async start(env: Record<string, string> = {}, options: { clock?: Clock } = {}) {
      emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
      app = await createTestApp({ ...twilioEnv(emulator), ...env }, options);
      return app;
    },
    async watch() {
      if (!app) throw new Error("useEmulatorApp: start the app first");
      const watched = await startWatchedDispatcher(app.ctx);
      dispatcher = watched.dispatcher;
      return watched;
    },
    get emulator(): TwilioEmulator {
      if (!emulator) throw new Error("useEmulatorApp: start the app first");
      return emulator;
    },
  };
}
