// @both-databases: several dispatchers sharing one outbox.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
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

function workerEnv(extra: Record<string, string>) {
  return {
    ...twilioEnv(emulator!),
    DATABASE_URL: t!.database.url,
    DATA_DIR: t!.dataDir,
    LOG_DIR: mkdtempSync(join(tmpdir(), "portal-worker-logs-")),
    SMS_POLL_MS: "200",
    ...extra,
  };
}

/** Each body the emulator received, with how many times. */
function receivedCounts(e: TwilioEmulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of e.messages) counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
  return counts;
}

describe("SMS worker processes", () => {
  it("three workers on one database send 1,000 messages exactly once between them", {
    timeout: 120_000,
  }, async () => {
    emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
    t = await createTestApp();
    // Each worker is paced to 150/s, so the run lasts seconds and all three are polling when the
    // messages appear.
    const env = { SMS_RATE_PER_SECOND: "150", SMS_CONCURRENCY: "20", SMS_BATCH_SIZE: "25" };
    const envs = [1, 2, 3].map(() => workerEnv(env));
    workers = envs.map((e) => startWorkerProcess(e));
    await Promise.all(workers.map((w) => w.ready));
    await queueTestMessages(t.ctx, 1000, { bulk: true, body: (i) => `Bulk alert ${i}` });
    await waitFor(async () => (await statusCounts(t!.ctx)).sent === 1000, 90_000, "1,000 sent");

    expect(emulator.messages).toHaveLength(1000);
    const counts = receivedCounts(emulator);
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const sids = await t.ctx.db.selectFrom("sms_messages").select("twilio_sid").execute();
    expect(new Set(sids.map((r) => r.twilio_sid)).size).toBe(1000);
    // All three took part: each one's sms.log records sends of its own.
    const sentPerWorker = envs.map(
      (e) =>
        readFileSync(join(e.LOG_DIR, "sms.log"), "utf8")
          .split("\n")
          .filter((l) => l.includes('"msg":"sent"')).length,
    );
    expect(sentPerWorker.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const n of sentPerWorker) expect(n).toBeGreaterThan(0);
  });

  it("a worker killed with SIGKILL mid-send, then restarted, loses and doubles nothing", {
    timeout: 120_000,
  }, async () => {
    // Each answer comes 150 ms after the message exists at "Twilio": kills land inside that window.
    emulator = await startEmulator({ knobs: { latencyMs: 150, callbacks: [] } });
    t = await createTestApp();
    await queueTestMessages(t.ctx, 500, { body: (i) => `Status update ${i}` });
    const env = {
      SMS_RATE_PER_SECOND: "100",
      SMS_CONCURRENCY: "10",
      SMS_BATCH_SIZE: "20",
      SMS_LEASE_SECONDS: "5",
    };

    const first = startWorkerProcess(workerEnv(env));
    workers.push(first);
    await first.ready;
    await waitFor(() => emulator!.messages.length >= 150, 60_000, "150 messages at the emulator");
    await first.kill("SIGKILL");

    const atKill = await statusCounts(t.ctx);
    const unanswered = emulator.messages.length - (atKill.sent ?? 0);
    expect(atKill.sending ?? 0).toBeGreaterThan(0); // rows the dead worker held
    expect(unanswered).toBeGreaterThan(0); // messages out whose answer never got recorded

    const second = startWorkerProcess(workerEnv(env));
    workers.push(second);
    await waitFor(
      async () => (await statusCounts(t!.ctx)).sent === 500,
      90_000,
      "500 sent after restart",
    );

    const counts = receivedCounts(emulator);
    expect(counts.size).toBe(500);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(emulator.messages).toHaveLength(500);
    const rows = await t.ctx.db.selectFrom("sms_messages").select(["twilio_sid", "body"]).execute();
    const sidByBody = new Map(emulator.messages.map((m) => [m.body, m.sid]));
    for (const row of rows) expect(row.twilio_sid).toBe(sidByBody.get(row.body));
  });

  it("a worker stopped with SIGTERM finishes or gives back what it holds, and exits 0", {
    timeout: 60_000,
  }, async () => {
    emulator = await startEmulator({ knobs: { latencyMs: 50, callbacks: [] } });
    t = await createTestApp();
    await queueTestMessages(t.ctx, 40);
    const worker = startWorkerProcess(
      workerEnv({ SMS_RATE_PER_SECOND: "10", SMS_BATCH_SIZE: "20" }),
    );
    workers.push(worker);
    await worker.ready;
    await waitFor(() => emulator!.messages.length >= 5, 20_000, "5 sent");
    const exited = new Promise<number | null>((resolve) =>
      worker.child.once("exit", (code) => resolve(code)),
    );
    worker.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const counts = await statusCounts(t.ctx);
    expect(counts.sending ?? 0).toBe(0);
    expect(counts.sent).toBe(emulator.messages.length);
    expect((counts.sent ?? 0) + (counts.queued ?? 0)).toBe(40);
  });
});
