import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStudent, testLogger } from "#test/support/app.ts";
import { createTestDatabase, type TestDatabase } from "#test/support/database.ts";
import {
  CookieJar,
  childNodePids,
  csrfToken,
  httpRequest,
  isAlive,
  killGroup,
  type PortalProcess,
  spawnPortal,
} from "#test/support/process.ts";
import { waitFor } from "#test/support/sms.ts";
import { buildContext } from "../app-context.ts";
import { loadConfig } from "../config.ts";

let database: TestDatabase;
let dataDir: string;
let serve: PortalProcess | undefined;
beforeEach(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "portal-cluster-"));
});
afterEach(async () => {
  if (serve) killGroup(serve.pid);
  serve = undefined;
  await database.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The pids in the web processes' request log lines written after `from` (pino writes its pid). */
function answeringPids(output: string, from = 0): Set<number> {
  const pids = new Set<number>();
  for (const line of output.slice(from).split("\n")) {
    if (!line.includes('"request completed"')) continue;
    pids.add((JSON.parse(line) as { pid: number }).pid);
  }
  return pids;
}

describe("portal serve with WEB_CONCURRENCY=2", () => {
  it("answers from two web processes with one session and one SMS dispatcher, replaces a killed one, and stops whole on SIGTERM", async () => {
    const env = {
      WEB_CONCURRENCY: "2",
      PORT: "0",
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      LOG_DIR: join(dataDir, "logs"),
      // info: each answered request is logged with the pid of the process that answered it.
      LOG_LEVEL: "info",
      // Idle dispatchers look only once a minute: an SMS out within seconds was woken by its enqueue.
      SMS_POLL_MS: "60000",
    };
    serve = spawnPortal(["serve"], env);
    const running = serve;
    const url = await waitFor(
      () => /open (http:\/\/\S+)/.exec(running.output())?.[1],
      30_000,
      "the portal to listen",
    );

    // The OS process tree: the primary and two web processes under it.
    const workers = childNodePids(running.pid);
    expect(workers).toHaveLength(2);
    expect(workers).not.toContain(running.pid);

    // Prepared once, by the primary: one first admin, its password printed once.
    const output = running.output();
    expect(output.match(/First admin created/g)).toHaveLength(1);
    const password = /First admin created: \S+\s+password: (\S+)/.exec(output)![1]!;

    // A login through the form; the session made by one process is read by the other.
    const jar = new CookieJar();
    const form = jar.take(await httpRequest(`${url}/login`));
    const login = jar.take(
      await httpRequest(`${url}/login`, {
        cookie: jar.header,
        form: { _csrf: csrfToken(form.body), email: "admin@placement.local", password },
      }),
    );
    expect([login.status, login.location]).toEqual([303, "/admin"]);
    const pages = [];
    for (let i = 0; i < 20; i++)
      pages.push(jar.take(await httpRequest(`${url}/admin`, { cookie: jar.header })));
    expect(pages.map((p) => p.status)).toEqual(Array(20).fill(200));
    expect(pages.every((p) => p.body.includes("Log out"))).toBe(true);
    expect([...answeringPids(running.output())].sort()).toEqual([...workers].sort());

    // An approval in a web process queues its SMS; the primary's one dispatcher sends it at once.
    const ctx = buildContext(
      loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_DIR: dataDir }, {}),
      database,
      { log: testLogger() },
    );
    const student = await createStudent(ctx);
    const page = jar.take(
      await httpRequest(`${url}/admin/students/${student.id}`, { cookie: jar.header }),
    );
    const approve = jar.take(
      await httpRequest(`${url}/admin/students/${student.id}/approve`, {
        cookie: jar.header,
        form: { _csrf: csrfToken(page.body) },
      }),
    );
    expect(approve.status).toBe(303);
    await waitFor(
      async () =>
        (
          await database.db
            .selectFrom("sms_messages")
            .select("status")
            .where("student_id", "=", student.id)
            .executeTakeFirst()
        )?.status === "captured",
      10_000,
      "the approval SMS to be sent",
    );
    const smsLog = readFileSync(join(dataDir, "logs", "sms.log"), "utf8");
    expect(smsLog.match(/"dispatcher started"/g)).toHaveLength(1);

    // A web process killed outright is replaced, and the portal goes on answering from both.
    const [victim, survivor] = workers as [number, number];
    process.kill(victim, "SIGKILL");
    await waitFor(
      () =>
        running
          .output()
          .includes(`web process ${victim} exited (signal SIGKILL); starting another`) &&
        childNodePids(running.pid).length === 2 &&
        !childNodePids(running.pid).includes(victim),
      20_000,
      "a replacement web process",
    );
    const replacement = childNodePids(running.pid).find((pid) => pid !== survivor)!;
    // The replacement is forked at once but answers once it listens.
    await waitFor(
      async () =>
        (await httpRequest(`${url}/healthz`)).status === 200 &&
        answeringPids(running.output()).has(replacement),
      20_000,
      "the replacement to answer",
    );
    const mark = running.output().length;
    const after = [];
    for (let i = 0; i < 20; i++)
      after.push(await httpRequest(`${url}/admin`, { cookie: jar.header }));
    expect(after.map((p) => p.status)).toEqual(Array(20).fill(200));
    expect([...answeringPids(running.output(), mark)].sort()).toEqual(
      [survivor, replacement].sort(),
    );

    // SIGTERM to the primary alone stops every process of the portal, with exit code 0.
    process.kill(running.pid, "SIGTERM");
    const [code, signal] = await running.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    await waitFor(() => !isAlive(survivor) && !isAlive(replacement), 10_000, "no web process left");
    serve = undefined;
  }, 120_000);

  it("stops with exit code 1, forking no more, when its web processes cannot listen", async () => {
    const { createServer } = await import("node:net");
    const taken = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => taken.once("listening", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      serve = spawnPortal(["serve"], {
        WEB_CONCURRENCY: "2",
        PORT: String(port),
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        LOG_DIR: join(dataDir, "logs"),
        LOG_LEVEL: "warn",
      });
      const [code] = await serve.exited;
      expect(code).toBe(1);
      expect(serve.output()).toContain(`portal: bind EADDRINUSE 127.0.0.1:${port}`);
      expect(serve.output()).toContain("portal: a web process exited while starting (code 1)");
      serve = undefined;
    } finally {
      taken.close();
    }
  }, 60_000);

  it("with WEB_CONCURRENCY=1 stays one process: no web process under it", async () => {
    serve = spawnPortal(["serve"], {
      PORT: "0",
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      LOG_DIR: join(dataDir, "logs"),
      LOG_LEVEL: "warn",
    });
    const running = serve;
    const url = await waitFor(
      () => /open (http:\/\/\S+)/.exec(running.output())?.[1],
      30_000,
      "the portal to listen",
    );
    expect((await httpRequest(`${url}/healthz`)).status).toBe(200);
    expect(childNodePids(running.pid)).toEqual([]);
    process.kill(running.pid, "SIGTERM");
    expect((await running.exited)[0]).toBe(0);
    serve = undefined;
  }, 60_000);
});
