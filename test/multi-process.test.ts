// @both-databases: several dispatcher processes on one database.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DB } from "#src/db/schema.ts";
import { toLocalInput } from "#src/web/time.ts";
import { nishaRegistration, pdfBytes } from "#test/support/client.ts";
import { createTestDatabase, type TestDatabase, testDialect } from "#test/support/database.ts";
import { HttpClient } from "#test/support/http-client.ts";
import { type ServerProcess, startServerProcess } from "#test/support/server.ts";
import { startEmulator, twilioEnv, waitFor } from "#test/support/sms.ts";
import { startWorkerProcess, type WorkerProcess } from "#test/support/worker.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";

/**
 * More than one process, behaving as one portal: on one fresh PostgreSQL database, two
 * `portal serve` processes (web A and web B, each with its own SMS dispatcher thread and its own
 * DATA_DIR, as on two machines behind one load balancer: same SESSION_SECRET) and two
 * `portal worker` processes, all sending to one Twilio emulator. A student's whole journey goes
 * across them over real HTTP, and each SMS reaches the emulator exactly once; the login and
 * registration limits and an admin's SMS pause hold across all of them.
 *
 * PostgreSQL only (SQLite is one machine's file): it runs in the PostgreSQL pass, and says so in
 * the SQLite pass when there is none.
 */

const inPostgresPass = testDialect() === "postgres";
if (testDialect() === "sqlite" && !inject("postgresUrl"))
  console.warn(
    "\n  NOTICE: no reachable PostgreSQL: the multi-process test (two web processes, two workers) is SKIPPED.\n",
  );

const ADMIN = { email: "office@college.test", password: "office-password-1" };
const SESSION_SECRET = "multi-process-session-secret-0123456789abcdef";

let database: TestDatabase | undefined;
let emulator: TwilioEmulator | undefined;
const servers: ServerProcess[] = [];
const workers: { worker: WorkerProcess; logDir: string }[] = [];
let webA = "";
let webB = "";

/** Every dispatcher's SMS log: the two serve processes' threads and the two workers. */
function smsLogs(): string[] {
  const dirs = [...servers.map((s) => join(s.dataDir, "logs")), ...workers.map((w) => w.logDir)];
  return dirs.map((dir) => {
    try {
      return readFileSync(join(dir, "sms.log"), "utf8");
    } catch {
      return "";
    }
  });
}

const count = (text: string, what: string) => text.split(what).length - 1;

function db() {
  return database!.db;
}

/** The messages the emulator received for one number. */
function received(to: string) {
  return emulator!.messages.filter((m) => m.to === to);
}

/** The message rows of a kind, for one student. */
function rows(kind: DB["sms_messages"]["kind"], studentId: number) {
  return db()
    .selectFrom("sms_messages")
    .select(["id", "status", "twilio_sid", "body"])
    .where("kind", "=", kind)
    .where("student_id", "=", studentId)
    .execute();
}

beforeAll(async () => {
  if (!inPostgresPass) return;
  database = await createTestDatabase({ empty: true });
  emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
  const env = {
    ...twilioEnv(emulator),
    DATABASE_URL: database.url,
    SESSION_SECRET,
    SMS_POLL_MS: "100",
    // Low, so the test reaches it: three registrations an hour from one address.
    REGISTRATIONS_PER_ADDRESS_PER_HOUR: "3",
  };
  // A migrates the empty database and creates the first admin; the others start on it at once.
  servers.push(
    await startServerProcess({ ...env, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }),
  );
  for (let i = 0; i < 2; i++) {
    const logDir = mkdtempSync(join(tmpdir(), "portal-worker-logs-"));
    workers.push({
      worker: startWorkerProcess({ ...env, DATA_DIR: logDir, LOG_DIR: logDir }),
      logDir,
    });
  }
  servers.push(await startServerProcess(env));
  await Promise.all(workers.map((w) => w.worker.ready));
  webA = servers[0]!.url;
  webB = servers[1]!.url;
}, 60_000);

