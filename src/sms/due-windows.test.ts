// @both-databases: due times, "not after" and quiet hours are columns the claim and the last look read, with timestamps typed per dialect.
import { afterEach, describe, expect, it } from "vitest";
import { createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import {
  creates,
  quietHoursAroundNow,
  smsRow,
  startEmulator,
  startWatchedDispatcher,
  theseStudents,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { skipLateMessages } from "./outbox.ts";
import {
  type OutboxMessage,
  PRIORITY_BULK,
  PRIORITY_TRANSACTIONAL,
  queueSms,
  queueSmsForStudents,
} from "./outbox-api.ts";
import { quietUntil } from "./quiet-hours.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  await t?.close();
  await emulator?.close();
  t = emulator = dispatcher = undefined;
});

async function start(env: Record<string, string> = {}) {
  emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
  t = await createTestApp({ ...twilioEnv(emulator), SMS_QUIET_HOURS: "", ...env });
  return t;
}

async function watch() {
  const watched = await startWatchedDispatcher(t!.ctx);
  dispatcher = watched.dispatcher;
  return watched;
}

let n = 0;
async function queue(app: TestApp, extra: Partial<OutboxMessage> = {}): Promise<number> {
  n += 1;
  const result = await app.ctx.db.transaction().execute((trx) =>
    queueSms(trx, app.ctx, {
      kind: "custom",
      dedupeKey: `due-windows:${process.pid}:${n}`,
      studentId: null,
      toE164: `+91984502${String(1000 + n).padStart(4, "0")}`,
      body: `Reminder ${n}`,
      priority: PRIORITY_TRANSACTIONAL,
      ...extra,
    }),
  );
  return result.id!;
}

/** The numbers the emulator was asked to send to. */
const sentTo = () => creates(emulator!).map((c) => c.params.To);

describe("a message due later", () => {
  it("waits for its time, then goes once", async () => {
    const app = await start();
    const dueAt = new Date(Date.now() + 1500);
    const id = await queue(app, { dueAt });
    const row = await smsRow(app.ctx, id);
    expect(Date.parse(row.next_attempt_at)).toBe(dueAt.getTime());
    expect(Date.parse(row.due_at!)).toBe(dueAt.getTime());
    const watched = await watch();
    await watched.polled();
    if (Date.now() < dueAt.getTime()) expect(sentTo()).toEqual([]);
    await waitUntilSent(app.ctx, id);
    const [sent] = creates(emulator!);
    expect(sent!.at.getTime()).toBeGreaterThanOrEqual(dueAt.getTime());
    expect(creates(emulator!)).toHaveLength(1);
  });
});

describe("a message past its time (not after)", () => {
  it("is skipped when queued already late, with the reason in words", async () => {
    const app = await start();
    const id = await queue(app, { notAfter: new Date(Date.now() - 1000) });
    const row = await smsRow(app.ctx, id);
    expect(row.status).toBe("skipped");
    expect(row.error_message).toMatch(/^Not sent: its time had passed \(not after .+\)$/);
  });

  it("is never sent once its time has passed, whether the sweep or the last look finds it", async () => {
    const app = await start();
    const notAfter = new Date(Date.now() + 300);
    const late = await queue(app, { notAfter });
    // Left by an attempt in doubt: the sweep passes it over, its claim asks Twilio, then the last
    // look finds it late.
    const inDoubt = await queue(app, { notAfter });
    await app.ctx.db
      .updateTable("sms_messages")
      .set({ unconfirmed_attempt_at: new Date(Date.now() - 5000).toISOString(), attempts: 1 })
      .where("id", "=", inDoubt)
      .execute();
    const onTime = await queue(app, { notAfter: new Date(Date.now() + 3_600_000) });
    // No dispatcher until the first one's time has passed by the clock every dispatcher uses.
    await waitFor(() => Date.now() > notAfter.getTime() + 50, 5000, "the moment to pass");
    const watched = await watch();
    await waitUntilSent(app.ctx, onTime);
    await watched.polled();
    for (const id of [late, inDoubt]) {
      const row = await smsRow(app.ctx, id);
      expect(row.status, `message ${id}`).toBe("skipped");
      expect(row.error_message).toMatch(/^Not sent: its time had passed/);
    }
    expect(sentTo()).toEqual([(await smsRow(app.ctx, onTime)).to_e164]);
  });

  it("the sweep skips queued ones past their time, not one whose last attempt may have gone out", async () => {
    const app = await start();
    // Two seconds ahead: the first sweep must run before it even on a loaded machine (200 ms
    // was not enough under CI's load on PostgreSQL).
    const past = new Date(Date.now() + 2000);
    const plain = await queue(app, { notAfter: past });
    const inDoubt = await queue(app, { notAfter: past });
    await app.ctx.db
      .updateTable("sms_messages")
      .set({ unconfirmed_attempt_at: new Date().toISOString(), attempts: 1 })
      .where("id", "=", inDoubt)
      .execute();
    expect(await skipLateMessages(app.ctx)).toBe(0);
    await waitFor(() => Date.now() > past.getTime() + 50, 5000, "the moment to pass");
    expect(await skipLateMessages(app.ctx)).toBe(1);
    expect((await smsRow(app.ctx, plain)).status).toBe("skipped");
    expect((await smsRow(app.ctx, inDoubt)).status).toBe("queued");
    expect(await skipLateMessages(app.ctx)).toBe(0);
  });
});

