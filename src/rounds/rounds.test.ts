// @both-databases: rounds lock their slot while students join, and their reminders are outbox rows with due times typed per dialect.
import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import type { Clock } from "#src/context.ts";
import { indiaMinuteOfDay } from "#src/sms/time-of-day.ts";
import { createAdmin, createStudent, postJob, type TestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import { scheduleRound } from "#test/support/rounds.ts";
import { creates, useEmulatorApp, waitFor } from "#test/support/sms.ts";
import { toLocalInput } from "../web/time.ts";

const harness = useEmulatorApp();

/**
 * Reminders two hours before every slot (an early one: before 23:59) and none the evening before,
 * so that a test can put one minutes ahead.
 */
const NEAR_REMINDERS = {
  REMINDER_EVENING_AT: "",
  REMINDER_EARLY_MINUTES: "120",
  REMINDER_EARLY_BEFORE: "23:59",
};

function start(env: Record<string, string> = {}, clock?: Clock) {
  return harness.start(env, clock ? { clock } : {});
}

/** A moment `ms` from now whose India time is not 23:59 (a slot then is not "early"). */
function slotAt(ms: number): Date {
  const at = new Date(Date.now() + ms);
  return indiaMinuteOfDay(at) === 23 * 60 + 59 ? new Date(at.getTime() + 120_000) : at;
}

async function season(app: TestApp) {
  const admin = await createAdmin(app.ctx, "officer@college.test");
  const staff = await loginAs(app.app, admin.email, admin.password);
  const student = await createStudent(app.ctx, { approved: true, full_name: "Asha Rao" });
  const job = await postJob(app.ctx, { company: "Infosys", title: "Systems Engineer" });
  const applied = await applyToJob(app.ctx, student.id, job.id);
  if (!applied.ok) throw new Error(applied.message);
  return { admin, staff, student, job, applicationId: applied.applicationId };
}

function roundForm(startsAt: Date, extra: Record<string, string> = {}) {
  return {
    name: "Aptitude test",
    kind: "test",
    starts_at: toLocalInput(startsAt.toISOString()),
    duration_minutes: "60",
    venue: "Seminar Hall 2",
    meeting_link: "",
    instructions: "Bring your college ID.",
    ...extra,
  };
}

function smsOf(app: TestApp, kinds: string[]) {
  return app.ctx.db
    .selectFrom("sms_messages")
    .selectAll()
    .where("kind", "in", kinds as never[])
    .orderBy("id")
    .execute();
}

async function addByRollNumbers(staff: TestClient, slotId: number, rolls: string) {
  const page = await staff.post("/admin/rounds/members", {
    slot: String(slotId),
    roll_numbers: rolls,
  });
  return page;
}

describe("scheduling a round", () => {
  it("refuses a round without a place or in the past, and adds one with its batches", async () => {
    const app = await start();
    const { staff, job } = await season(app);
    const bad = await staff.post(`/admin/jobs/${job.id}/rounds`, {
      ...roundForm(new Date(Date.now() - 3_600_000)),
      venue: "",
    });
    expect(bad.statusCode).toBe(400);
    expect(pageText(bad.body)).toContain("The round must start in the future.");
    expect(pageText(bad.body)).toContain("Enter a venue, a meeting link, or both.");
    const startsAt = slotAt(3 * 86_400_000);
    const local = toLocalInput(startsAt.toISOString());
    const later = (h: number) =>
      `${String((Number(local.slice(11, 13)) + h) % 24).padStart(2, "0")}:00`;
    const made = await staff.post(`/admin/jobs/${job.id}/rounds`, {
      ...roundForm(startsAt),
      batches: `${later(1)}, ${later(2)}`,
      capacity: "30",
    });
    expect(made.statusCode).toBe(303);
    const round = await app.ctx.db.selectFrom("rounds").selectAll().executeTakeFirstOrThrow();
    const slots = await app.ctx.db
      .selectFrom("round_slots")
      .selectAll()
      .where("round_id", "=", round.id)
      .orderBy("starts_at")
      .execute();
    expect(slots[0]!.starts_at).toBe(
      new Date(Math.floor(startsAt.getTime() / 60_000) * 60_000).toISOString(),
    );
    // Batches later the same day: both, unless the day ended before them.
    expect(slots.length).toBeGreaterThanOrEqual(1);
    expect(slots.every((s) => s.capacity === 30)).toBe(true);
    const audit = await app.ctx.db.selectFrom("audit_log").select("action").execute();
    expect(audit.map((a) => a.action)).toContain("round.add");
    const page = await staff.get(`/admin/rounds/${round.id}`);
    expect(page.statusCode).toBe(200);
    expect(pageText(page.body)).toContain("Aptitude test");
  });
});

describe("editing a round under way", () => {
  it("takes a new venue with the time left as it was, and refuses a new time in the past", async () => {
    const app = await start();
    const { staff, job, admin } = await season(app);
    const begun = new Date(Math.floor(Date.now() / 60_000 - 10) * 60_000);
    const round = await scheduleRound(app.ctx, job.id, { starts_at: begun.toISOString() }, admin);
    const kept = await staff.post(
      `/admin/rounds/${round.id}/edit`,
      roundForm(begun, { venue: "Main Auditorium" }),
    );
    expect(kept.statusCode).toBe(303);
    const row = await app.ctx.db.selectFrom("rounds").select("venue").executeTakeFirstOrThrow();
    expect(row.venue).toBe("Main Auditorium");
    const moved = await staff.post(
      `/admin/rounds/${round.id}/edit`,
      roundForm(new Date(begun.getTime() - 60 * 60_000)),
    );
    expect(moved.statusCode).toBe(400);
    expect(pageText(moved.body)).toContain("The round must start in the future.");
  });
});

describe("putting students in a round", () => {
  it("lists back unknown and ineligible roll numbers and adds nobody, then adds all with their SMS", async () => {
    const app = await start(NEAR_REMINDERS);
    const { staff, student, job } = await season(app);
    const other = await createStudent(app.ctx, { approved: true, full_name: "Ravi Kumar" });
    const round = await scheduleRound(app.ctx, job.id, {
      starts_at: slotAt(3 * 3_600_000).toISOString(),
    });
    const slot = round.slots[0]!;
    const refused = await addByRollNumbers(
      staff,
      slot.id,
      `${student.roll_number}\n${other.roll_number}, 9ZZ99ZZ999`,
    );
    expect(refused.statusCode).toBe(409);
    const text = pageText(refused.body);
    expect(text).toContain(`${other.roll_number}: has not applied to this job`);
    expect(text).toContain("9ZZ99ZZ999: no student has this roll number");
    expect(await app.ctx.db.selectFrom("round_members").selectAll().execute()).toEqual([]);

    const asked = await addByRollNumbers(staff, slot.id, student.roll_number.toLowerCase());
    expect(asked.statusCode).toBe(200);
    expect(pageText(asked.body)).toContain("You are in Aptitude test for Infosys");
    expect(await app.ctx.db.selectFrom("round_members").selectAll().execute()).toEqual([]);
    const done = await confirm(staff, asked);
    expect(done.statusCode).toBe(303);
    const members = await app.ctx.db.selectFrom("round_members").selectAll().execute();
    expect(members.map((m) => m.student_id)).toEqual([student.id]);
    const [scheduled] = await smsOf(app, ["round_scheduled"]);
    expect(scheduled).toMatchObject({ student_id: student.id, status: "queued", quiet: 0 });
    const reminders = await smsOf(app, ["round_reminder"]);
    expect(reminders).toHaveLength(1);
    expect(Date.parse(reminders[0]!.next_attempt_at)).toBe(
      Date.parse(slot.starts_at) - 2 * 3_600_000,
    );
    expect(Date.parse(reminders[0]!.not_after!)).toBe(Date.parse(slot.starts_at));
    expect(reminders[0]!.quiet).toBe(1);
    // The same paste again: already in this round, nobody added twice.
    const again = await addByRollNumbers(staff, slot.id, student.roll_number);
    expect(pageText(again.body)).toContain("already in this round");
    expect(await smsOf(app, ["round_scheduled"])).toHaveLength(1);
  });

  it("puts applicants chosen on the applicants page in a batch", async () => {
    const app = await start();
    const { staff, job, applicationId } = await season(app);
    const round = await scheduleRound(app.ctx, job.id);
    const applicants = await staff.get(`/admin/jobs/${job.id}/applicants`);
    expect(applicants.body).toContain('formaction="/admin/rounds/members"');
    expect(applicants.body).toContain(`<option value="${round.slots[0]!.id}"`);
    const asked = await staff.post("/admin/rounds/members", {
      ids: [String(applicationId)],
      slot: String(round.slots[0]!.id),
      to: "shortlisted",
    });
    expect(asked.statusCode).toBe(200);
    await confirm(staff, asked);
    expect(await app.ctx.db.selectFrom("round_members").selectAll().execute()).toHaveLength(1);
  });

  it("never fills a batch past its capacity, even when two admins fill it at once", async () => {
    const app = await start();
    const { job } = await season(app);
    const round = await scheduleRound(app.ctx, job.id, { capacity: 1 });
    const slotId = round.slots[0]!.id;
    const students: { roll_number: string }[] = [];
    for (const name of ["Bina Das", "Chetan Rao"]) {
      const s = await createStudent(app.ctx, { approved: true, full_name: name });
      const a = await applyToJob(app.ctx, s.id, job.id);
      if (!a.ok) throw new Error(a.message);
      students.push(s);
    }
    const officers = await Promise.all(
      ["one@college.test", "two@college.test"].map(async (email) => {
        const a = await createAdmin(app.ctx, email);
        return loginAs(app.app, a.email, a.password);
      }),
    );
    const answers = await Promise.all(
      officers.map((staff, i) =>
        staff.post("/admin/rounds/members", {
          slot: String(slotId),
          roll_numbers: students[i]!.roll_number,
          confirm: "yes",
        }),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([303, 303]);
    const members = await app.ctx.db
      .selectFrom("round_members")
      .selectAll()
      .where("slot_id", "=", slotId)
      .execute();
    expect(members).toHaveLength(1);
    expect(await smsOf(app, ["round_scheduled"])).toHaveLength(1);
  });
});

describe("a round that moves twice and is cancelled", () => {
  it("rewrites the reminders each time, tells once per change, cancels them, and sends nothing after", async () => {
    const app = await start(NEAR_REMINDERS);
    const { staff, student, job } = await season(app);
    // The first time: its reminder is due in four seconds (time enough to write it on a loaded machine).
    const first = slotAt(2 * 3_600_000 + 4_000);
    const round = await scheduleRound(app.ctx, job.id, { starts_at: first.toISOString() });
    await confirm(staff, await addByRollNumbers(staff, round.slots[0]!.id, student.roll_number));
    const watched = await harness.watch();
    await waitFor(
      async () => (await smsOf(app, ["round_reminder"]))[0]?.status === "sent",
      10_000,
      "the first reminder to go",
    );

    const moves = [slotAt(5 * 3_600_000), slotAt(6 * 3_600_000)];
    for (const [i, to] of moves.entries()) {
      const asked = await staff.post(`/admin/rounds/${round.id}/edit`, roundForm(to));
      expect(asked.statusCode, `move ${i + 1}`).toBe(200);
      expect(pageText(asked.body)).toContain("1 student will get one SMS each");
      expect((await confirm(staff, asked)).statusCode).toBe(303);
      const reminders = await smsOf(app, ["round_reminder"]);
      const queued = reminders.filter((r) => r.status === "queued");
      expect(queued, `move ${i + 1}`).toHaveLength(1);
      const minute = Math.floor(to.getTime() / 60_000) * 60_000;
      expect(Date.parse(queued[0]!.not_after!)).toBe(minute);
      expect(Date.parse(queued[0]!.next_attempt_at)).toBe(minute - 2 * 3_600_000);
      expect(await smsOf(app, ["round_changed"])).toHaveLength(i + 1);
    }
    const second = (await smsOf(app, ["round_reminder"]))[1]!;
    expect(second.status).toBe("cancelled");
    expect(second.error_message).toMatch(/^Replaced: the round changed to /);

    const asked = await staff.post(`/admin/rounds/${round.id}/cancel`);
    expect(pageText(asked.body)).toContain(
      "1 student will get one SMS each saying it is cancelled",
    );
    await confirm(staff, asked);
    const reminders = await smsOf(app, ["round_reminder"]);
    expect(reminders.map((r) => r.status)).toEqual(["sent", "cancelled", "cancelled"]);
    const changes = await smsOf(app, ["round_changed"]);
    expect(changes).toHaveLength(3);
    expect(changes[2]!.body).toMatch(/^Cancelled: Aptitude test for Infosys/);

    // Everything told goes; no reminder does.
    await waitFor(
      async () => (await smsOf(app, ["round_changed"])).every((m) => m.status === "sent"),
      10_000,
      "the changes to go",
    );
    await watched.polled();
    const toStudent = creates(harness.emulator).filter((c) =>
      c.params.Body?.includes("Aptitude test"),
    );
    expect(toStudent.map((c) => c.params.Body?.split(" ")[0])).toEqual([
      "You",
      "Reminder:",
      "Changed:",
      "Changed:",
      "Cancelled:",
    ]);
    for (const c of toStudent) expect(c.at.getTime()).toBeLessThan(first.getTime());
  });

  it("never sends a reminder once its slot has started, and the console says why", async () => {
    // The office's clock is three hours behind the database's: as if the dispatcher had been down
    // from the moment the student was put in until an hour after the slot began.
    const behind: Clock = { now: () => new Date(Date.now() - 3 * 3_600_000) };
    const app = await start(NEAR_REMINDERS, behind);
    const { admin, student, job } = await season(app);
    const startsAt = new Date(behind.now().getTime() + 2 * 3_600_000 + 60_000);
    if (indiaMinuteOfDay(startsAt) === 23 * 60 + 59) return; // not an early slot: nothing to test
    const round = await scheduleRound(
      app.ctx,
      job.id,
      { starts_at: startsAt.toISOString() },
      admin,
    );
    const { addMembers } = await import("./service.ts");
    const added = await addMembers(app.ctx, admin, round.id, round.slots[0]!.id, {
      rollNumbers: [student.roll_number],
    });
    expect(added).toMatchObject({ ok: true, reminders: 1 });
    await harness.watch();
    await waitFor(
      async () => (await smsOf(app, ["round_reminder"]))[0]?.status === "skipped",
      10_000,
      "the late reminder to be skipped",
    );
    const [reminder] = await smsOf(app, ["round_reminder"]);
    expect(reminder!.error_message).toMatch(/^Not sent: its time had passed \(not after /);
    expect(creates(harness.emulator).filter((c) => c.params.Body?.startsWith("Reminder"))).toEqual(
      [],
    );
    const staff = await loginAs(app.app, admin.email, admin.password);
    const console = await staff.get(`/admin/sms/${reminder!.id}`);
    expect(pageText(console.body)).toContain("Not sent: its time had passed");
  });
});

describe("a round's results", () => {
  it("moves those who passed to the next round and closes the others, after asking", async () => {
    const app = await start();
    const { staff, student, job, admin } = await season(app);
    const other = await createStudent(app.ctx, { approved: true, full_name: "Ravi Kumar" });
    const otherApplied = await applyToJob(app.ctx, other.id, job.id);
    if (!otherApplied.ok) throw new Error(otherApplied.message);
    const test = await scheduleRound(app.ctx, job.id, {}, admin);
    const interview = await scheduleRound(
      app.ctx,
      job.id,
      {
        name: "Technical interview",
        kind: "interview",
        starts_at: slotAt(4 * 86_400_000).toISOString(),
      },
      admin,
    );
    await confirm(
      staff,
      await addByRollNumbers(
        staff,
        test.slots[0]!.id,
        `${student.roll_number}, ${other.roll_number}`,
      ),
    );
    for (const [who, mark] of [
      [student.id, "passed"],
      [other.id, "absent"],
    ] as const) {
      const marked = await staff.post(`/admin/rounds/${test.id}/mark`, {
        students: [String(who)],
        mark,
      });
      expect(marked.statusCode).toBe(303);
    }
    const page = pageText((await staff.get(`/admin/rounds/${test.id}`)).body);
    expect(page).toContain("Asha Rao");
    expect(page).toMatch(/Ravi Kumar .*Absent Not passed/);

    const asked = await staff.post(`/admin/rounds/${test.id}/results`);
    const text = pageText(asked.body);
    expect(text).toContain("1 student passed");
    expect(text).toContain("Ravi Kumar");
    expect(
      await app.ctx.db
        .selectFrom("round_members")
        .selectAll()
        .where("round_id", "=", interview.id)
        .execute(),
    ).toEqual([]);
    const done = await staff.post(`/admin/rounds/${test.id}/results`, {
      confirm: "yes",
      next_slot: String(interview.slots[0]!.id),
      close_others: "on",
    });
    expect(done.statusCode).toBe(303);
    const next = await app.ctx.db
      .selectFrom("round_members")
      .select("student_id")
      .where("round_id", "=", interview.id)
      .execute();
    expect(next.map((m) => m.student_id)).toEqual([student.id]);
    const statuses = await app.ctx.db
      .selectFrom("applications")
      .select(["student_id", "status"])
      .orderBy("student_id")
      .execute();
    expect(statuses).toEqual([
      { student_id: student.id, status: "applied" },
      { student_id: other.id, status: "rejected" },
    ]);
    const told = await smsOf(app, ["round_scheduled", "status_update"]);
    expect(told.map((m) => [m.kind, m.student_id])).toEqual([
      ["round_scheduled", student.id],
      ["round_scheduled", other.id],
      ["round_scheduled", student.id],
      ["status_update", other.id],
    ]);
    const actions = (await app.ctx.db.selectFrom("audit_log").select("action").execute()).map(
      (a) => a.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(["round.mark", "round.results", "application.status"]),
    );
  });
});

describe("the day view", () => {
  it("lists every batch of the day across companies, with how many are expected", async () => {
    const app = await start();
    const { staff, student, job, admin } = await season(app);
    const tcs = await postJob(app.ctx, { company: "TCS", title: "Developer" });
    const day = slotAt(3 * 86_400_000);
    await scheduleRound(app.ctx, job.id, { starts_at: day.toISOString() }, admin);
    const round = await scheduleRound(
      app.ctx,
      tcs.id,
      {
        name: "Group discussion",
        kind: "group_discussion",
        starts_at: day.toISOString(),
        capacity: 10,
      },
      admin,
    );
    const applied = await applyToJob(app.ctx, student.id, tcs.id);
    if (!applied.ok) throw new Error(applied.message);
    await confirm(staff, await addByRollNumbers(staff, round.slots[0]!.id, student.roll_number));
    const dayText = toLocalInput(day.toISOString()).slice(0, 10);
    const page = await staff.get(`/admin/rounds?day=${dayText}`);
    expect(page.statusCode).toBe(200);
    const text = pageText(page.body);
    expect(text).toContain("2 batches on");
    expect(text).toContain("1 student expected");
    expect(text).toContain("Infosys – Systems Engineer");
    expect(text).toMatch(/TCS – Developer Group discussion .* 1 of 10/);
    const empty = await staff.get("/admin/rounds?day=2020-01-01");
    expect(pageText(empty.body)).toContain("No rounds on this day.");
    // A day not on the calendar is refused, not rolled over to 2 March.
    const missing = await staff.get("/admin/rounds?day=2026-02-30");
    expect(missing.statusCode).toBe(400);
    expect(pageText(missing.body)).toContain("Choose a day that exists on the calendar.");
  });
});

describe("taking a student out, and the texts the office registers", () => {
  it("cancels the reminders of a student taken out, and only theirs", async () => {
    const app = await start(NEAR_REMINDERS);
    const { staff, student, job, admin } = await season(app);
    const other = await createStudent(app.ctx, { approved: true, full_name: "Ravi Kumar" });
    const applied = await applyToJob(app.ctx, other.id, job.id);
    if (!applied.ok) throw new Error(applied.message);
    const round = await scheduleRound(
      app.ctx,
      job.id,
      { starts_at: slotAt(3 * 3_600_000).toISOString() },
      admin,
    );
    await confirm(
      staff,
      await addByRollNumbers(
        staff,
        round.slots[0]!.id,
        `${student.roll_number}, ${other.roll_number}`,
      ),
    );
    const asked = await staff.post(`/admin/rounds/${round.id}/remove`, {
      students: [String(student.id)],
    });
    expect(pageText(asked.body)).toContain(
      "Nobody gets an SMS; their reminders not sent yet will not go.",
    );
    expect((await confirm(staff, asked)).statusCode).toBe(303);
    const reminders = await smsOf(app, ["round_reminder"]);
    expect(reminders.map((r) => [r.student_id, r.status])).toEqual([
      [student.id, "cancelled"],
      [other.id, "queued"],
    ]);
    expect(reminders[0]!.error_message).toBe("Cancelled: the student was taken out of the round");
    const left = await app.ctx.db.selectFrom("round_members").select("student_id").execute();
    expect(left.map((m) => m.student_id)).toEqual([other.id]);
  });

  it("lists every round and deadline text on the templates page, each taking a DLT id", async () => {
    const app = await start();
    const { staff } = await season(app);
    const list = pageText((await staff.get("/admin/sms/templates")).body);
    for (const title of [
      "Round scheduled",
      "Round reminder",
      "Round moved",
      "Round cancelled",
      "Deadline reminder",
    ])
      expect(list).toContain(title);
    const saved = await staff.post("/admin/sms/templates/round_reminder", {
      base_version: "1",
      action: "save",
      dlt_template_id: "1107161234567890123",
      text: "Reminder: {round} for {company} on {when} IST at {where}. See the Placement Portal.",
    });
    expect(saved.statusCode).toBe(303);
    const page = pageText((await staff.get("/admin/sms/templates/round_reminder")).body);
    expect(page).toContain("DLT template id 1107161234567890123");
  });
});
