// @both-databases: LISTEN/NOTIFY exists on PostgreSQL only; SQLite must go on without it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KyselyPlugin, type QueryId, TableNode, UpdateQueryNode } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { type Database, openDatabase } from "#src/db/database.ts";
import { inTransaction } from "#src/db/transaction.ts";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { testDialect } from "#test/support/database.ts";
import {
  queueTestMessages,
  smsLogWith,
  startDispatcher,
  startEmulator,
  startWatchedDispatcher,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import { startWorkerProcess, type WorkerProcess } from "#test/support/worker.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { pauseSending, resumeSending } from "./outbox.ts";
import { resendSms } from "./outbox-api.ts";

/**
 * Wake-ups (wake-ups.ts, decision 028). Every dispatcher here polls once a minute, and every test
 * waits far less than that: a message sent in time was sent because something woke a dispatcher.
 */

const MINUTE_POLL = { SMS_POLL_MS: "60000" };
/** Well under the poll: the tests fail on a wait for the poll, whatever the machine's load. */
const PROMPTLY_MS = 15_000;

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;
let worker: { process: WorkerProcess; logDir: string } | undefined;
let own: Database | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  if (worker) {
    await worker.process.kill("SIGKILL");
    rmSync(worker.logDir, { recursive: true, force: true });
  }
  await own?.destroy();
  await t?.close();
  await emulator?.close();
  dispatcher = t = emulator = worker = own = undefined;
});

/** Holds the result of the `n`th claim (UPDATE sms_messages ... RETURNING) until released. */
function holdClaim(n: number) {
  let seen = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const claims = new WeakSet<QueryId>();
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      if (
        UpdateQueryNode.is(node) &&
        node.returning &&
        node.table &&
        TableNode.is(node.table) &&
        node.table.table.identifier.name === "sms_messages"
      ) {
        seen += 1;
        if (seen === n) claims.add(queryId);
      }
      return node;
    },
    async transformResult({ result, queryId }) {
      if (claims.has(queryId)) {
        reached();
        await released;
      }
      return result;
    },
  };
  return { plugin, held, release };
}

describe("a dispatcher woken while it is busy", () => {
  it("looks again at once instead of sleeping through the poll", async () => {
    emulator = await startEmulator();
    t = await createTestApp(twilioEnv(emulator, MINUTE_POLL));
    // The first poll is two claims (rows whose lease ran out, then due rows): hold the second
    // one's answer, which found nothing, and queue a message while it is held.
    // On a connection of its own: SQLite's one connection would wait for the held claim.
    const hold = holdClaim(2);
    own = openDatabase(t.database.url);
    dispatcher = await startDispatcher({ ...t.ctx, db: own.db.withPlugin(hold.plugin) });
    await hold.held;
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher.wake(); // what the commit's signalQueued does
    hold.release();
    await waitUntilSent(t.ctx, id!, PROMPTLY_MS);
  });
});

/** The listening connections of dispatchers on the test's database, as PostgreSQL lists them. */
async function listeners(databaseUrl: string): Promise<{ pid: number; query: string }[]> {
  const admin = new pg.Client({ connectionString: inject("postgresUrl") });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number; query: string }>(
      `select pid, query from pg_stat_activity
        where datname = $1 and application_name like 'portal sms wake-ups %'`,
      [new URL(databaseUrl).pathname.slice(1)],
    );
    return rows;
  } finally {
    await admin.end();
  }
}

async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: inject("postgresUrl") });
  await admin.connect();
  try {
    await admin.query("select pg_terminate_backend($1)", [pid]);
  } finally {
    await admin.end();
  }
}

