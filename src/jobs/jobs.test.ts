// @both-databases: the admin job search's LIKE and dates per dialect.
import { randomUUID } from "node:crypto";
import type { KyselyPlugin } from "kysely";
import { describe, expect, it } from "vitest";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  useTestApp,
} from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import type { SmsKind } from "../db/schema.ts";
import {
  type EligibilityRules,
  eligibleStudentFilter,
  ineligibilityReasons,
  MISSING_SEMESTER_REASON,
} from "../placement/eligibility.ts";
import {
  closedToApplications,
  isOpenForApplications,
  openForApplications,
  openStateLabel,
} from "../placement/open.ts";
import { countSegments } from "../sms/encoding.ts";
import { smsStatusByReference } from "../sms/outbox-api.ts";
import { toLocalInput } from "../web/time.ts";
import { withRules } from "./service.ts";

const t = useTestApp();

async function adminClient() {
  const admin = await createAdmin(t.ctx);
  return { admin, client: await loginAs(t.app, admin.email, admin.password) };
}

const inAWeek = () => toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString());

const jobForm = (overrides: Record<string, string | string[]> = {}) => ({
  company: "Bosch",
  title: "Graduate Engineer Trainee",
  type: "placement",
  description: "Embedded systems.",
  location: "Bengaluru",
  package_range: "7-8 LPA",
  official_link: "https://careers.example.com/get",
  apply_by: inAWeek(),
  departments: ["ECE", "EEE"],
  min_cgpa: "7",
  max_backlogs: "0",
  send_sms: "on",
  intent: "post",
  submission_id: randomUUID(),
  ...overrides,
});

function smsCount(kind: SmsKind = "job_posted") {
  return t.ctx.db
    .selectFrom("sms_messages")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("kind", "=", kind)
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.n));
}

