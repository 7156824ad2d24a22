// @both-databases: several dispatchers sharing one outbox.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import {
  creates,
  createTimes,
  mostInAnyWindow,
  queueTestMessages,
  smsRow,
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

/**
 * SMS_RATE_PER_SECOND holds for the portal, all processes together (decision 025): at most
 * `rate` a second over `windowMs`, give or take the 5 % and the few sends of a booking's edges.
 * A correctness bound, not a speed measurement (bench/sms-dispatch.ts measures over a minute).
 */
function expectPortalRate(times: number[], rate: number, windowMs: number) {
  expect(mostInAnyWindow(times, windowMs)).toBeLessThanOrEqual(
    Math.floor(((rate * windowMs) / 1000) * 1.05 + rate / 4),
  );
}

describe("SMS worker processes", () => {
  it("three workers at SMS_RATE_PER_SECOND=10 send 10 a second together, not 10 each", {
    timeout: 120_000,
  }, async () => {
    emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
    t = await createTestApp();
    const env = { SMS_RATE_PER_SECOND: "10", SMS_CONCURRENCY: "10", SMS_BATCH_SIZE: "10" };
    workers = [1, 2, 3].map(() => startWorkerProcess(workerEnv(env)));
    await Promise.all(workers.map((w) => w.ready));
    // Ten seconds at 10 a second (three and a half at 10 each).
    await queueTestMessages(t.ctx, 100, { bulk: true, body: (i) => `Bulk alert ${i}` });
    await waitFor(async () => (await statusCounts(t!.ctx)).sent === 100, 60_000, "100 sent");

    expect(emulator.messages).toHaveLength(100);
    expectPortalRate(createTimes(emulator), 10, 5000);
  });

  it("two workers share one pace, and an approval queued during a fan-out goes out before the rest of it", {
    timeout: 120_000,
  }, async () => {
    emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
    t = await createTestApp();
    // Each holds up to 20 claimed alerts, all waiting for sending time.
    const env = { SMS_RATE_PER_SECOND: "10", SMS_CONCURRENCY: "20", SMS_BATCH_SIZE: "10" };
    workers = [1, 2].map(() => startWorkerProcess(workerEnv(env)));
    await Promise.all(workers.map((w) => w.ready));
    await queueTestMessages(t.ctx, 80, { bulk: true, body: (i) => `Job alert ${i}` });
    await waitFor(() => emulator!.messages.length >= 20, 30_000, "20 alerts sent");
    const [approval] = await queueTestMessages(t.ctx, 1, { body: () => "You are approved" });
    // How many had reached the emulator when a worker claimed it (seen within 50 ms).
    const sentBeforeClaim = await waitFor(
      async () =>
        (await smsRow(t!.ctx, approval!)).status !== "queued" && creates(emulator!).length,
      30_000,
      "the approval claimed",
    );
    await waitFor(async () => (await statusCounts(t!.ctx)).sent === 81, 45_000, "81 sent");

    const bodies = creates(emulator).map((r) => r.params.Body);
    const position = bodies.indexOf("You are approved") - sentBeforeClaim;
    // Once claimed, by either worker, it waits only for the sending time the two have booked
    // (a stretch and a half each, three sends), not behind the 20 alerts each holds.
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThanOrEqual(6);
    expect(bodies.indexOf("You are approved")).toBeLessThan(bodies.length - 20);
    expectPortalRate(createTimes(emulator), 10, 5000);
  });

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
    // All three took part: each one's sms.log records sends of its own. A line follows its row's
    // write (and the look for early callbacks after it): wait for the last ones.
    const sentLines = () =>
      envs.map(
        (e) =>
          readFileSync(join(e.LOG_DIR, "sms.log"), "utf8")
            .split("\n")
            .filter((l) => l.includes('"msg":"sent"')).length,
      );
    const sentPerWorker = await waitFor(() => {
      const lines = sentLines();
      return lines.reduce((a, b) => a + b, 0) >= 1000 ? lines : null;
    }, 10_000);
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
