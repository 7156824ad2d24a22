import type { Kysely } from "kysely";
import type { AppContext } from "#src/context.ts";
import type { DB, SmsKind } from "#src/db/schema.ts";
import { PRIORITY_BULK, PRIORITY_TRANSACTIONAL, queueSms } from "#src/sms/outbox-api.ts";
import { startTwilioEmulator, type TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";

export const TEST_ACCOUNT_SID = `AC${"1".repeat(32)}`;
export const TEST_AUTH_TOKEN = "emulator-auth-token-0123456789abcdef";
export const TEST_FROM = "+15005550006";

export async function startEmulator(
  knobs: Parameters<typeof startTwilioEmulator>[0] = {},
): Promise<TwilioEmulator> {
  return startTwilioEmulator({
    accountSid: TEST_ACCOUNT_SID,
    authToken: TEST_AUTH_TOKEN,
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

export async function statusCounts(ctx: AppContext): Promise<Record<string, number>> {
  const rows = await ctx.db
    .selectFrom("sms_messages")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** The dispatcher a running portal has: the configured transport, woken by local commits. */
export async function startDispatcher(ctx: AppContext) {
  const { Dispatcher } = await import("#src/sms/dispatcher.ts");
  const { createTransport } = await import("#src/sms/transport/index.ts");
  const dispatcher = new Dispatcher(ctx, { transport: createTransport(ctx.config) });
  ctx.wakeSmsDispatcher = () => dispatcher.wake();
  dispatcher.start();
  return dispatcher;
}