describe("posting a job", () => {
  it("queues one alert per approved, eligible, not-opted-out student, and says how many", async () => {
    const eligible1 = await createStudent(t.ctx, {
      approved: true,
      department: "ECE",
      cgpa: 8,
      active_backlogs: 0,
    });
    await createStudent(t.ctx, { approved: true, department: "EEE", cgpa: 7, active_backlogs: 0 });
    await createStudent(t.ctx, { approved: true, department: "ECE", cgpa: 6.9 }); // CGPA too low
    await createStudent(t.ctx, { approved: true, department: "ECE", cgpa: 9, active_backlogs: 1 }); // backlog
    await createStudent(t.ctx, { approved: true, department: "CSE", cgpa: 9 }); // department
    await createStudent(t.ctx, { approved: false, department: "ECE", cgpa: 9 }); // pending
    const optedOut = await createStudent(t.ctx, { approved: true, department: "ECE", cgpa: 9 });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", optedOut.id)
      .execute();
    const { client } = await adminClient();

    const preview = await client.post("/admin/jobs/new", jobForm({ intent: "preview" }));
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toMatch(
      /3 approved students are eligible; 2 can get the SMS \(1 opted out\): 2 messages × 1 segment = 2 segments/,
    );
    expect(await smsCount()).toBe(0);

    const response = await client.post("/admin/jobs/new", jobForm());
    expect(response.statusCode).toBe(303);
    const job = await t.ctx.db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();
    expect(job).toMatchObject({
      company: "Bosch",
      status: "open",
      min_cgpa: 7,
      max_backlogs: 0,
      alert_sms_count: 2,
    });
    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("kind", "=", "job_posted")
      .orderBy("student_id")
      .execute();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      student_id: eligible1.id,
      to_e164: eligible1.phone,
      status: "queued",
      priority: 10,
      dedupe_key: `job:${job.id}:student:${eligible1.id}`,
      encoding: "GSM-7",
      segments: 1,
    });
    expect(rows[0]!.body).toContain(
      "New opportunity: Bosch - Graduate Engineer Trainee (placement). You are eligible.",
    );
    expect((await client.get(`/admin/jobs/${job.id}`)).body).toContain(
      "Job posted; 2 SMS alerts queued.",
    );
  });

  it("posts without SMS when the admin unticks it", async () => {
    await createStudent(t.ctx, { approved: true, department: "ECE", cgpa: 9 });
    const { client } = await adminClient();
    const form = jobForm();
    delete (form as Record<string, unknown>).send_sms;
    await client.post("/admin/jobs/new", form);
    expect(await smsCount()).toBe(0);
  });

  it("refuses a deadline in the past for a new job, beside the field, keeping the input", async () => {
    const { client } = await adminClient();
    const response = await client.post(
      "/admin/jobs/new",
      jobForm({ apply_by: "2020-01-01T10:00" }),
    );
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(
      /id="f-apply_by-error"[^>]*>The deadline must be in the future\./,
    );
    expect(response.body).toContain('value="Bosch"');
    expect(response.body).toMatch(/name="departments" value="ECE" checked/);
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toHaveLength(0);
  });

  it.each([
    [{ company: "" }, "company", "Enter the company."],
    [{ type: "fulltime" }, "type", "Choose the type."],
    [{ min_cgpa: "11" }, "min_cgpa", "between 0 and 10"],
    [{ official_link: "javascript:alert(1)" }, "official_link", "Enter a full http(s):// link."],
    [{ apply_by: "tomorrow" }, "apply_by", "Enter the deadline as a date and time."],
  ])("refuses a malformed job form: %j", async (overrides, field, message) => {
    const { client } = await adminClient();
    const response = await client.post("/admin/jobs/new", jobForm(overrides));
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(
      new RegExp(`id="f-${field}-error"[^>]*>[^<]*${message.replace(/[()]/g, "\\$&")}`),
    );
  });

  it("never re-sends the alert when the job is edited", async () => {
    await createStudent(t.ctx, { approved: true, department: "ECE", cgpa: 9 });
    const { client } = await adminClient();
    await client.post("/admin/jobs/new", jobForm());
    const job = await t.ctx.db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();
    expect(await smsCount()).toBe(1);
    const edit = await client.post(
      `/admin/jobs/${job.id}`,
      jobForm({ title: "GET (edited)", departments: ["ECE", "CSE"] }),
    );
    expect(edit.statusCode).toBe(303);
    expect(await smsCount()).toBe(1);
    const edited = await t.ctx.db.selectFrom("jobs").selectAll().executeTakeFirstOrThrow();
    expect(edited.title).toBe("GET (edited)");
    const departments = await t.ctx.db
      .selectFrom("job_departments")
      .select("department")
      .where("job_id", "=", job.id)
      .orderBy("department")
      .execute();
    expect(departments.map((d) => d.department)).toEqual(["CSE", "ECE"]);
  });

  it("closes, reopens and deletes a job; one with applications is closed, not deleted", async () => {
    const { client } = await adminClient();
    const { id } = await postJob(t.ctx);
    await client.post(`/admin/jobs/${id}/close`);
    expect(
      (await t.ctx.db.selectFrom("jobs").select("status").executeTakeFirstOrThrow()).status,
    ).toBe("closed");
    await client.post(`/admin/jobs/${id}/reopen`);
    expect(
      (await t.ctx.db.selectFrom("jobs").select("status").executeTakeFirstOrThrow()).status,
    ).toBe("open");

    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    await asStudent.post(`/student/jobs/${id}/apply`);
    const refused = await client.post(`/admin/jobs/${id}/delete`);
    expect(refused.headers.location).toBe(`/admin/jobs/${id}`);
    expect((await client.get(`/admin/jobs/${id}`)).body).toContain(
      "has 1 application and cannot be deleted",
    );

    const { id: empty } = await postJob(t.ctx, { title: "Unused" });
    // Delete… asks first, on a page that says what goes; the job stays until confirmed.
    const asked = await client.post(`/admin/jobs/${empty}/delete`);
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Delete the job Infosys – Unused?");
    expect(text).toContain("Nobody has applied to it. This cannot be undone.");
    expect(text).toContain("Nobody gets an SMS.");
    expect(asked.body).toContain(
      `href="/admin/jobs/${empty}" class="button secondary" id="cancel"`,
    );
    expect(
      await t.ctx.db.selectFrom("jobs").select("id").where("id", "=", empty).execute(),
    ).toHaveLength(1);
    expect((await confirm(client, asked)).headers.location).toBe("/admin/jobs");
    expect(
      await t.ctx.db.selectFrom("jobs").select("id").where("id", "=", empty).execute(),
    ).toHaveLength(0);
    const audit = await t.ctx.db.selectFrom("audit_log").select("action").orderBy("id").execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["job.close", "job.reopen", "job.delete"]),
    );
  });
});

