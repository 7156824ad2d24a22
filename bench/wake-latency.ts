/**
 * How long an approval's SMS waits for a `portal worker` in another process (decision 028): the
 * time from the approval's commit (its POST answered) to the emulator receiving the message's
 * create. The web side is this process, with no dispatcher of its own (idle, as a web process of
 * a deployment whose workers send); the worker is a real `portal worker` process at the default
 * SMS_POLL_MS of 1000 ms. Approvals come one at a time, each after the previous SMS arrived and a
 * random pause as long as a poll at most, so the worker is asleep, at a random point of its poll,
 * when each commits.
 *
 *   npx tsx bench/wake-latency.ts --postgres postgres://postgres@127.0.0.1:5432/postgres
 *       [--approvals 200] [--worker-source DIR]
 *
 * `--worker-source` runs the worker from another checkout (its `src/cli/portal.ts`, with a
 * node_modules beside it), e.g. one without wake-ups, for the "before" figures:
 *   mkdir /tmp/before && git archive ee0d281 src package.json | tar -x -C /tmp/before \
 *     && ln -s "$PWD/node_modules" /tmp/before/node_modules
 * PostgreSQL only (wake-ups across processes need LISTEN/NOTIFY). Loopback only; every loop is
 * bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { pino } from "pino";
import { upsertAdmin } from "#src/accounts/service.ts";
import { buildApp } from "#src/app.ts";
import { loadConfig } from "#src/config.ts";
import { type AppContext, systemClock } from "#src/context.ts";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { loginAs } from "#test/support/client.ts";
import { startEmulator, twilioEnv } from "#test/support/sms.ts";
import { registerBenchStudents } from "./students.ts";

const { values } = parseArgs({
  options: {
    postgres: { type: "string" },
    approvals: { type: "string", default: "200" },
    "worker-source": { type: "string" },
    "poll-ms": { type: "string", default: "1000" },
  },
});
if (!values.postgres) {
  process.stderr.write(
    "wake-latency needs --postgres URL (a server it may create a database on)\n",
  );
  process.exit(2);
}
const APPROVALS = Number(values.approvals);
const WORKER_SOURCE = resolve(values["worker-source"] ?? ".");
/** Longest wait for one SMS: far above the poll, so a lost wake-up shows as a poll's wait. */
const SMS_DEADLINE_MS = 30_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const adminUrl = values.postgres!;
  const name = `portal_bench_wake_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), "portal-bench-wake-"));
  const emulator = await startEmulator({ knobs: { latencyMs: 0, callbacks: [] } });
  let worker: ChildProcess | undefined;
  const database = openDatabase(url.toString());
  try {
    await migrateToLatest(database.db);
    // Pace and poll as a deployment has them, but a rate high enough that pacing never holds a
    // message back: what is measured is how the worker learns of it.
    const env = twilioEnv(emulator, {
      SMS_RATE_PER_SECOND: "100",
      SMS_POLL_MS: values["poll-ms"]!,
    });
    const config = loadConfig(
      {
        ...env,
        DATABASE_URL: url.toString(),
        DATA_DIR: dataDir,
        LOG_DIR: join(dataDir, "logs"),
      },
      {},
    );
    const silent = pino({ level: "silent" });
    // No wakeSmsDispatcher: this process sends nothing and wakes nothing of its own.
    const ctx: AppContext = {
      db: database.db,
      dialect: database.dialect,
      config,
      clock: systemClock,
      log: silent,
      smsLog: silent,
    };
    const app = await buildApp(ctx, { sessionSecret: "bench-session-secret-0123456789abcdefghij" });
    const ids = await registerBenchStudents(ctx, APPROVALS);
    await upsertAdmin(ctx, "bench-admin@college.test", "bench-admin-password");
    const client = await loginAs(app, "bench-admin@college.test", "bench-admin-password");
    const token = await client.refreshCsrf();

    worker = spawn(process.execPath, ["--import", "tsx", "src/cli/portal.ts", "worker"], {
      cwd: WORKER_SOURCE,
      env: {
        ...process.env,
        ...env,
        NODE_ENV: "development",
        LOG_LEVEL: "warn",
        DATABASE_URL: url.toString(),
        DATA_DIR: join(dataDir, "worker"),
        LOG_DIR: join(dataDir, "worker-logs"),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolveReady, reject) => {
      let output = "";
      worker!.stdout!.on("data", (chunk) => {
        output += chunk;
        if (output.includes("SMS worker")) resolveReady();
      });
      worker!.once("exit", (code) => reject(new Error(`the worker exited (${code})`)));
    });

    const createdAt = (phone: string) =>
      emulator.requests.find(
        (r) => r.method === "POST" && r.path.endsWith("/Messages.json") && r.params.To === phone,
      )?.at;
    const latencies: number[] = [];
    for (const [i, id] of ids.entries()) {
      // 50 ms of quiet (the worker has gone back to sleep), then a random part of a poll: each
      // approval commits at a random point of the worker's poll, not in step with it.
      await new Promise((r) => setTimeout(r, 50 + Math.random() * Number(values["poll-ms"])));
      const response = await app.inject({
        method: "POST",
        url: `/admin/students/${id}/approve`,
        headers: {
          cookie: client.cookieHeader,
          "content-type": "application/x-www-form-urlencoded",
        },
        payload: `_csrf=${encodeURIComponent(token)}`,
      });
      // The transaction committed before the answer was written.
      const committed = Date.now();
      if (response.statusCode !== 303) throw new Error(`approve answered ${response.statusCode}`);
      const phone = `+919845${String(100000 + i).padStart(6, "0")}`;
      const deadline = committed + SMS_DEADLINE_MS;
      let at = createdAt(phone);
      while (!at) {
        if (Date.now() > deadline) throw new Error(`no SMS for approval ${i} in 30 s`);
        await new Promise((r) => setTimeout(r, 2));
        at = createdAt(phone);
      }
      latencies.push(Math.max(0, at.getTime() - committed));
    }
    latencies.sort((a, b) => a - b);
    await app.close();
    return {
      worker: values["worker-source"] ? WORKER_SOURCE : "this checkout",
      pollMs: Number(values["poll-ms"]),
      approvals: latencies.length,
      p50ms: percentile(latencies, 50),
      p90ms: percentile(latencies, 90),
      p99ms: percentile(latencies, 99),
      maxms: latencies.at(-1)!,
    };
  } finally {
    if (worker && worker.exitCode === null) {
      worker.kill("SIGTERM");
      await new Promise((r) => worker!.once("exit", r));
    }
    await database.destroy();
    await emulator.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, ${APPROVALS} approvals, worker in another process`);
console.table([await main()]);
process.exit(0);
