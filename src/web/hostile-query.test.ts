import { describe, expect, it } from "vitest";
import { postAnnouncement } from "#src/announcements/service.ts";
import { applyToJob } from "#src/applications/service.ts";
import { PRIORITY_TRANSACTIONAL, queueSms } from "#src/sms/outbox-api.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { scheduleRound } from "#test/support/rounds.ts";

const t = useTestApp();

/** Numbers as an attacker writes them: none is a plain number a list or filter accepts. */
const HOSTILE_NUMBERS = [
  "1e309",
  "Infinity",
  "-Infinity",
  "NaN",
  "-1",
  "0",
  "abc",
  "9".repeat(400),
  "1.5e3",
  "0x10",
  " 5",
  "5 ",
  "+5",
  "1e1",
  "5.",
  "%00",
];

/** Every GET route, signed in as whoever may open it, with the ids in its address existing. */
async function everyPage() {
  const student = await createStudent(t.ctx, { approved: true });
  const admin = await createAdmin(t.ctx);
  const job = await postJob(t.ctx);
  const applied = await applyToJob(t.ctx, student.id, job.id);
  if (!applied.ok) throw new Error(applied.message);
  const announcement = await postAnnouncement(t.ctx, admin, {
    title: "Drive",
    message: "Tomorrow",
    send_sms: false,
    submission_id: null,
  });
  const sms = await queueSms(t.ctx.db, t.ctx, {
    kind: "test",
    dedupeKey: "hostile-query:sms",
    studentId: student.id,
    toE164: "+919845012345",
    body: "Test",
    priority: PRIORITY_TRANSACTIONAL,
  });
  const round = await scheduleRound(t.ctx, job.id);
  const offer = await t.ctx.db
    .insertInto("offers")
    .values({
      student_id: student.id,
      source: "ppo",
      job_id: null,
      application_id: null,
      company: "Microsoft",
      role: "Engineer",
      location: "Hyderabad",
      fixed_lpa: 30,
      variable_lpa: 0,
      ctc_lpa: 30,
      joining_date: null,
      answer_by: new Date(Date.now() + 86_400_000).toISOString(),
      status: "pending",
      created_by: admin.id,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const ids: Record<string, number | string> = {
    offers: offer.id,
    policies: 2027,
    rounds: round.id,
    calendar: student.id,
    students: student.id,
    sms: sms.id!,
    templates: "approval",
    limits: "login.per_address",
    jobs: job.id,
    applications: applied.applicationId,
    announcements: announcement.id!,
    admins: admin.id,
  };
  const asStudent = await loginAs(t.app, student.email, student.password);
  const asAdmin = await loginAs(t.app, admin.email, admin.password);
  const pages: { url: string; pattern: string; query: string[]; client: TestClient }[] = [];
  for (const route of t.app.routeTable.filter((r) => r.method === "GET")) {
    const url = route.url.replace(/\/(\w+)\/:\w+/g, (_, segment: string) => {
      const id = ids[segment];
      if (id === undefined) throw new Error(`no id for ${route.url}`);
      return `/${segment}/${id}`;
    });
    const client = route.url.startsWith("/student") ? asStudent : asAdmin;
    pages.push({ url, pattern: route.url, query: route.query, client });
  }
  return pages;
}

describe("hostile numbers in addresses", () => {
  it("refuses a page number that is not a plain whole number on every list, with a clear 400", async () => {
    const lists = (await everyPage()).filter((p) => p.query.includes("page"));
    // Every paginated list: admin jobs, applicants (+ CSV), announcements, students, audit, SMS;
    // the student's jobs and applications.
    expect(lists.map((p) => p.pattern).sort()).toEqual([
      "/admin/announcements",
      "/admin/audit",
      "/admin/jobs",
      "/admin/jobs/:id/applicants",
      "/admin/jobs/:id/applicants.csv",
      "/admin/offers",
      "/admin/sms",
      "/admin/students",
      "/student/applications",
      "/student/jobs",
    ]);
    for (const list of lists) {
      for (const value of HOSTILE_NUMBERS) {
        const response = await list.client.get(`${list.url}?page=${encodeURIComponent(value)}`);
        expect(response.statusCode, `${list.pattern}?page=${value.slice(0, 12)}`).toBe(400);
        expect(response.body).toContain("page number or filter the list does not accept");
      }
      // Several pages at once is not a page either.
      expect((await list.client.get(`${list.url}?page=2&page=3`)).statusCode).toBe(400);
      // A page beyond the last is an empty page, and the first page is still there.
      expect((await list.client.get(`${list.url}?page=100000`)).statusCode).toBe(200);
      expect((await list.client.get(`${list.url}?page=1`)).statusCode).toBe(200);
    }
  });

  it("answers no 5xx on any page for any hostile value of any query parameter or id", async () => {
    for (const page of await everyPage()) {
      for (const name of page.query) {
        for (const value of [...HOSTILE_NUMBERS, "", "x".repeat(5000), "%E0%A4"]) {
          const encoded = value === "%00" || value === "%E0%A4" ? value : encodeURIComponent(value);
          const response = await page.client.get(`${page.url}?${name}=${encoded}`);
          expect(response.statusCode, `${page.pattern}?${name}=${value.slice(0, 12)}`).toBeLessThan(
            500,
          );
        }
      }
      if (!page.pattern.includes(":id")) continue;
      // A numeric id is replaced; a named one (a template, a limit) is the last segment.
      const numericId = /\/\d+(?=\/|\.csv|$)/;
      const named = !numericId.test(page.url);
      const idPattern = named ? /\/[^/]+$/ : numericId;
      for (const value of HOSTILE_NUMBERS) {
        const url = page.url.replace(idPattern, `/${encodeURIComponent(value)}`);
        const response = await page.client.get(url);
        if (named) {
          // Looked up by name among the templates or limits: an unknown one is not found.
          expect([404, 414], `${page.pattern} with id ${value.slice(0, 12)}`).toContain(
            response.statusCode,
          );
          continue;
        }
        // 400 from the id schema, or 414 from Fastify for an over-long path segment.
        expect([400, 414], `${page.pattern} with id ${value.slice(0, 12)}`).toContain(
          response.statusCode,
        );
      }
    }
  });

  it("still filters by plain numbers: CGPA 7 or 7.5, a year, a semester", async () => {
    const pages = await everyPage();
    const applicants = pages.find((p) => p.pattern === "/admin/jobs/:id/applicants")!;
    for (const value of ["7", "7.5", "8.25", "10", "0", ""]) {
      const response = await applicants.client.get(`${applicants.url}?min_cgpa=${value}`);
      expect(response.statusCode, `min_cgpa=${value}`).toBe(200);
    }
    // The filter is applied as a number: the one applicant has CGPA 8.2.
    const shown = async (minCgpa: string) =>
      /<p>(\d+) applicants?<\/p>/.exec(
        (await applicants.client.get(`${applicants.url}?min_cgpa=${minCgpa}`)).body,
      )?.[1];
    expect(await shown("8.2")).toBe("1");
    expect(await shown("8.25")).toBe("0");
    for (const value of ["10.5", "7.", ".5", "1e1", "Infinity", "0x0A"]) {
      const response = await applicants.client.get(`${applicants.url}?min_cgpa=${value}`);
      expect(response.statusCode, `min_cgpa=${value}`).toBe(400);
    }
    const students = pages.find((p) => p.pattern === "/admin/students")!;
    expect((await students.client.get("/admin/students?year=2027")).statusCode).toBe(200);
    expect((await students.client.get("/admin/students?year=1e309")).statusCode).toBe(400);
    const dashboard = pages.find((p) => p.pattern === "/admin")!;
    expect((await dashboard.client.get("/admin?year=2027&semester=7")).statusCode).toBe(200);
    expect((await dashboard.client.get("/admin?semester=Infinity")).statusCode).toBe(400);
  });
});
