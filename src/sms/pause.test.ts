// @both-databases: the shared pause row read by every dispatcher.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAdmin, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import {
  queueTestMessages,
  startEmulator,
  statusCounts,
  twilioEnv,
  waitFor,
} from "#test/support/sms.ts";
import { startWorkerProcess, type WorkerProcess } from "#test/support/worker.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let workers: WorkerProcess[] = [];

afterEach(async () => {
  for (const w of workers) await w.kill("SIGKILL");
  workers = [];
  await t?.close();
  await emulator?.close();
  t = emulator = undefined;
});

function start(): { worker: WorkerProcess; log: () => string } {
  const logDir = mkdtempSync(join(tmpdir(), "portal-pause-logs-"));
  const worker = startWorkerProcess({
    ...twilioEnv(emulator!),
    DATABASE_URL: t!.database.url,
    DATA_DIR: t!.dataDir,
    LOG_DIR: logDir,
    SMS_POLL_MS: "100",
  });
  workers.push(worker);
  const log = () => {
    try {
      return readFileSync(join(logDir, "sms.log"), "utf8");
    } catch {
      return "";
    }
  };
  return { worker, log };
}

const count = (text: string, what: string) => text.split(what).length - 1;

describe("an admin's pause of all sending", () => {
  it("stops every worker process, survives a restart, and resume sends each message once", {
    timeout: 120_000,
  }, async () => {
    emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
    t = await createTestApp();
    const admin = await createAdmin(t.ctx, "pause-admin@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);
    const first = start();
    const second = start();
    await Promise.all([first.worker.ready, second.worker.ready]);

    await staff.post("/admin/sms/pause", { reason: "Checking the alert text" });
    await waitFor(
      () => [first, second].every((w) => w.log().includes("sending paused by an admin")),
      20_000,
      "both workers to see the pause",
    );
    await queueTestMessages(t.ctx, 50, { bulk: true, body: (i) => `Paused alert ${i}` });

    // A worker restarted during the pause reads it from the database and sends nothing either.
    await second.worker.kill("SIGKILL");
    const third = start();
    await third.worker.ready;
    const seen = [first, third].map((w) => count(w.log(), "still paused by an admin"));
    // Each has polled again since the messages were queued (and claimed nothing).
    await waitFor(
      () => [first, third].every((w, i) => count(w.log(), "still paused by an admin") > seen[i]!),
      30_000,
      "both running workers to poll again while paused",
    );
    expect(third.log()).toContain("sending paused by an admin");
    expect(emulator.messages).toHaveLength(0);
    expect(await statusCounts(t.ctx)).toEqual({ queued: 50 });

    await staff.post("/admin/sms/resume");
    await waitFor(async () => (await statusCounts(t!.ctx)).sent === 50, 60_000, "50 sent");
    expect(emulator.messages).toHaveLength(50);
    expect(new Set(emulator.messages.map((m) => m.body)).size).toBe(50);
    for (const w of [first, third]) expect(w.log()).toContain("resumed by an admin");
  });
});
