import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createAdmin,
  createStudent,
  createTestApp,
  type TestApp,
  useTestApp,
} from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { confirm, confirmForm, pageText } from "#test/support/confirm.ts";
import { quietHoursAroundNow } from "#test/support/sms.ts";
import { toLocalInput } from "../web/time.ts";

/**
 * Issue 21, "no trap": a job's "new opportunity" SMS is a conscious choice, and alerts to more
 * than 100 students, or priced ones, are confirmed first with the count, segments and cost.
 */

const t = useTestApp();

const inAWeek = () => toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString());

const jobForm = (overrides: Record<string, string | string[]> = {}) => ({
  company: "Bosch",
  title: "Graduate Engineer Trainee",
  type: "placement",
  description: "Embedded systems.\nBengaluru campus.",
  location: "Bengaluru",
  package_range: "7-8 LPA",
  official_link: "https://careers.example.com/get",
  apply_by: inAWeek(),
  departments: ["CSE", "ECE"],
  graduation_years: "2027",
  min_cgpa: "7",
  max_backlogs: "0",
  intent: "post",
  submission_id: randomUUID(),
  ...overrides,
});

async function staffOf(app: TestApp) {
  const admin = await createAdmin(app.ctx);
  return loginAs(app.app, admin.email, admin.password);
}

async function counts(app: TestApp) {
  const jobs = await app.ctx.db.selectFrom("jobs").select("id").execute();
  const alerts = await app.ctx.db
    .selectFrom("sms_messages")
    .select("id")
    .where("kind", "=", "job_posted")
    .execute();
  return { jobs: jobs.length, alerts: alerts.length };
}

function smsBoxTicked(body: string): boolean {
  const box = /<input type="checkbox" name="send_sms"[^>]*>/.exec(body);
  expect(box).not.toBeNull();
  return /\bchecked\b/.test(box![0]);
}

async function eligibleStudents(app: TestApp, n: number) {
  for (let i = 0; i < n; i++) await createStudent(app.ctx, { approved: true, cgpa: 8 });
}

describe("the job alert box", () => {
  it("is unticked on a new job, and a form shown again keeps it as it was left", async () => {
    const staff = await staffOf(t);
    expect(smsBoxTicked((await staff.get("/admin/jobs/new")).body)).toBe(false);
    const ticked = await staff.post("/admin/jobs/new", jobForm({ title: "", send_sms: "on" }));
    expect(ticked.statusCode).toBe(422);
    expect(smsBoxTicked(ticked.body)).toBe(true);
    expect(smsBoxTicked((await staff.post("/admin/jobs/new", jobForm({ title: "" }))).body)).toBe(
      false,
    );
  });
});