afterAll(async () => {
  for (const { worker, logDir } of workers) {
    await worker.kill("SIGKILL");
    rmSync(logDir, { recursive: true, force: true });
  }
  for (const server of servers) {
    const stopped = server.stop().then(() => true);
    const inTime = await Promise.race([
      stopped,
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    if (!inTime) {
      process.kill(-server.pid, "SIGKILL");
      rmSync(server.dataDir, { recursive: true, force: true });
    }
  }
  await emulator?.close();
  await database?.destroy();
});

describe.skipIf(!inPostgresPass)("two web processes and two workers on one PostgreSQL", () => {
  it("carry a student's journey across them, each SMS sent exactly once", {
    timeout: 60_000,
  }, async () => {
    expect(webA).not.toBe(webB);
    const phone = "+919845012345";
    const resume = pdfBytes("uploaded through web A");

    // Registered on A, with a resume.
    const visitor = new HttpClient();
    const registered = await visitor.postMultipart(webA, "/register", nishaRegistration(resume));
    expect(registered.status, registered.body).toBe(303);
    const student = await db()
      .selectFrom("students")
      .select("id")
      .where("roll_number", "=", "1XY22CS777")
      .executeTakeFirstOrThrow();

    // Approved on B: the approval SMS goes out once, whichever dispatcher claims it.
    const admin = new HttpClient();
    expect((await admin.post(webB, "/login", ADMIN)).status).toBe(303);
    expect((await admin.post(webB, `/admin/students/${student.id}/approve`)).status).toBe(303);
    await waitFor(() => received(phone).length === 1, 20_000, "the approval SMS at the emulator");
    expect(received(phone)[0]!.body).toContain("has been approved");

    // The student logs in on B and finds the resume uploaded on A.
    const nisha = new HttpClient();
    expect(
      (
        await nisha.post(webB, "/login", {
          email: "nisha@college.test",
          password: "nisha-password-1",
        })
      ).status,
    ).toBe(303);
    expect((await nisha.get(webB, "/student")).body).toContain("View your resume");
    const download = await nisha.get(webB, "/student/resume");
    expect(download.status).toBe(200);
    expect(download.bytes.equals(resume)).toBe(true);
    // The admin's session, started on B, works on A too (one load balancer, either process).
    const onA = await admin.get(webA, `/admin/students/${student.id}/resume`);
    expect(onA.status).toBe(200);
    expect(onA.bytes.equals(resume)).toBe(true);

    // A job posted on A (with its alert), applied to on B, the status changed on A.
    const posted = await admin.post(webA, "/admin/jobs/new", {
      company: "Bosch",
      title: "Graduate Engineer Trainee",
      type: "placement",
      description: "Embedded systems.",
      location: "Bengaluru",
      package_range: "7-8 LPA",
      official_link: "",
      apply_by: toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString()),
      departments: ["CSE"],
      send_sms: "on",
      intent: "post",
      submission_id: crypto.randomUUID(),
    });
    expect(posted.status, posted.body).toBe(303);
    const job = await db().selectFrom("jobs").select("id").executeTakeFirstOrThrow();
    await waitFor(() => received(phone).length === 2, 20_000, "the job alert at the emulator");
    expect((await nisha.post(webB, `/student/jobs/${job.id}/apply`)).status).toBe(303);
    const application = await db()
      .selectFrom("applications")
      .select("id")
      .where("job_id", "=", job.id)
      .where("student_id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(
      (
        await admin.post(webA, `/admin/applications/${application.id}/status`, {
          to: "shortlisted",
        })
      ).status,
    ).toBe(303);
    await waitFor(() => received(phone).length === 3, 20_000, "the status SMS at the emulator");
    expect(received(phone)[2]!.body).toContain("has been updated to 'Shortlisted'");

    // Failed logins spread over A and B count against one limit: 10 for an account, kept in the
    // database. Five on each process, and then neither takes another try.
    const guesser = new HttpClient();
    for (let i = 0; i < 10; i++) {
      const r = await guesser.post(i % 2 === 0 ? webA : webB, "/login", {
        email: "nisha@college.test",
        password: `wrong-guess-${i}`,
      });
      expect(r.status).toBe(401);
    }
    for (const web of [webA, webB]) {
      const refused = await guesser.post(web, "/login", {
        email: "nisha@college.test",
        password: "nisha-password-1",
      });
      expect(refused.status).toBe(429);
      expect(refused.body).toContain("Too many failed logins");
    }

    // Registrations from one address, too: one on A above, one more on B and one on A reach the
    // limit of three; then neither process takes a fourth.
    const registrant = (n: number) => ({
      full_name: `Classmate ${n}`,
      roll_number: `1XY22CS80${n}`,
      email: `classmate${n}@college.test`,
      phone: `98450 2000${n}`,
      department: "CSE",
      semester: "7",
      graduation_year: String(new Date().getUTCFullYear() + 1),
      cgpa: "7.00",
      active_backlogs: "0",
      skills: "",
      password: "classmate-password",
      password_confirm: "classmate-password",
    });
    expect((await visitor.post(webB, "/register", registrant(1))).status).toBe(303);
    expect((await visitor.post(webA, "/register", registrant(2))).status).toBe(303);
    for (const [web, n] of [
      [webB, 3],
      [webA, 4],
    ] as const) {
      const refused = await visitor.post(web, "/register", registrant(n));
      expect(refused.status).toBe(429);
      expect(refused.body).toContain("Too many registrations from your network");
    }

    // An admin's pause, set on A, holds every dispatcher (both workers, both serve threads).
    expect((await admin.post(webA, "/admin/sms/pause", { reason: "Checking texts" })).status).toBe(
      303,
    );
    await waitFor(
      () => smsLogs().every((log) => log.includes("sending paused by an admin")),
      20_000,
      "every dispatcher to see the pause",
    );
    expect(
      (await admin.post(webB, `/admin/applications/${application.id}/status`, { to: "interview" }))
        .status,
    ).toBe(303);
    const seen = smsLogs().map((log) => count(log, "still paused by an admin"));
    await waitFor(
      () => smsLogs().every((log, i) => count(log, "still paused by an admin") > seen[i]!),
      20_000,
      "every dispatcher to poll again while paused",
    );
    expect(received(phone)).toHaveLength(3);
    expect((await rows("status_update", student.id)).map((r) => r.status).sort()).toEqual([
      "queued",
      "sent",
    ]);

    // Resumed on B: the held message goes out, once.
    expect((await admin.post(webB, "/admin/sms/resume")).status).toBe(303);
    await waitFor(() => received(phone).length === 4, 20_000, "the held status SMS after resume");
    expect(received(phone)[3]!.body).toContain("has been updated to 'Interview'");

    // Exactly once, all along: one row per event, each sent row holding the SID of one message
    // the emulator has, and no message twice.
    for (const [kind, n] of [
      ["approval", 1],
      ["job_posted", 1],
      ["status_update", 2],
    ] as const) {
      const sent = await waitFor(
        async () => {
          const r = await rows(kind, student.id);
          return r.every((x) => x.status === "sent" && x.twilio_sid) ? r : null;
        },
        10_000,
        `${kind} rows marked sent`,
      );
      expect(sent, kind).toHaveLength(n);
    }
    const all = await db().selectFrom("sms_messages").select(["twilio_sid", "body"]).execute();
    expect(new Set(emulator!.messages.map((m) => m.sid))).toEqual(
      new Set(all.map((r) => r.twilio_sid)),
    );
    expect(emulator!.messages).toHaveLength(all.length);
    expect(new Set(emulator!.messages.map((m) => m.body)).size).toBe(emulator!.messages.length);
    // All four took part in this portal: each logs the resume on its next poll (one may not have
    // polled yet when the held message went out through another).
    await waitFor(
      () => smsLogs().every((log) => log.includes("resumed by an admin")),
      20_000,
      "every dispatcher to see the resume",
    );
  });
});
