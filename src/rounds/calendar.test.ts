// @both-databases: slots' times come back per dialect (text on SQLite, timestamptz on PostgreSQL) and the calendar writes them in India time.
import ICAL from "ical.js";
import { afterEach, describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import {
  capturedLog,
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
} from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import { scheduleRound } from "#test/support/rounds.ts";
import { toLocalInput } from "../web/time.ts";
import { addMembers } from "./service.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The events of an .ics as an independent reader (Mozilla's ical.js) sees them. */
function readCalendar(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const zone of calendar.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(zone);
  return calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      sequence: event.sequence,
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      zone: String(component.getFirstProperty("dtstart")?.getParameter("tzid")),
      summary: event.summary,
      location: event.location,
      status: String(component.getFirstPropertyValue("status")),
      stamp: String(component.getFirstProperty("dtstamp")?.toICALString()),
    };
  });
}

async function scene() {
  const { log, lines } = capturedLog();
  t = await createTestApp({}, { log });
  const app = t;
  const admin = await createAdmin(app.ctx, "officer@college.test");
  const job = await postJob(app.ctx, { company: "Infosys", title: "Systems Engineer" });
  const student = await createStudent(app.ctx, { approved: true, full_name: "Asha Rao" });
  const other = await createStudent(app.ctx, { approved: true, full_name: "Ravi Kumar" });
  for (const s of [student, other]) {
    const applied = await applyToJob(app.ctx, s.id, job.id);
    if (!applied.ok) throw new Error(applied.message);
  }
  const round = await scheduleRound(app.ctx, job.id, {}, admin);
  const added = await addMembers(app.ctx, admin, round.id, round.slots[0]!.id, {
    rollNumbers: [student.roll_number],
  });
  expect(added.ok).toBe(true);
  const asStudent = await loginAs(app.app, student.email, student.password);
  const asOther = await loginAs(app.app, other.email, other.password);
  const staff = await loginAs(app.app, admin.email, admin.password);
  return { app, admin, job, student, round, asStudent, asOther, staff, lines };
}

/** The feed's address as the dashboard links it. */
async function feedOf(client: TestClient): Promise<string> {
  const page = await client.get("/student");
  const href = /href="(\/calendar\/[^"]+\.ics)"/.exec(page.body)?.[1];
  if (!href) throw new Error("the dashboard links no calendar feed");
  return href;
}

