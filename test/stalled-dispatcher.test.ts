// @both-databases: heartbeats are compared by each database's clock, across processes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nishaRegistration, pdfBytes } from "#test/support/client.ts";
import { createTestDatabase, type TestDatabase } from "#test/support/database.ts";
import { HttpClient } from "#test/support/http-client.ts";
import { type ServerProcess, startServerProcess } from "#test/support/server.ts";
import { startEmulator, twilioEnv, waitFor } from "#test/support/sms.ts";
import { startWorkerProcess, type WorkerProcess } from "#test/support/worker.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";

/**
 * A deployment where `portal worker` processes send: `portal serve` with SMS_DISPATCHER=false and
 * one worker, as real processes on one database. When the only worker dies (SIGKILL: no goodbye)
 * and an SMS is due, the admin banner and /healthz say sending has stalled; a worker started
 * again sends it and the warning clears. A worker stopped with SIGTERM deletes its heartbeat, so
 * the next due message shows the stall without waiting for the window.
 */

const ADMIN = { email: "office@college.test", password: "office-password-1" };
const STALLED_WORDS = "SMS are not being sent: messages are waiting, but no SMS dispatcher";

let database: TestDatabase | undefined;
let emulator: TwilioEmulator | undefined;
let server: ServerProcess | undefined;
let worker: WorkerProcess | undefined;
let env: Record<string, string> = {};
const logDir = mkdtempSync(join(tmpdir(), "portal-worker-logs-"));

function startWorker(): WorkerProcess {
  worker = startWorkerProcess({ ...env, DATA_DIR: logDir, LOG_DIR: logDir });
  return worker;
}

beforeAll(async () => {
  database = await createTestDatabase();
  emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
  env = {
    ...twilioEnv(emulator),
    DATABASE_URL: database.url,
    SESSION_SECRET: "stalled-dispatcher-session-secret-0123456789",
    // Small, so the test sees a dead worker's heartbeat grow old in seconds.
    SMS_STALLED_AFTER_SECONDS: "2",
  };
  server = await startServerProcess({
    ...env,
    SMS_DISPATCHER: "false",
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  });
  await startWorker().ready;
}, 60_000);

afterAll(async () => {
  await worker?.kill("SIGKILL");
  await server?.stop();
  await emulator?.close();
  await database?.destroy();
  rmSync(logDir, { recursive: true, force: true });
});

describe("portal serve with SMS_DISPATCHER=false and one portal worker", () => {
  it("says sending has stalled while no worker runs and messages are due, and clears when one runs", {
    timeout: 90_000,
  }, async () => {
    const web = server!.url;
    const admin = new HttpClient();
    expect((await admin.post(web, "/login", ADMIN)).status).toBe(303);
    const health = async () =>
      JSON.parse((await admin.get(web, "/healthz")).body) as { sms: string; dispatchers: number };
    const bannerSaysStalled = async () =>
      (await admin.get(web, "/admin")).body.includes(STALLED_WORDS);
    const received = (to: string) => emulator!.messages.filter((m) => m.to === to).length;

    let students = 0;
    /** Registers a student over HTTP and approves them: their approval SMS is queued, due now. */
    const approveNewStudent = async (): Promise<string> => {
      students += 1;
      const phone = `+91984501234${students}`;
      const form = {
        ...nishaRegistration(pdfBytes(`student ${students}`)),
        roll_number: `1XY22CS70${students}`,
        email: `student${students}@college.test`,
        phone: phone.slice(3),
      };
      expect((await new HttpClient().postMultipart(web, "/register", form)).status).toBe(303);
      const student = await database!.db
        .selectFrom("students")
        .select("id")
        .where("roll_number", "=", form.roll_number)
        .executeTakeFirstOrThrow();
      expect((await admin.post(web, `/admin/students/${student.id}/approve`)).status).toBe(303);
      return phone;
    };

    // The worker sends: nothing from the web process's side (it runs no dispatcher).
    const first = await approveNewStudent();
    await waitFor(
      () => received(first) === 1,
      20_000,
      "the first approval SMS, sent by the worker",
    );
    expect(await health()).toEqual({ status: "ok", sms: "ok", dispatchers: 1 });
    expect(await bannerSaysStalled()).toBe(false);

    // The only worker dies without a word: its heartbeat stays and grows old.
    await worker!.kill("SIGKILL");
    const second = await approveNewStudent();
    await waitFor(
      async () => (await health()).sms === "stalled",
      20_000,
      "/healthz to say stalled",
    );
    expect(await health()).toEqual({ status: "ok", sms: "stalled", dispatchers: 0 });
    expect(await bannerSaysStalled()).toBe(true);
    expect(received(second)).toBe(0);

    // A worker again: it sends the waiting message, and the warning clears.
    await startWorker().ready;
    await waitFor(() => received(second) === 1, 20_000, "the waiting SMS, sent by the new worker");
    await waitFor(async () => (await health()).sms === "ok", 20_000, "/healthz to say ok again");
    expect(await bannerSaysStalled()).toBe(false);

    // Stopped gracefully (SIGTERM), a worker deletes its heartbeat (the killed one's row stays,
    // old, until the maintenance prunes it): a due message is a stall at once.
    const workerId = /SMS worker (\S+) running/.exec(worker!.output())?.[1];
    expect(workerId).toBeDefined();
    await worker!.kill("SIGTERM");
    const rows = await database!.db.selectFrom("sms_dispatchers").select("worker_id").execute();
    expect(rows.map((r) => r.worker_id)).not.toContain(workerId);
    expect(rows).toHaveLength(1);
    await approveNewStudent();
    await waitFor(async () => bannerSaysStalled(), 20_000, "the banner to say stalled");
  });
});
