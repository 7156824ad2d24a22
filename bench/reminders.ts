/**
 * The reminders drill (issue 23), `npm run drill -- reminders [--db sqlite|postgres]`: a round day
 * for 5,000 students in 50 slots, with every reminder due in the next few minutes, through the
 * portal's own code (rounds/service.ts writes them) and its real dispatcher processes.
 *
 * - 5,000 approved students (the demo seed, opted in, a number each) applied to one job, put in a
 *   round's 50 batches of 100 by `addMembers`, as the office's confirmation does: each gets the
 *   "you are in" SMS now and a reminder one minute before their batch (REMINDER_EARLY_MINUTES=1),
 *   the batches six seconds apart, so the reminders fall due over five minutes.
 * - Quiet hours (SMS_QUIET_HOURS) cover two of those minutes: a reminder due then waits for their
 *   end, or is recorded as not sent when its batch starts before they end.
 * - The dispatcher is killed (SIGKILL) halfway through a batch once 30 % of the reminders went, and comes back after 75 s,
 *   longer than a reminder's minute: the reminders whose batch started meanwhile must not go.
 *
 * PASS: every reminder sent exactly once (one create at the emulator, its SID on its row) or
 * recorded as not sent with why; none created at or after its batch's start; none created in
 * quiet hours; every "you are in" SMS sent exactly once; no portal process died unasked.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { pino } from "pino";
import { upsertAdmin } from "../src/accounts/service.ts";
import { loadConfig } from "../src/config.ts";
import { type AppContext, systemClock } from "../src/context.ts";
import { openDatabase } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { addMembers, createRound } from "../src/rounds/service.ts";
import { seedDemo } from "../src/seed/demo.ts";
import { formatTimeOfDay, indiaMinuteOfDay } from "../src/sms/time-of-day.ts";
import { fmt, type Harness, sleep } from "./drill-lib.ts";

const SLOTS = 50;
const REMINDER_LEAD_MINUTES = 1;
const KILLED_FOR_MS = 75_000;
const PASSWORD = "reminders-drill-password";

export async function remindersDrill(h: Harness): Promise<void> {
  const students = h.options.messages;
  const perSlot = Math.ceil(students / SLOTS);
  // The reduced drill (the test suite): batches 4 s apart, one minute of quiet hours.
  const spacingMs = h.options.reduced ? 4_000 : 6_000;
  const quietMinutes = h.options.reduced ? 1 : 2;
  await h.startEmulator([], { latencyMs: 50, callbacks: [] });
  await h.openDatabase(h.options.db);
  mkdirSync(join(h.dir, "data"), { recursive: true });
  const database = openDatabase(h.databaseUrl, { poolSize: 3 });
  try {
    // The first reminder a little after the scheduling is done; the quiet window two minutes in.
    const firstDue = Date.now() + (h.options.reduced ? 45_000 : 100_000);
    const quietStartMs = Math.ceil((firstDue + (SLOTS * spacingMs) / 2) / 60_000) * 60_000;
    const quietEndMs = quietStartMs + quietMinutes * 60_000;
    const window = `${formatTimeOfDay(indiaMinuteOfDay(new Date(quietStartMs)))}-${formatTimeOfDay(indiaMinuteOfDay(new Date(quietEndMs)))}`;
    const settings = {
      SMS_QUIET_HOURS: window,
      REMINDER_EVENING_AT: "",
      REMINDER_EARLY_MINUTES: String(REMINDER_LEAD_MINUTES),
      REMINDER_EARLY_BEFORE: "23:59",
      SMS_RATE_PER_SECOND: "100",
      SMS_CONCURRENCY: "20",
      SMS_BATCH_SIZE: "20",
      SMS_LEASE_SECONDS: "10",
    };
    const silent = pino({ level: "silent" });
    const ctx: AppContext = {
      db: database.db,
      dialect: database.dialect,
      config: loadConfig(
        {
          DATABASE_URL: h.databaseUrl,
          DATA_DIR: join(h.dir, "data"),
          LOG_DIR: join(h.dir, "logs"),
          ...settings,
        },
        {},
      ),
      clock: systemClock,
      log: silent,
      smsLog: silent,
    };
    await migrateToLatest(database.db);
    // On PostgreSQL a worker sends and is the one killed; `serve` does not send. On SQLite the one
    // `serve` process is the dispatcher.
    const postgres = h.options.db === "postgres";
    await h.startPortal("serve", "serve", {
      ...settings,
      ...(postgres ? { SMS_DISPATCHER: "false" } : {}),
    });
    if (postgres) await h.startPortal("worker-1", "worker", settings);
    const victim = h.processes.find((p) => p.role === (postgres ? "worker-1" : "serve"))!;

    const seededAt = performance.now();
    await seedDemo(ctx, { students, jobs: 0, applications: 0, password: PASSWORD, season: false });
    const now = new Date().toISOString();
    const typed = (iso: string) => (postgres ? sql`cast(${iso} as timestamptz)` : sql`${iso}`);
    await sql`update students set sms_opted_out_at = null,
        approved_at = coalesce(approved_at, ${typed(now)}),
        phone_e164 = '+91' || cast(9000000000 + id as text)`.execute(database.db);
    const admin = await upsertAdmin(ctx, "reminders-admin@college.test", PASSWORD);
    const actor = { id: admin.id, email: "reminders-admin@college.test" };
    const job = await database.db
      .insertInto("jobs")
      .values({
        company: "Infosys",
        title: "Systems Engineer",
        type: "placement",
        description: "Reminders drill job.",
        location: "Mysuru",
        package_range: "3.6 LPA",
        official_link: null,
        min_cgpa: null,
        max_backlogs: null,
        apply_by: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        status: "open",
        posted_by: null,
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await sql`insert into applications (job_id, student_id, status, created_at, updated_at)
      select ${job.id}, id, 'applied', ${typed(now)}, ${typed(now)} from students`.execute(
      database.db,
    );
    const slotStart = (k: number) => firstDue + REMINDER_LEAD_MINUTES * 60_000 + k * spacingMs;
    const round = await createRound(ctx, actor, job.id, {
      name: "Aptitude test",
      kind: "test",
      starts_at: new Date(slotStart(0)).toISOString(),
      duration_minutes: 30,
      venue: "Seminar Hall 2",
      meeting_link: null,
      instructions: "",
      batches: [],
      capacity: perSlot,
    });
    if (!round) throw new Error("the drill's job is gone");
    const [first] = await database.db
      .selectFrom("round_slots")
      .select("id")
      .where("round_id", "=", round.id)
      .execute();
    const slotIds = [first!.id];
    for (let k = 1; k < SLOTS; k++) {
      const slot = await database.db
        .insertInto("round_slots")
        .values({
          round_id: round.id,
          starts_at: new Date(slotStart(k)).toISOString(),
          capacity: perSlot,
          created_at: now,
          updated_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      slotIds.push(slot.id);
    }
    const applications = await database.db
      .selectFrom("applications")
      .select("id")
      .orderBy("id")
      .execute();
    const scheduleStarted = performance.now();
    for (const [k, slotId] of slotIds.entries()) {
      const ids = applications.slice(k * perSlot, (k + 1) * perSlot).map((a) => a.id);
      if (ids.length === 0) break;
      const added = await addMembers(ctx, actor, round.id, slotId, { applicationIds: ids });
      if (!added.ok) throw new Error(`slot ${k}: ${added.problem}`);
    }
    const scheduleSeconds = (performance.now() - scheduleStarted) / 1000;
    h.figure(
      "scheduled",
      `${students} students in ${SLOTS} batches of ${perSlot}, ${spacingMs / 1000} s apart, in ${fmt(scheduleSeconds)} s (seeding ${fmt((scheduleStarted - seededAt) / 1000)} s)`,
    );
    h.check(
      `scheduling done before the first reminder was due (${fmt((firstDue - Date.now()) / 1000)} s to spare)`,
      Date.now() < firstDue,
    );
    h.figure(
      "quiet hours",
      `${window} India time (${fmt((quietStartMs - firstDue) / 1000, 0)}-${fmt((quietEndMs - firstDue) / 1000, 0)} s after the first reminder was due)`,
    );

    // Kill the dispatcher once 30 % of the reminders went; bring it back 75 s later.
    // Halfway through a batch's 100, so that some are being sent when it dies.
    const written = await countReminders(h, "all");
    const killAt = Math.floor((written * 0.3) / perSlot) * perSlot + Math.floor(perSlot / 2);
    for (;;) {
      h.assertTime("waiting for 30 % of the reminders");
      if ((await countReminders(h, "sent")) >= killAt) break;
      await sleep(100);
    }
    const inFlight = (await h.statusCounts())?.sending ?? 0;
    const killedAt = Date.now();
    await h.killAndRestart(victim, KILLED_FOR_MS);
    h.figure(
      "dispatcher killed",
      `${victim.role} (SIGKILL) at ${killAt} reminders sent, ${inFlight} rows sending; restarted ${fmt((Date.now() - killedAt) / 1000, 0)} s later`,
    );

    // Until the last batch has started and nothing is queued or being sent.
    const lastStart = slotStart(SLOTS - 1);
    for (;;) {
      h.assertTime("waiting for the reminders to settle");
      const counts = await h.statusCounts();
      if (
        counts &&
        Date.now() > lastStart + 2_000 &&
        (counts.queued ?? 0) + (counts.sending ?? 0) === 0
      )
        break;
      await sleep(500);
    }

    const rows = await database.db
      .selectFrom("sms_messages")
      .select([
        "kind",
        "status",
        "to_e164",
        "body",
        "twilio_sid",
        "not_after",
        "due_at",
        "error_message",
      ])
      .where("kind", "in", ["round_reminder", "round_scheduled"])
      .execute();
    const requests = await h.emulator!.requests();
    const messages = await h.emulator!.messages();
    const created = new Map<string, number[]>();
    for (const q of requests) {
      if (q.method !== "POST" || !q.path.endsWith("/Messages.json") || q.status !== 201) continue;
      const key = `${q.params.To}\n${q.params.Body}`;
      created.set(key, [...(created.get(key) ?? []), Date.parse(q.at)]);
    }
    const sidTo = new Map(messages.map((m) => [m.sid, m.to]));
    const tally = (kind: string) => {
      const mine = rows.filter((r) => r.kind === kind);
      const sent = mine.filter((r) => r.status === "sent" || r.status === "delivered");
      const byStatus: Record<string, number> = {};
      for (const r of mine) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      let doubled = 0;
      let missing = 0;
      let wrongSid = 0;
      let afterSlot = 0;
      let inQuiet = 0;
      for (const r of sent) {
        const times = created.get(`${r.to_e164}\n${r.body}`) ?? [];
        if (times.length === 0) missing += 1;
        doubled += Math.max(0, times.length - 1);
        if (!r.twilio_sid || sidTo.get(r.twilio_sid) !== r.to_e164) wrongSid += 1;
        for (const at of times) {
          if (r.not_after && at >= Date.parse(r.not_after)) afterSlot += 1;
          if (kind === "round_reminder" && at >= quietStartMs && at < quietEndMs) inQuiet += 1;
        }
      }
      // A row not sent must never have reached the emulator either.
      let notSentButCreated = 0;
      for (const r of mine)
        if (
          r.status !== "sent" &&
          r.status !== "delivered" &&
          created.has(`${r.to_e164}\n${r.body}`)
        )
          notSentButCreated += 1;
      return {
        mine,
        sent,
        byStatus,
        doubled,
        missing,
        wrongSid,
        afterSlot,
        inQuiet,
        notSentButCreated,
      };
    };
    const reminders = tally("round_reminder");
    const told = tally("round_scheduled");
    const reasons: Record<string, number> = {};
    for (const r of reminders.mine)
      if (r.status === "skipped") {
        const why = (r.error_message ?? "").replace(/\(not after .*\)/, "(not after its batch)");
        reasons[why] = (reasons[why] ?? 0) + 1;
      }
    // Held: written due at the end of quiet hours (sent then, or skipped if their batch began).
    const held = reminders.mine.filter(
      (r) => r.due_at !== null && Date.parse(r.due_at) === quietEndMs,
    ).length;
    h.figure("reminders written", reminders.mine.length);
    h.figure("reminders held by quiet hours until they ended", held);
    h.figure("reminders by status", JSON.stringify(reminders.byStatus));
    h.figure("reminders not sent, why", JSON.stringify(reasons));
    h.figure("reminders created twice at the emulator", reminders.doubled);
    h.figure("reminders sent at or after their batch's start", reminders.afterSlot);
    h.figure("reminders sent in quiet hours", reminders.inQuiet);
    h.figure(
      "reminders marked sent without a create / with a wrong SID",
      `${reminders.missing} / ${reminders.wrongSid}`,
    );
    h.figure("reminders not sent but created at the emulator", reminders.notSentButCreated);
    h.figure("'you are in' SMS by status", JSON.stringify(told.byStatus));
    h.figure(
      "reconciled after the kill (already sent / not found)",
      `${h.smsLogCount(/reconciled: already sent/)} / ${h.smsLogCount(/reconciled: not found/)}`,
    );
    const final = (r: { status: string }) => r.status === "sent" || r.status === "skipped";
    // A batch at 23:59 India time is not before REMINDER_EARLY_BEFORE: it has no reminder.
    const expected = Array.from({ length: SLOTS }, (_, k) =>
      indiaMinuteOfDay(new Date(slotStart(k))) < 23 * 60 + 59 ? perSlot : 0,
    ).reduce((a, b) => a + b, 0);
    h.check(
      `reminders written ${reminders.mine.length} (want ${expected})`,
      reminders.mine.length === expected,
    );
    h.check("every reminder sent or recorded as not sent", reminders.mine.every(final));
    h.check(
      "every reminder not sent says its time had passed or quiet hours outlasted it",
      reminders.mine
        .filter((r) => r.status === "skipped")
        .every((r) =>
          /^Not sent: (its time had passed|quiet hours last past its time)/.test(
            r.error_message ?? "",
          ),
        ),
    );
    h.check(`reminders doubled ${reminders.doubled} (want 0)`, reminders.doubled === 0);
    h.check(
      `reminders after their slot ${reminders.afterSlot} (want 0)`,
      reminders.afterSlot === 0,
    );
    h.check(`reminders in quiet hours ${reminders.inQuiet} (want 0)`, reminders.inQuiet === 0);
    h.check(
      `reminders sent without a create or with a wrong SID ${reminders.missing + reminders.wrongSid} (want 0)`,
      reminders.missing + reminders.wrongSid === 0,
    );
    h.check(
      `reminders not sent but created ${reminders.notSentButCreated} (want 0)`,
      reminders.notSentButCreated === 0,
    );
    h.check(
      `some reminders were held by quiet hours (${held}) and some were past their batch after the kill (the drill reached its cases)`,
      held > 0 && (reasons["Not sent: its time had passed (not after its batch)"] ?? 0) > 0,
    );
    h.check(
      `every 'you are in' SMS sent exactly once (${told.sent.length} of ${told.mine.length}, doubled ${told.doubled})`,
      told.mine.length === students &&
        told.sent.length === students &&
        told.doubled === 0 &&
        told.missing + told.wrongSid === 0,
    );
    h.checkAlive();
    h.reportRss();
  } finally {
    await database.destroy();
  }
}

/** Reminders written ("all") or sent so far. */
async function countReminders(h: Harness, which: "all" | "sent"): Promise<number> {
  let query = h
    .database!.db.selectFrom("sms_messages")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("kind", "=", "round_reminder");
  if (which === "sent") query = query.where("status", "in", ["sent", "delivered"]);
  return Number((await query.executeTakeFirstOrThrow()).n);
}