describe("alerts to more than 100 students", () => {
  it("ask first with the count and segments; nothing is posted or queued until confirmed", async () => {
    await eligibleStudents(t, 101);
    const staff = await staffOf(t);
    const asked = await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }));
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Post Bosch – Graduate Engineer Trainee and send 101 SMS alerts?");
    expect(text).toContain("101 approved students are eligible.");
    expect(text).toMatch(
      /101 students get an SMS: 101 messages × \d segments? \(GSM-7\) = \d+ segments\./,
    );
    expect(text).toContain("The students are counted again when you confirm");
    expect(await counts(t)).toEqual({ jobs: 0, alerts: 0 });

    const done = await confirm(staff, asked);
    expect(done.statusCode).toBe(303);
    expect(await counts(t)).toEqual({ jobs: 1, alerts: 101 });
    const page = pageText((await staff.get(done.headers.location as string)).body);
    expect(page).toContain("Job posted; 101 SMS alerts queued.");
    expect(page).not.toContain("The confirmation page said");
  });

  it("100 eligible students, or no SMS: posted at once", async () => {
    await eligibleStudents(t, 100);
    const staff = await staffOf(t);
    expect((await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }))).statusCode).toBe(303);
    expect(await counts(t)).toEqual({ jobs: 1, alerts: 100 });
  });

  it("Cancel goes back to the form with everything typed, nothing posted", async () => {
    await eligibleStudents(t, 101);
    const staff = await staffOf(t);
    const asked = await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }));
    const { action, fields } = confirmForm(asked);
    const back = await staff.post(action, { ...fields, back: "yes" });
    expect(back.statusCode).toBe(200);
    expect(back.body).toContain('value="Graduate Engineer Trainee"');
    expect(back.body).toContain("Embedded systems.\nBengaluru campus.");
    expect(back.body).toContain('value="https://careers.example.com/get"');
    expect(back.body).toMatch(/name="departments" value="CSE"[^>]*checked/);
    expect(back.body).toMatch(/name="departments" value="ECE"[^>]*checked/);
    expect(back.body).toMatch(/name="graduation_years" value="2027"[^>]*checked/);
    expect(back.body).toMatch(/name="min_cgpa"[^>]*value="7"/);
    expect(smsBoxTicked(back.body)).toBe(true);
    expect(await counts(t)).toEqual({ jobs: 0, alerts: 0 });
    // The form shown again posts as it was: confirming from it asks again.
    expect(pageText(back.body)).toContain("Post job");
  });

  it("say so when the count changed before the confirm", async () => {
    await eligibleStudents(t, 101);
    const staff = await staffOf(t);
    const asked = await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }));
    await eligibleStudents(t, 2);
    const done = await confirm(staff, asked);
    expect(await counts(t)).toEqual({ jobs: 1, alerts: 103 });
    expect(pageText((await staff.get(done.headers.location as string)).body)).toContain(
      "Job posted; 103 SMS alerts queued. The confirmation page said 101: the count changed before you confirmed.",
    );
  });
});

describe("with SMS_PRICE_PER_SEGMENT set", () => {
  const priced = useTestApp({ SMS_PRICE_PER_SEGMENT: "0.25" });

  it("any alert asks first with its cost; a job without alerts does not", async () => {
    await eligibleStudents(priced, 2);
    const staff = await staffOf(priced);
    const asked = await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }));
    expect(asked.statusCode).toBe(200);
    expect(pageText(asked.body)).toMatch(
      /2 students get an SMS: 2 messages × 1 segment \(GSM-7\) = 2 segments, about INR 0\.50\./,
    );
    expect(await counts(priced)).toEqual({ jobs: 0, alerts: 0 });
    expect(
      (
        await staff.post(
          "/admin/jobs/new",
          jobForm({ title: "Quiet", submission_id: randomUUID() }),
        )
      ).statusCode,
    ).toBe(303);
    expect((await confirm(staff, asked)).statusCode).toBe(303);
    expect(await counts(priced)).toEqual({ jobs: 2, alerts: 2 });
  });
});

describe("a job posted in quiet hours", () => {
  it("says that its alerts wait for the end of quiet hours", async () => {
    const app = await createTestApp({ SMS_QUIET_HOURS: quietHoursAroundNow() });
    try {
      await eligibleStudents(app, 2);
      const staff = await staffOf(app);
      const posted = await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }));
      expect(posted.statusCode).toBe(303);
      const page = await staff.get(posted.headers.location as string);
      expect(pageText(page.body)).toMatch(
        /Job posted; 2 SMS alerts queued\. They wait for the end of quiet hours \(.+\)\./,
      );
    } finally {
      await app.close();
    }
  });

  it("says nothing of quiet hours outside them", async () => {
    await eligibleStudents(t, 1);
    const staff = await staffOf(t);
    const posted = await staff.post("/admin/jobs/new", jobForm({ send_sms: "on" }));
    const page = await staff.get(posted.headers.location as string);
    expect(pageText(page.body)).toContain("Job posted; 1 SMS alert queued.");
    expect(pageText(page.body)).not.toContain("quiet hours");
  });
});