describe("the student's rounds", () => {
  it("shows on the dashboard and under the application, with the slot's place and time", async () => {
    const { asStudent, asOther, round } = await scene();
    const dashboard = pageText((await asStudent.get("/student")).body);
    expect(dashboard).toContain("Upcoming rounds");
    expect(dashboard).toContain("Aptitude test · Infosys – Systems Engineer");
    expect(dashboard).toContain("Seminar Hall 2");
    const applications = pageText((await asStudent.get("/student/applications")).body);
    expect(applications).toContain("Rounds");
    expect(applications).toContain("Bring your college ID.");
    expect((await asStudent.get("/student/applications")).body).toContain(
      `/student/rounds/${round.slots[0]!.id}/slot.ics`,
    );
    expect(pageText((await asOther.get("/student")).body)).toContain(
      "No rounds scheduled for you yet.",
    );
  });

  it("downloads one slot as an event in India time that a calendar reader understands", async () => {
    const { asStudent, asOther, round } = await scene();
    const slot = round.slots[0]!;
    const response = await asStudent.get(`/student/rounds/${slot.id}/slot.ics`);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/calendar/);
    expect(response.headers["content-disposition"]).toMatch(/attachment; filename=".+\.ics"/);
    const [event, ...more] = readCalendar(response.body);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      uid: `round-slot-${slot.id}@placement-portal`,
      sequence: 0,
      start: new Date(slot.starts_at).toISOString(),
      end: new Date(Date.parse(slot.starts_at) + 3_600_000).toISOString(),
      zone: "Asia/Kolkata",
      summary: "Aptitude test · Infosys – Systems Engineer",
      location: "Seminar Hall 2",
      status: "CONFIRMED",
    });
    // DTSTAMP in UTC, as RFC 5545 requires.
    expect(event!.stamp).toMatch(/^DTSTAMP:\d{8}T\d{6}Z$/);
    // The wall-clock time in the file is India time.
    expect(response.body).toContain(
      `DTSTART;TZID=Asia/Kolkata:${toLocalInput(slot.starts_at).replace(/[-:]/g, "")}00`,
    );
    // Someone else's slot is no slot at all.
    expect((await asOther.get(`/student/rounds/${slot.id}/slot.ics`)).statusCode).toBe(404);
  });

  it("keeps one event per slot in the feed: the same UID, a higher SEQUENCE on each change, cancelled at the end", async () => {
    const { app, asStudent, staff, round, lines } = await scene();
    const visitor = new TestClient(app.app);
    const feed = await feedOf(asStudent);
    const read = async () => {
      const response = await visitor.get(feed);
      expect(response.statusCode).toBe(200);
      return readCalendar(response.body);
    };
    const [before] = await read();
    const moved = new Date(Date.parse(round.slots[0]!.starts_at) + 86_400_000);
    const form = {
      name: "Aptitude test",
      kind: "test",
      starts_at: toLocalInput(moved.toISOString()),
      duration_minutes: "90",
      venue: "Main Auditorium",
      meeting_link: "",
      instructions: "",
    };
    await confirm(staff, await staff.post(`/admin/rounds/${round.id}/edit`, form));
    const [after] = await read();
    expect(after!.uid).toBe(before!.uid);
    expect(after!.sequence).toBeGreaterThan(before!.sequence);
    expect(after).toMatchObject({
      location: "Main Auditorium",
      start: new Date(Math.floor(moved.getTime() / 60_000) * 60_000).toISOString(),
      status: "CONFIRMED",
    });
    await confirm(staff, await staff.post(`/admin/rounds/${round.id}/cancel`));
    const [cancelled] = await read();
    expect(cancelled!.uid).toBe(before!.uid);
    expect(cancelled!.sequence).toBeGreaterThan(after!.sequence);
    expect(cancelled!.status).toBe("CANCELLED");
    // The secret part of the address never reaches the log.
    const token = feed.split("/")[3]!;
    expect(lines.some((line) => line.includes("/calendar/"))).toBe(true);
    expect(lines.filter((line) => line.includes(token))).toEqual([]);
  });

  it("shows the feed to nobody without its secret, and a new address ends the old one", async () => {
    const { app, asStudent, asOther, student } = await scene();
    const visitor = new TestClient(app.app);
    const feed = await feedOf(asStudent);
    const otherFeed = await feedOf(asOther);
    const [, , id, token] = feed.split("/");
    expect(Number(id)).toBe(student.id);
    // Another student's token on this student's id, a changed character, a short one.
    const otherToken = otherFeed.split("/")[3]!;
    const changed = `${token!.slice(0, -1)}${token!.endsWith("A") ? "B" : "A"}`;
    for (const wrong of [otherToken, changed])
      expect((await visitor.get(`/calendar/${id}/${wrong}/rounds.ics`)).statusCode).toBe(404);
    expect((await visitor.get(`/calendar/${id}/short/rounds.ics`)).statusCode).toBe(400);
    expect((await visitor.get(`/calendar/999999/${token}/rounds.ics`)).statusCode).toBe(404);
    // The other student's own feed has no event of this student's.
    expect(readCalendar((await visitor.get(otherFeed)).body)).toEqual([]);

    const reset = await asStudent.post("/student/calendar/reset");
    expect(reset.statusCode).toBe(303);
    const renewed = await feedOf(asStudent);
    expect(renewed).not.toBe(feed);
    expect((await visitor.get(feed)).statusCode).toBe(404);
    expect(readCalendar((await visitor.get(renewed)).body)).toHaveLength(1);
  });
});