describe("eligibility", () => {
  it("selects in SQL exactly the students the rule explains as eligible", async () => {
    // A deterministic spread of students; several rule sets; both readings must agree.
    const departments = ["CSE", "ECE", "ME", "ISE"];
    for (let i = 0; i < 48; i++) {
      await createStudent(t.ctx, {
        approved: i % 7 !== 0,
        department: departments[i % 4]!,
        cgpa: 5 + ((i * 37) % 50) / 10,
        active_backlogs: i % 5 === 0 ? 2 : i % 3 === 0 ? 1 : 0,
        graduation_year: 2026 + (i % 3),
        semester: 1 + (i % 8),
      });
    }
    // Some left the semester blank (registered before it was required): both readings leave them
    // out of semester-limited jobs, and include them in the others.
    await t.ctx.db
      .updateTable("students")
      .set({ semester: null })
      .where(
        "id",
        "in",
        (await t.ctx.db.selectFrom("students").select("id").execute())
          .filter((_, i) => i % 6 === 1)
          .map((r) => r.id),
      )
      .execute();
    const ruleSets: EligibilityRules[] = [
      { departments: [], graduationYears: [], semesters: [], minCgpa: null, maxBacklogs: null },
      {
        departments: ["CSE", "ISE"],
        graduationYears: [],
        semesters: [],
        minCgpa: 7.5,
        maxBacklogs: 0,
      },
      { departments: ["ECE"], graduationYears: [2027], semesters: [], minCgpa: 6, maxBacklogs: 1 },
      {
        departments: [],
        graduationYears: [2026, 2028],
        semesters: [5, 6, 7, 8],
        minCgpa: 8.1,
        maxBacklogs: null,
      },
      { departments: ["ME"], graduationYears: [], semesters: [3], minCgpa: null, maxBacklogs: 2 },
    ];
    const students = await t.ctx.db.selectFrom("students").selectAll().execute();
    for (const rules of ruleSets) {
      const expected = students
        .filter((s) => s.approved_at !== null && ineligibilityReasons(rules, s).length === 0)
        .map((s) => s.id)
        .sort((a, b) => a - b);
      const selected = await t.ctx.db
        .selectFrom("students")
        .select("id")
        .where(eligibleStudentFilter(rules))
        .orderBy("id")
        .execute();
      expect(
        selected.map((s) => s.id),
        JSON.stringify(rules),
      ).toEqual(expected);
    }
    const blank = students.filter((s) => s.semester === null);
    expect(blank.length).toBeGreaterThan(0);
    expect(
      blank.every((s) => ineligibilityReasons(ruleSets[4]!, s).includes(MISSING_SEMESTER_REASON)),
    ).toBe(true);
  });

  it('holds the TS and SQL readings of "open" equal: a passed deadline closes a job', async () => {
    const now = new Date();
    const hour = 3600 * 1000;
    const cases = [
      ["open", +hour],
      ["open", -hour],
      ["closed", +hour],
      ["closed", -hour],
    ] as const;
    const { admin } = await adminClient();
    for (const [status, offset] of cases) {
      const { id } = await postJob(t.ctx, { title: `${status} ${offset}` }, admin);
      await t.ctx.db
        .updateTable("jobs")
        .set({ status, apply_by: new Date(now.getTime() + offset).toISOString() })
        .where("id", "=", id)
        .execute();
    }
    const jobs = await t.ctx.db.selectFrom("jobs").selectAll().orderBy("id").execute();
    const open = await t.ctx.db
      .selectFrom("jobs")
      .select("id")
      .where(openForApplications(now))
      .orderBy("id")
      .execute();
    const closed = await t.ctx.db
      .selectFrom("jobs")
      .select("id")
      .where(closedToApplications(now))
      .orderBy("id")
      .execute();
    expect(open.map((j) => j.id)).toEqual(
      jobs.filter((j) => isOpenForApplications(j, now)).map((j) => j.id),
    );
    expect(closed.map((j) => j.id)).toEqual(
      jobs.filter((j) => !isOpenForApplications(j, now)).map((j) => j.id),
    );
    expect(open).toHaveLength(1);
    expect(jobs.map((j) => openStateLabel(j, now))).toEqual([
      "Open",
      "Deadline passed",
      "Closed",
      "Closed",
    ]);
  });

  it("records the alerts as skipped, sending none, when SMS_ENABLED=false", async () => {
    const off = await createTestApp({ SMS_ENABLED: "false" });
    try {
      for (let i = 0; i < 3; i++) await createStudent(off.ctx, { approved: true });
      const { alerts, id } = await postJob(off.ctx, { send_sms: true });
      expect(alerts).toBe(0);
      const rows = await off.ctx.db
        .selectFrom("sms_messages")
        .selectAll()
        .where("dedupe_key", "like", `job:${id}:%`)
        .execute();
      expect(rows).toHaveLength(3);
      expect(
        rows.every((r) => r.status === "skipped" && r.error_message === "SMS is disabled"),
      ).toBe(true);
    } finally {
      await off.close();
    }
  });

  it("fans out exactly the eligible count", async () => {
    for (let i = 0; i < 30; i++) {
      await createStudent(t.ctx, {
        approved: true,
        department: i % 2 ? "CSE" : "ECE",
        cgpa: 6 + (i % 5),
      });
    }
    const { alerts, id } = await postJob(t.ctx, {
      departments: ["CSE"],
      min_cgpa: 8,
      send_sms: true,
    });
    const students = await t.ctx.db.selectFrom("students").selectAll().execute();
    const eligible = students.filter((s) => s.department === "CSE" && s.cgpa >= 8).length;
    expect(alerts).toBe(eligible);
    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("dedupe_key", "like", `job:${id}:%`)
      .execute();
    expect(rows).toHaveLength(eligible);
  });
});

