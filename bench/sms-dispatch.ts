/**
 * SMS benchmarks: dispatcher throughput against the Twilio emulator, and how long an admin's
 * approval takes while Twilio is slow. `npm run bench` (add `-- --postgres URL` for PostgreSQL).
 * Loopback only; every loop is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { pino } from "pino";
import { upsertAdmin } from "#src/accounts/service.ts";
import { buildApp } from "#src/app.ts";
import { loadConfig } from "#src/config.ts";
import { type AppContext, systemClock } from "#src/context.ts";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { Dispatcher } from "#src/sms/dispatcher.ts";
import { createTransport } from "#src/sms/transport/index.ts";
import { loginAs } from "#test/support/client.ts";
import {
  createTimes,
  mostInAnyWindow,
  queueTestMessages,
  startEmulator,
  statusCounts,
  twilioEnv,
} from "#test/support/sms.ts";
import { registerBenchStudents } from "./students.ts";

const { values } = parseArgs({
  options: {
    postgres: { type: "string" },
    messages: { type: "string", default: "2000" },
    approvals: { type: "string", default: "200" },
    "portal-rate": { type: "boolean", default: false },
    seconds: { type: "string", default: "60" },
  },
});
const MESSAGES = Number(values.messages);
const APPROVALS = Number(values.approvals);

async function withDatabase<T>(
  kind: "sqlite" | "postgres",
  run: (url: string) => Promise<T>,
): Promise<T> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "portal-bench-"));
    try {
      return await run(`file:${join(dir, "bench.db")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const adminUrl = values.postgres!;
  const name = `portal_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await run(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function context(url: string, env: Record<string, string>) {
  const database = openDatabase(url, { poolSize: 20 });
  await migrateToLatest(database.db);
  const dataDir = mkdtempSync(join(tmpdir(), "portal-bench-data-"));
  const config = loadConfig(
    { DATABASE_URL: url, DATA_DIR: dataDir, LOG_DIR: join(dataDir, "logs"), ...env },
    {},
  );
  const silent = pino({ level: "silent" });
  const ctx: AppContext = {
    db: database.db,
    dialect: database.dialect,
    config,
    clock: systemClock,
    log: silent,
    smsLog: silent,
  };
  return { ctx, close: () => database.destroy() };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function throughput(kind: "sqlite" | "postgres", dispatchers: number, latencyMs: number) {
  const emulator = await startEmulator({ knobs: { latencyMs, callbacks: [] } });
  try {
    return await withDatabase(kind, async (url) => {
      const env = twilioEnv(emulator, {
        SMS_RATE_PER_SECOND: "1000",
        SMS_CONCURRENCY: "50",
        SMS_BATCH_SIZE: "100",
      });
      const contexts = await Promise.all(
        Array.from({ length: dispatchers }, () => context(url, env)),
      );
      await queueTestMessages(contexts[0]!.ctx, MESSAGES, { bulk: true });
      const started = performance.now();
      const running = contexts.map(
        ({ ctx }) => new Dispatcher(ctx, { transport: createTransport(ctx.config) }),
      );
      for (const d of running) d.start();
      const deadline = Date.now() + 120_000;
      while (((await statusCounts(contexts[0]!.ctx)).sent ?? 0) < MESSAGES) {
        if (Date.now() > deadline) throw new Error("throughput run did not finish in 120 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (performance.now() - started) / 1000;
      for (const d of running) await d.stop();
      for (const c of contexts) await c.close();
      if (emulator.messages.length !== MESSAGES)
        throw new Error(`emulator got ${emulator.messages.length}`);
      return {
        kind,
        dispatchers,
        latencyMs,
        messages: MESSAGES,
        seconds: seconds.toFixed(2),
        perSecond: Math.round(MESSAGES / seconds),
      };
    });
  } finally {
    await emulator.close();
  }
}

/** An admin approving students one after another while every Twilio call takes 1 s. */
async function approvalLatency(kind: "sqlite" | "postgres") {
  const emulator = await startEmulator({ knobs: { latencyMs: 1000, callbacks: [] } });
  try {
    return await withDatabase(kind, async (url) => {
      const { ctx, close } = await context(url, twilioEnv(emulator));
      const dispatcher = new Dispatcher(ctx, { transport: createTransport(ctx.config) });
      ctx.wakeSmsDispatcher = () => dispatcher.wake();
      dispatcher.start();
      const app = await buildApp(ctx, {
        sessionSecret: "bench-session-secret-0123456789abcdefghij",
      });
      const ids = await registerBenchStudents(ctx, APPROVALS);
      await upsertAdmin(ctx, "bench-admin@college.test", "bench-admin-password");
      const client = await loginAs(app, "bench-admin@college.test", "bench-admin-password");
      const token = await client.refreshCsrf();
      const times: number[] = [];
      for (const id of ids) {
        const started = performance.now();
        const response = await app.inject({
          method: "POST",
          url: `/admin/students/${id}/approve`,
          headers: {
            cookie: client.cookieHeader,
            "content-type": "application/x-www-form-urlencoded",
          },
          payload: `_csrf=${encodeURIComponent(token)}`,
        });
        times.push(performance.now() - started);
        if (response.statusCode !== 303) throw new Error(`approve answered ${response.statusCode}`);
      }
      times.sort((a, b) => a - b);
      await dispatcher.stop(1000);
      await app.close();
      await close();
      return {
        kind,
        approvals: times.length,
        twilioLatencyMs: 1000,
        p50ms: percentile(times, 50).toFixed(1),
        p95ms: percentile(times, 95).toFixed(1),
        maxms: times.at(-1)!.toFixed(1),
      };
    });
  } finally {
    await emulator.close();
  }
}