describe("quiet hours", () => {
  it("hold a quiet message until they end; an urgent one goes at once", async () => {
    const app = await start({ SMS_QUIET_HOURS: quietHoursAroundNow() });
    const window = app.ctx.config.SMS_QUIET_HOURS;
    expect(window).not.toBeNull();
    const quiet = await queue(app, { quiet: true, priority: PRIORITY_BULK });
    const urgent = await queue(app);
    const held = await smsRow(app.ctx, quiet);
    const until = quietUntil(new Date(held.created_at), window);
    expect(until).not.toBeNull();
    expect(Date.parse(held.next_attempt_at)).toBe(until!.getTime());
    expect(held.quiet).toBe(1);
    expect(Date.parse(held.due_at!)).toBe(until!.getTime());
    const watched = await watch();
    await waitUntilSent(app.ctx, urgent);
    await watched.polled();
    expect((await smsRow(app.ctx, quiet)).status).toBe("queued");
    expect(sentTo()).toEqual([(await smsRow(app.ctx, urgent)).to_e164]);
  });

  it("hold a quiet message that was due just before they began, at its last look", async () => {
    const app = await start({ SMS_QUIET_HOURS: quietHoursAroundNow() });
    const quiet = await queue(app, { quiet: true });
    // As if queued a moment before the window opened: due now.
    await app.ctx.db
      .updateTable("sms_messages")
      .set({ next_attempt_at: new Date(Date.now() - 1000).toISOString(), due_at: null })
      .where("id", "=", quiet)
      .execute();
    const watched = await watch();
    await watched.polled();
    await watched.polled();
    const row = await smsRow(app.ctx, quiet);
    expect(row).toMatchObject({ status: "queued", attempts: 0, unconfirmed_attempt_at: null });
    const until = quietUntil(new Date(), app.ctx.config.SMS_QUIET_HOURS);
    expect(Date.parse(row.next_attempt_at)).toBe(until!.getTime());
    expect(sentTo()).toEqual([]);
  });

  it("off (empty): a quiet message goes at once", async () => {
    const app = await start({ SMS_QUIET_HOURS: "" });
    const id = await queue(app, { quiet: true });
    await watch();
    await waitUntilSent(app.ctx, id);
  });
});

describe("a fan-out with a time", () => {
  it("writes each student's row due later, quiet and with its last moment", async () => {
    const app = await start();
    const students = [await createStudent(app.ctx), await createStudent(app.ctx)];
    const dueAt = new Date(Date.now() + 3_600_000);
    const notAfter = new Date(Date.now() + 7_200_000);
    const queued = await app.ctx.db.transaction().execute((trx) =>
      queueSmsForStudents(trx, app.ctx, {
        kind: "custom",
        reference: "round:1",
        dedupePrefix: "round:1:reminder:",
        body: "Aptitude test tomorrow 10:00, Seminar Hall.",
        quiet: true,
        dueAt,
        notAfter,
        students: theseStudents(
          trx,
          students.map((s) => s.id),
        ),
      }),
    );
    expect(queued).toBe(2);
    const rows = await app.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("reference", "=", "round:1")
      .execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.status).toBe("queued");
      expect(Date.parse(row.next_attempt_at)).toBe(dueAt.getTime());
      expect(Date.parse(row.due_at!)).toBe(dueAt.getTime());
      expect(Date.parse(row.not_after!)).toBe(notAfter.getTime());
      expect(row.quiet).toBe(1);
    }
    const late = await app.ctx.db.transaction().execute((trx) =>
      queueSmsForStudents(trx, app.ctx, {
        kind: "custom",
        reference: "round:2",
        dedupePrefix: "round:2:reminder:",
        body: "Too late.",
        notAfter: new Date(Date.now() - 1000),
        students: theseStudents(trx, [students[0]!.id]),
      }),
    );
    expect(late).toBe(0);
    const skipped = await app.ctx.db
      .selectFrom("sms_messages")
      .select(["status", "error_message"])
      .where("reference", "=", "round:2")
      .executeTakeFirstOrThrow();
    expect(skipped.status).toBe("skipped");
    expect(skipped.error_message).toMatch(/^Not sent: its time had passed/);
  });
});