describe("a job's eligibility lists", () => {
  it("are read for many jobs in one statement, each list whole and in order", async () => {
    const first = await postJob(t.ctx, {
      departments: ["ME", "CSE", "ECE"],
      graduation_years: [2028, 2026],
      semesters: [8, 5, 7],
    });
    const none = await postJob(t.ctx, {}, first.admin);
    const some = await postJob(
      t.ctx,
      { departments: ["ISE"], graduation_years: [], semesters: [6, 3] },
      first.admin,
    );
    let statements = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        statements++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const jobs = await t.ctx.db.selectFrom("jobs").selectAll().orderBy("id").execute();
    const read = await withRules({ db: t.ctx.db.withPlugin(counting) }, jobs);
    expect(statements).toBe(1);
    const rules = new Map(read.map((job) => [job.id, job.rules]));
    expect(rules.get(first.id)).toMatchObject({
      departments: ["CSE", "ECE", "ME"],
      graduationYears: [2026, 2028],
      semesters: [5, 7, 8],
    });
    expect(rules.get(none.id)).toMatchObject({
      departments: [],
      graduationYears: [],
      semesters: [],
    });
    expect(rules.get(some.id)).toMatchObject({
      departments: ["ISE"],
      graduationYears: [],
      semesters: [3, 6],
    });
  });
});