describe.runIf(testDialect() === "postgres")(
  "what else makes a message due notifies (PostgreSQL)",
  () => {
    // resendSms and resumeSending wake no local dispatcher themselves (the console's routes do,
    // after them): a dispatcher that sends in time here was woken by the notification.
    async function idleDispatcher() {
      emulator = await startEmulator();
      t = await createTestApp(twilioEnv(emulator, MINUTE_POLL));
      const watched = await startWatchedDispatcher(t.ctx);
      dispatcher = watched.dispatcher;
      expect(await watched.polled(0)).toBe(0);
      return t;
    }

    it("a resend", async () => {
      const t = await idleDispatcher();
      const [id] = await queueTestMessages(t.ctx, 1, { kind: "test" });
      await waitUntilSent(t.ctx, id!, PROMPTLY_MS);
      // As if the carrier had reported it undelivered.
      await t.ctx.db
        .updateTable("sms_messages")
        .set({ status: "undelivered" })
        .where("id", "=", id!)
        .execute();
      const resent = await inTransaction(t.ctx.db, (trx) => resendSms(trx, t.ctx, id!));
      expect(resent.outcome).toBe("queued");
      await waitUntilSent(t.ctx, (resent as { id: number }).id, PROMPTLY_MS);
    });

    it("the end of an admin's pause", async () => {
      const t = await idleDispatcher();
      await pauseSending(t.ctx, "admin@college.test", null);
      const [id] = await queueTestMessages(t.ctx, 1);
      // Woken by the message, the dispatcher found the pause and went back to sleep.
      await smsLogWith(t.ctx, "sending paused by an admin");
      expect(await resumeSending(t.ctx)).not.toBeNull();
      await waitUntilSent(t.ctx, id!, PROMPTLY_MS);
    });
  },
);

describe.runIf(testDialect() === "postgres")("wake-ups across processes (PostgreSQL)", () => {
  /**
   * The web side is this test's own app: it has no dispatcher, so its commits wake nothing in
   * this process, and the worker (another process) is the only sender. It learns of a message
   * from PostgreSQL's notification or, without one, from its poll a minute later.
   */
  async function webAndWorker() {
    emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
    const env = twilioEnv(emulator, MINUTE_POLL);
    t = await createTestApp(env);
    expect(t.ctx.wakeSmsDispatcher).toBeUndefined();
    const logDir = mkdtempSync(join(tmpdir(), "portal-worker-logs-"));
    worker = {
      process: startWorkerProcess({
        ...env,
        DATABASE_URL: t.database.url,
        DATA_DIR: logDir,
        LOG_DIR: logDir,
      }),
      logDir,
    };
    await worker.process.ready;
    // Listening (and its first look at the outbox done) before anything is queued.
    // The first listener, not the list: an empty list is truthy, and would not wait.
    const listening = await waitFor(
      async () => (await listeners(t!.database.url))[0],
      PROMPTLY_MS,
      "LISTEN",
    );
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const approve = async (phone: string) => {
      const student = await createStudent(t!.ctx, { phone });
      const answer = await client.post(`/admin/students/${student.id}/approve`);
      expect(answer.statusCode).toBe(303);
    };
    return { listening, approve };
  }

  const arrived = (phone: string) => emulator!.messages.some((m) => m.to === phone);

  it("an approval on the web side reaches the emulator through a worker in another process, at once", {
    timeout: 60_000,
  }, async () => {
    const { approve } = await webAndWorker();
    await approve("+919845011111");
    await waitFor(() => arrived("+919845011111"), PROMPTLY_MS, "the approval SMS, not at the poll");
    await approve("+919845022222");
    await waitFor(() => arrived("+919845022222"), PROMPTLY_MS, "the second one, likewise");
  });

  it("a worker whose listening connection is killed listens again and is woken again", {
    timeout: 60_000,
  }, async () => {
    const { listening, approve } = await webAndWorker();
    await terminate(listening.pid);
    await waitFor(
      async () =>
        (await listeners(t!.database.url)).some(
          (l) => l.pid !== listening.pid && /^listen /i.test(l.query),
        ),
      PROMPTLY_MS,
      "a new listening connection",
    );
    // The first may still be found by the look the worker takes when it listens again; the
    // second can only come from a notification on the new connection.
    await approve("+919845033333");
    await waitFor(() => arrived("+919845033333"), PROMPTLY_MS, "the first approval after it");
    await approve("+919845044444");
    await waitFor(() => arrived("+919845044444"), PROMPTLY_MS, "the second approval after it");
    expect(emulator!.messages.filter((m) => m.to.startsWith("+9198450")).length).toBe(2);
  });
});