/**
 * SMS_RATE_PER_SECOND is the portal's (decision 025): three `portal worker` processes at 10 on
 * one database send a fan-out, and the emulator counts the creations that reach it over
 * `seconds` from the first. `npm run bench -- --portal-rate [--postgres URL]`.
 */
async function portalRate(kind: "sqlite" | "postgres", seconds: number) {
  const RATE = 10;
  const emulator = await startEmulator({ knobs: { latencyMs: 100, callbacks: [] } });
  try {
    return await withDatabase(kind, async (url) => {
      const { ctx, close } = await context(url, {});
      const dataDir = mkdtempSync(join(tmpdir(), "portal-bench-workers-"));
      const env = {
        ...process.env,
        ...twilioEnv(emulator, { SMS_RATE_PER_SECOND: String(RATE), SMS_POLL_MS: "200" }),
        DATABASE_URL: url,
        DATA_DIR: dataDir,
        LOG_DIR: join(dataDir, "logs"),
        LOG_LEVEL: "warn",
      };
      const workers: ChildProcess[] = [1, 2, 3].map(() =>
        spawn(process.execPath, ["--import", "tsx", "src/cli/portal.ts", "worker"], {
          env,
          stdio: ["ignore", "pipe", "inherit"],
        }),
      );
      try {
        await Promise.all(
          workers.map(
            (w) =>
              new Promise<void>((resolve) => {
                let out = "";
                w.stdout!.on("data", (chunk) => {
                  out += chunk;
                  if (out.includes("SMS worker")) resolve();
                });
              }),
          ),
        );
        await queueTestMessages(ctx, RATE * (seconds + 30), { bulk: true });
        for (let i = 0; i < 600 && createTimes(emulator).length === 0; i++)
          await new Promise((resolve) => setTimeout(resolve, 100));
        const first = createTimes(emulator)[0]!;
        await new Promise((resolve) =>
          setTimeout(resolve, first + seconds * 1000 + 500 - Date.now()),
        );
        const times = createTimes(emulator).filter((at) => at < first + seconds * 1000);
        return {
          database: kind,
          workers: 3,
          SMS_RATE_PER_SECOND: RATE,
          seconds,
          sent: times.length,
          "per second": Number((times.length / seconds).toFixed(2)),
          "most in any 1 s": mostInAnyWindow(times, 1000),
          "most in any 10 s": mostInAnyWindow(times, 10_000),
        };
      } finally {
        for (const w of workers) {
          w.kill("SIGTERM");
          if (w.exitCode === null) await once(w, "exit");
        }
        await close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  } finally {
    await emulator.close();
  }
}

const kinds: ("sqlite" | "postgres")[] = values.postgres ? ["sqlite", "postgres"] : ["sqlite"];
if (values["portal-rate"]) {
  for (const kind of kinds) console.table([await portalRate(kind, Number(values.seconds))]);
  process.exit(0);
}
console.log(
  `node ${process.version}, ${MESSAGES} messages per throughput run, ${APPROVALS} approvals\n`,
);
for (const kind of kinds) {
  for (const latency of [0, 100]) console.table([await throughput(kind, 1, latency)]);
  if (kind === "postgres") console.table([await throughput(kind, 3, 100)]);
  console.table([await approvalLatency(kind)]);
}
process.exit(0);