describe("posting forms", () => {
  it("post once when the same form is submitted twice (a double click), alerting once", async () => {
    await createStudent(t.ctx, { approved: true, department: "ECE", cgpa: 9 });
    const { client } = await adminClient();
    const blank = await client.get("/admin/jobs/new");
    const submissionId = /name="submission_id" value="([0-9a-f-]{36})"/.exec(blank.body)?.[1];
    expect(submissionId).toBeDefined();
    const form = jobForm({ submission_id: submissionId! });
    const [a, b] = await Promise.all([
      client.post("/admin/jobs/new", form),
      client.post("/admin/jobs/new", form),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    expect(a.headers.location).toBe(b.headers.location);
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toHaveLength(1);
    expect(await smsCount()).toBe(1);
    // A new blank form is a new posting.
    const again = await client.get("/admin/jobs/new");
    expect(again.body).not.toContain(submissionId!);
  });

  it("keeps rules the form no longer offers when a job is edited", async () => {
    const { client } = await adminClient();
    const year = new Date().getUTCFullYear();
    const { id } = await postJob(t.ctx, { graduation_years: [year - 2], semesters: [9] });
    const page = await client.get(`/admin/jobs/${id}`);
    expect(page.body).toMatch(new RegExp(`name="graduation_years" value="${year - 2}" checked`));
    expect(page.body).toMatch(/name="semesters" value="9" checked/);
    await client.post(`/admin/jobs/${id}`, {
      ...jobForm({ departments: [] }),
      graduation_years: String(year - 2),
      semesters: "9",
    });
    const years = await t.ctx.db
      .selectFrom("job_graduation_years")
      .select("graduation_year")
      .where("job_id", "=", id)
      .execute();
    expect(years.map((y) => y.graduation_year)).toEqual([year - 2]);
  });

  it("takes a repeated department once, finds jobs by text with % and _ as themselves, and refuses absurd ids and pages", async () => {
    const { client } = await adminClient();
    const response = await client.post("/admin/jobs/new", jobForm({ departments: ["CSE", "CSE"] }));
    expect(response.statusCode).toBe(303);
    await postJob(t.ctx, { company: "50% Off Labs" });
    await postJob(t.ctx, { company: "5000 Offers" });
    const search = await client.get(`/admin/jobs?q=${encodeURIComponent("50%")}`);
    expect(search.body).toContain("50% Off Labs");
    expect(search.body).not.toContain("5000 Offers");
    expect((await client.get("/admin/jobs/3000000000")).statusCode).toBe(400);
    expect((await client.get("/admin/jobs?page=100000000000000000000")).statusCode).toBe(400);
  });
});

describe("alerts not sent yet follow the job", () => {
  /** A job alerting `n` approved students; the rows of its alerts, in student order. */
  async function jobWithAlerts(n: number) {
    for (let i = 0; i < n; i++) await createStudent(t.ctx, { approved: true });
    const { admin, client } = await adminClient();
    const job = await postJob(t.ctx, { send_sms: true }, admin);
    expect(job.alerts).toBe(n);
    return { ...job, client };
  }

  function alerts(jobId: number) {
    return t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("reference", "=", `job:${jobId}`)
      .orderBy("student_id")
      .execute();
  }

  async function setStatus(id: number, status: "sent" | "sending" | "cancelled") {
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status, twilio_sid: status === "sent" ? `SM${String(id).padStart(32, "0")}` : null })
      .where("id", "=", id)
      .execute();
  }

  it("closing cancels the queued ones, leaves sent and mid-send ones, and reopening sends nothing", async () => {
    const { id, client } = await jobWithAlerts(3);
    const [sent, sending, queued] = await alerts(id);
    await setStatus(sent!.id, "sent");
    await setStatus(sending!.id, "sending");

    expect((await client.post(`/admin/jobs/${id}/close`)).statusCode).toBe(303);
    expect((await client.get(`/admin/jobs/${id}`)).body).toContain(
      "Applications closed. 1 alert SMS not sent yet was cancelled.",
    );
    const after = await alerts(id);
    expect(after.map((r) => r.status)).toEqual(["sent", "sending", "cancelled"]);
    expect(after[2]!.id).toBe(queued!.id);
    expect(after[2]!.error_message).toContain("the job was closed");
    expect(await smsStatusByReference(t.ctx.db, `job:${id}`)).toEqual({
      sent: 1,
      sending: 1,
      cancelled: 1,
    });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select("details")
      .where("action", "=", "job.close")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ jobId: id, alertsCancelled: 1 });

    await client.post(`/admin/jobs/${id}/reopen`);
    expect((await alerts(id)).map((r) => r.status)).toEqual(["sent", "sending", "cancelled"]);
    expect(await smsCount()).toBe(3);

    const page = await client.get("/admin/sms?status=cancelled");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("the job was closed before this alert was sent");
  });

  it("deleting the job counts a cancelled alert as never sent", async () => {
    const { id, client } = await jobWithAlerts(3);
    const [sent, cancelled] = await alerts(id);
    await setStatus(sent!.id, "sent");
    await setStatus(cancelled!.id, "cancelled");
    const asked = pageText((await client.post(`/admin/jobs/${id}/delete`)).body);
    expect(asked).toContain(
      "Nobody gets an SMS. 1 job alert not sent yet is cancelled. 1 job alert already sent or being sent stays on record.",
    );
  });

  it("deleting the job cancels its queued alerts", async () => {
    const { id, client } = await jobWithAlerts(2);
    const [sent] = await alerts(id);
    await setStatus(sent!.id, "sent");
    const asked = pageText((await client.post(`/admin/jobs/${id}/delete`)).body);
    expect(asked).toContain(
      "Nobody gets an SMS. 1 job alert not sent yet is cancelled. 1 job alert already sent or being sent stays on record.",
    );
    await client.post(`/admin/jobs/${id}/delete`, { confirm: "yes" });
    expect((await client.get("/admin/jobs")).body).toContain(
      "Job deleted. 1 alert SMS not sent yet was cancelled.",
    );
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toHaveLength(0);
    const after = await alerts(id);
    expect(after.map((r) => r.status)).toEqual(["sent", "cancelled"]);
    expect(after[1]!.error_message).toContain("the job was deleted");
  });

  it("editing the job rewrites the text of the queued ones only", async () => {
    const { id, client, input } = await jobWithAlerts(3);
    expect(input.company).toBe("Infosys");
    const [sent, queued, unconfirmed] = await alerts(id);
    await setStatus(sent!.id, "sent");
    // An earlier attempt may have reached Twilio: its text is what reconciliation looks for.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ unconfirmed_attempt_at: new Date().toISOString() })
      .where("id", "=", unconfirmed!.id)
      .execute();
    const longTitle = `GET (edited), Embedded Systems ${"x".repeat(30)}`;
    const response = await client.post(
      `/admin/jobs/${id}`,
      jobForm({
        company: `${input.company} Technologies and Consulting Services Limited`,
        title: longTitle,
        type: "internship",
        departments: [],
        min_cgpa: "",
        max_backlogs: "",
      }),
    );
    expect(response.statusCode).toBe(303);
    expect((await client.get(`/admin/jobs/${id}`)).body).toContain(
      "1 alert not sent yet now carries the new text",
    );
    const after = await alerts(id);
    expect(after[0]!.body).toBe(sent!.body);
    expect(after[2]!.body).toBe(unconfirmed!.body);
    expect(after[1]!.body).not.toBe(queued!.body);
    expect(after[1]!.body).toContain("(edited)");
    expect(after[1]!.body).toContain("(internship)");
    expect(after[1]!.status).toBe("queued");
    expect(after[1]!.segments).toBe(countSegments(after[1]!.body).segments);
    expect(after[1]!.segments).toBeGreaterThan(queued!.segments);
    expect(await smsCount()).toBe(3);
  });
});
