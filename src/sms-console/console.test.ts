// @both-databases: India-hour buckets and counts per dialect.
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
} from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import {
  queueTestMessages,
  startDispatcher,
  startEmulator,
  twilioEnv,
  waitFor,
  waitUntilSent,
} from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import type { NewSmsMessage, SmsStatus } from "../db/schema.ts";
import type { Dispatcher } from "../sms/dispatcher.ts";
import { foldHourlyCounts } from "../sms/hourly-counts.ts";
import { applyFilters } from "./console.ts";

let t: TestApp | undefined;
let emulator: TwilioEmulator | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.stop();
  await t?.close();
  await emulator?.close();
  dispatcher = t = emulator = undefined;
});

let counter = 0;
const HOUR = 3_600_000;

/** An outbox row as a feature would have left it, at a chosen time. */
async function insertSms(
  app: TestApp,
  fields: Partial<NewSmsMessage> & { status: SmsStatus; created_at: string },
): Promise<number> {
  counter += 1;
  const row = await app.ctx.db
    .insertInto("sms_messages")
    .values({
      kind: "custom",
      priority: 10,
      dedupe_key: `console-test:${counter}`,
      student_id: null,
      to_e164: `+9198450${String(10000 + counter).padStart(5, "0")}`,
      body: `Console test ${counter}`,
      encoding: "GSM-7",
      segments: 1,
      next_attempt_at: fields.created_at,
      updated_at: fields.created_at,
      ...fields,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

function listed(body: string): number[] {
  return [...body.matchAll(/<tr data-sms="(\d+)"/g)].map((m) => Number(m[1]));
}

function counter_(body: string, status: string): number | null {
  const m = new RegExp(`<li data-status="${status}"><a[^>]*><strong>(\\d+)</strong>`).exec(body);
  return m ? Number(m[1]) : null;
}

/** The chart tables' numbers: unit -> bucket -> series -> count. */
function chartData(body: string): Record<string, Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const table of body.matchAll(
    /<table class="chart-data" data-unit="(\w+)">([\s\S]*?)<\/table>/g,
  )) {
    const unit = table[1]!;
    out[unit] = {};
    for (const row of table[2]!.matchAll(/<tr data-bucket="([^"]+)">([\s\S]*?)<\/tr>/g)) {
      const cells: Record<string, number> = {};
      for (const cell of row[2]!.matchAll(/<td data-series="(\w+)">(\d+)<\/td>/g))
        cells[cell[1]!] = Number(cell[2]);
      out[unit][row[1]!] = cells;
    }
  }
  return out;
}

/** India-time keys as the chart writes them. */
const hourKey = (at: number) => new Date(at + 330 * 60_000).toISOString().slice(0, 13);
const dayKey = (at: number) => new Date(at + 330 * 60_000).toISOString().slice(0, 10);

async function adminClient(app: TestApp): Promise<TestClient> {
  const admin = await createAdmin(app.ctx);
  return loginAs(app.app, admin.email, admin.password);
}

describe("SMS console list", () => {
  it("narrows by each filter and by several at once; the counts per status follow the filter", async () => {
    t = await createTestApp();
    const now = Date.now();
    const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR).toISOString();
    const job = await postJob(t.ctx, { company: "Infosys", title: "SDE" });
    const announcement = await t.ctx.db
      .insertInto("announcements")
      .values({ title: "Drive on Friday", message: "Come", posted_at: at(1) })
      .returning("id")
      .executeTakeFirstOrThrow();
    const asha = await createStudent(t.ctx, {
      full_name: "Asha Rao",
      phone: "+919876500001",
    });
    const jobDelivered = await insertSms(t, {
      kind: "job_posted",
      status: "delivered",
      reference: `job:${job.id}`,
      created_at: at(2),
    });
    const jobQueued = await insertSms(t, {
      kind: "job_posted",
      status: "queued",
      reference: `job:${job.id}`,
      created_at: at(1),
    });
    const announced = await insertSms(t, {
      kind: "custom",
      status: "failed",
      error_code: 21211,
      reference: `announcement:${announcement.id}`,
      created_at: at(3),
    });
    const toAsha = await insertSms(t, {
      kind: "status_update",
      status: "undelivered",
      error_code: 30007,
      student_id: asha.id,
      to_e164: "+919876500001",
      created_at: at(30),
    });
    const old = await insertSms(t, { kind: "approval", status: "sent", created_at: at(24 * 10) });
    const client = await adminClient(t);

    const all = await client.get("/admin/sms");
    expect(all.statusCode).toBe(200);
    // The tests run without quiet hours (SMS_QUIET_HOURS empty): the console says so.
    expect(all.body).toContain("Quiet hours: <strong>off</strong>");
    expect(listed(all.body)).toEqual(
      [old, toAsha, announced, jobQueued, jobDelivered].sort((a, b) => b - a),
    );
    expect(counter_(all.body, "delivered")).toBe(1);
    expect(counter_(all.body, "failed_or_undelivered")).toBe(2);

    const cases: Array<[string, number[]]> = [
      ["status=failed_or_undelivered", [toAsha, announced]],
      ["status=queued", [jobQueued]],
      ["kind=job_posted", [jobQueued, jobDelivered]],
      [`job=${job.id}`, [jobQueued, jobDelivered]],
      [`announcement=${announcement.id}`, [announced]],
      [`student_id=${asha.id}`, [toAsha]],
      ["student=asha", [toAsha]],
      [`student=${encodeURIComponent(asha.roll_number)}`, [toAsha]],
      ["student=98765%2000001", [toAsha]],
      [`since=${encodeURIComponent(at(4))}`, [jobQueued, jobDelivered, announced]],
      [`from=${dayKey(now - 240 * HOUR)}&until=${dayKey(now - 240 * HOUR)}`, [old]],
      [`kind=job_posted&status=delivered`, [jobDelivered]],
      [`job=${job.id}&status=failed`, []],
    ];
    for (const [query, expected] of cases) {
      const page = await client.get(`/admin/sms?${query}`);
      expect(page.statusCode, query).toBe(200);
      expect(listed(page.body), query).toEqual(expected.sort((a, b) => b - a));
    }
    // `since` is about the last change: a message queued 30 hours ago that failed an hour ago is
    // among the failures of the last 4 hours (what the banner's "last 24 hours" link relies on).
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ updated_at: at(1) })
      .where("id", "=", toAsha)
      .execute();
    const recentFailures = await client.get(
      `/admin/sms?status=failed_or_undelivered&since=${encodeURIComponent(at(4))}`,
    );
    expect(listed(recentFailures.body)).toEqual([toAsha, announced].sort((a, b) => b - a));
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ updated_at: at(30) })
      .where("id", "=", toAsha)
      .execute();

    // The counts follow every filter but the status itself.
    const jobPage = await client.get(`/admin/sms?job=${job.id}&status=delivered`);
    expect(counter_(jobPage.body, "delivered")).toBe(1);
    expect(counter_(jobPage.body, "queued")).toBe(1);
    expect(counter_(jobPage.body, "failed_or_undelivered")).toBeNull();
    // Links keep the other filters; the filters are shown in words.
    expect(jobPage.body).toContain(`href="/admin/sms?status=queued&job=${job.id}"`);
    expect(jobPage.body).toContain("Job alert of Infosys – SDE");
    expect(jobPage.body).toContain('<a href="/admin/sms">Clear all filters</a>');
    const ashaPage = await client.get(`/admin/sms?student_id=${asha.id}`);
    expect(ashaPage.body).toContain(`Student: Asha Rao (${asha.roll_number})`);
    // The short explanation in the row.
    expect(ashaPage.body).toContain(
      "Blocked by the carrier&#39;s content filter (Twilio error 30007)",
    );
  });

  it("pages 50 at a time, newest first, keeping the filters in the page links", async () => {
    t = await createTestApp();
    const start = Date.now() - 100 * 60_000;
    const ids: number[] = [];
    for (let i = 0; i < 55; i++)
      ids.push(
        await insertSms(t, {
          kind: "test",
          status: "captured",
          created_at: new Date(start + i * 60_000).toISOString(),
        }),
      );
    await insertSms(t, { kind: "approval", status: "sent", created_at: new Date().toISOString() });
    const client = await adminClient(t);
    const first = await client.get("/admin/sms?kind=test");
    expect(listed(first.body)).toEqual(ids.slice(5).reverse());
    expect(first.body).toContain("55 messages");
    expect(first.body).toContain('href="/admin/sms?kind=test&page=2"');
    const second = await client.get("/admin/sms?kind=test&page=2");
    expect(listed(second.body)).toEqual(ids.slice(0, 5).reverse());
  });

  it("pages a common status newest first by walking the outbox, a rare one by its index: the same rows either way", async () => {
    t = await createTestApp();
    const start = Date.now() - 3000 * 60_000;
    const statusOf = (i: number): SmsStatus =>
      i % 3 === 0
        ? "failed"
        : i === 1000 || i === 2000
          ? "undelivered"
          : i % 500 === 1
            ? "queued"
            : "delivered";
    const made: Array<{ id: number; status: SmsStatus }> = [];
    for (let from = 0; from < 3000; from += 500) {
      const rows = Array.from({ length: 500 }, (_, k) => {
        const i = from + k;
        const at = new Date(start + i * 60_000).toISOString();
        return {
          kind: "job_posted" as const,
          priority: 10,
          dedupe_key: `dense:${i}`,
          student_id: null,
          to_e164: "+919845012345",
          body: "Dense test",
          encoding: "GSM-7" as const,
          segments: 1,
          status: statusOf(i),
          next_attempt_at: at,
          created_at: at,
          updated_at: at,
        };
      });
      const ids = await t.ctx.db.insertInto("sms_messages").values(rows).returning("id").execute();
      for (const [k, r] of ids.entries()) made.push({ id: r.id, status: rows[k]!.status });
    }
    const newest = (statuses: SmsStatus[], page: number) =>
      made
        .filter((m) => statuses.includes(m.status))
        .map((m) => m.id)
        .sort((a, b) => b - a)
        .slice((page - 1) * 50, page * 50);
    const client = await adminClient(t);
    for (const [query, statuses] of [
      ["status=failed", ["failed"]], // 1,000 of 3,000: walked
      ["status=failed_or_undelivered", ["failed", "undelivered"]],
      ["status=queued", ["queued"]], // 6: by its index
      ["status=delivered&kind=job_posted", ["delivered"]],
    ] as const) {
      for (const page of [1, 3]) {
        const body = (await client.get(`/admin/sms?${query}&page=${page}`)).body;
        expect(listed(body), `${query} page ${page}`).toEqual(newest([...statuses], page));
      }
    }
    if (t.ctx.dialect === "sqlite") {
      // Walked newest first: no sort of every failed message's id.
      const walked = applyFilters(
        t.ctx,
        t.ctx.db.selectFrom("sms_messages"),
        { status: "failed", page: 1 },
        true,
        false,
      )
        .select("sms_messages.id")
        .orderBy("sms_messages.id", "desc")
        .limit(50)
        .compile();
      const plan = await sql
        .raw<{ detail: string }>(`explain query plan ${walked.sql.replaceAll("?", "'failed'")}`)
        .execute(t.ctx.db);
      expect(plan.rows.map((r) => r.detail).join(" | ")).toMatch(/^SCAN sms_messages$/);
    }
  });

  it("charts per India hour and per India day, split by outcome, following the filters", async () => {
    t = await createTestApp();
    const now = Date.now();
    // Half past an India hour, three hours ago, so every row sits well inside one bucket.
    const hourStart = Math.floor((now + 330 * 60_000) / HOUR) * HOUR - 330 * 60_000;
    const threeHoursAgo = hourStart - 3 * HOUR + 30 * 60_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const status of [
      "delivered",
      "delivered",
      "sent",
      "failed",
      "undelivered",
      "queued",
      "unknown",
    ] as const)
      await insertSms(t, { kind: "job_posted", status, created_at: iso(threeHoursAgo) });
    await insertSms(t, { kind: "approval", status: "captured", created_at: iso(threeHoursAgo) });
    await insertSms(t, { kind: "approval", status: "cancelled", created_at: iso(threeHoursAgo) });
    const fiveDaysAgo = now - 5 * 24 * HOUR;
    await insertSms(t, { kind: "job_posted", status: "delivered", created_at: iso(fiveDaysAgo) });
    const client = await adminClient(t);

    const page = await client.get("/admin/sms");
    const charts = chartData(page.body);
    expect(Object.keys(charts.hour!)).toHaveLength(48);
    expect(Object.keys(charts.day!)).toHaveLength(30);
    expect(charts.hour![hourKey(threeHoursAgo)]).toEqual({
      delivered: 2,
      sent: 1,
      captured: 1,
      queued: 1,
      failed: 2,
      unknown: 1,
      all: 8,
    });
    expect(charts.day![dayKey(fiveDaysAgo)]!.delivered).toBeGreaterThanOrEqual(1);
    const totalDelivered = Object.values(charts.day!).reduce((n, b) => n + b.delivered!, 0);
    expect(totalDelivered).toBe(3);
    // Readable without colour: a summary for screen readers and a title per bar.
    expect(page.body).toContain('role="img"');
    expect(page.body).toMatch(
      /aria-label="Messages per hour, last 48 hours: 8 messages \(2 delivered/,
    );
    expect(page.body).toContain("<title>");

    const filtered = chartData((await client.get("/admin/sms?kind=approval")).body);
    expect(filtered.hour![hourKey(threeHoursAgo)]).toMatchObject({
      captured: 1,
      delivered: 0,
      all: 1,
    });

    const range = `from=${dayKey(fiveDaysAgo)}&until=${dayKey(fiveDaysAgo)}`;
    const ranged = chartData((await client.get(`/admin/sms?${range}`)).body);
    expect(Object.keys(ranged.day!)).toEqual([dayKey(fiveDaysAgo)]);
    expect(ranged.day![dayKey(fiveDaysAgo)]).toMatchObject({ delivered: 1, all: 1 });
  });

  it("counts and charts what is folded into the hourly counts and what is not yet, the same before and after a fold", async () => {
    t = await createTestApp();
    const now = Date.now();
    const hourStart = Math.floor((now + 330 * 60_000) / HOUR) * HOUR - 330 * 60_000;
    const twoHoursAgo = new Date(hourStart - 2 * HOUR + 30 * 60_000).toISOString();
    const thisHour = new Date(hourStart + 60_000).toISOString();
    const first = await insertSms(t, {
      kind: "job_posted",
      status: "queued",
      created_at: twoHoursAgo,
    });
    await insertSms(t, { kind: "job_posted", status: "queued", created_at: twoHoursAgo });
    await foldHourlyCounts(t.ctx);
    // Not folded yet: one of the folded messages sent, and two new ones in the current hour.
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "sent" })
      .where("id", "=", first)
      .execute();
    await insertSms(t, { kind: "job_posted", status: "failed", created_at: thisHour });
    await insertSms(t, { kind: "approval", status: "queued", created_at: thisHour });
    const client = await adminClient(t);
    const expectLive = async () => {
      const page = await client.get("/admin/sms");
      expect(counter_(page.body, "queued")).toBe(2);
      expect(counter_(page.body, "sent")).toBe(1);
      expect(counter_(page.body, "failed")).toBe(1);
      const charts = chartData(page.body);
      expect(charts.hour![hourKey(Date.parse(twoHoursAgo))]).toMatchObject({
        queued: 1,
        sent: 1,
        all: 2,
      });
      expect(charts.hour![hourKey(Date.parse(thisHour))]).toMatchObject({
        queued: 1,
        failed: 1,
        all: 2,
      });
    };
    await expectLive();
    expect(await foldHourlyCounts(t.ctx)).toBeGreaterThan(0);
    await expectLive();
  });

  it("offers cancel forms for queued rows: the selection and all of one job's queued SMS", async () => {
    t = await createTestApp();
    const job = await postJob(t.ctx, { company: "TCS", title: "Analyst" });
    const now = new Date().toISOString();
    const queued = await insertSms(t, {
      kind: "job_posted",
      status: "queued",
      reference: `job:${job.id}`,
      created_at: now,
    });
    await insertSms(t, {
      kind: "job_posted",
      status: "queued",
      reference: `job:${job.id}`,
      created_at: now,
    });
    const sent = await insertSms(t, {
      kind: "job_posted",
      status: "sent",
      reference: `job:${job.id}`,
      created_at: now,
    });
    const client = await adminClient(t);
    const page = await client.get(`/admin/sms?job=${job.id}`);
    expect(page.body).toMatch(
      /<form method="post" action="\/admin\/sms\/cancel" id="sms-selection"/,
    );
    expect(page.body).toContain(`name="ids" value="${queued}" form="sms-selection"`);
    expect(page.body).not.toContain(`name="ids" value="${sent}"`);
    expect(page.body).toContain(`name="reference" value="job:${job.id}"`);
    expect(page.body).toContain("Cancel all 2 queued SMS of this job alert");
    expect(page.body).toContain(`name="next" value="/admin/sms?job=${job.id}"`);
  });

  it("answers hostile filters with 400, never 500", async () => {
    t = await createTestApp();
    const client = await adminClient(t);
    for (const query of [
      "status=bogus",
      "kind=%00",
      "from=2026-02-30",
      "until=yesterday",
      "since=2026-13-01T00:00:00Z",
      "since=not-a-time",
      "job=1e309",
      "announcement=-1",
      "student_id=0x10",
      "student=%00",
      `student=${"a".repeat(101)}`,
      "page=0",
    ]) {
      const response = await client.get(`/admin/sms?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
  });
});

describe("SMS message page", () => {
  it("shows a sent message's kind, student, text, times, SID and its attempts from a real dispatch", async () => {
    emulator = await startEmulator();
    t = await createTestApp(twilioEnv(emulator));
    const client = await adminClient(t);
    const student = await createStudent(t.ctx, { full_name: "Ravi Kumar", phone: "+919812300001" });
    await client.post(`/admin/students/${student.id}/approve`);
    const [bad] = await queueTestMessages(t.ctx, 1, { to: "+15005550001" });
    dispatcher = await startDispatcher(t.ctx);
    const sent = await waitFor(async () => {
      const row = await t!.ctx.db
        .selectFrom("sms_messages")
        .selectAll()
        .where("student_id", "=", student.id)
        .executeTakeFirst();
      return row?.status === "sent" ? row : null;
    });
    await waitFor(async () => {
      const row = await t!.ctx.db
        .selectFrom("sms_messages")
        .select("status")
        .where("id", "=", bad!)
        .executeTakeFirst();
      return row?.status === "failed" ? row : null;
    });

    const page = await client.get(`/admin/sms/${sent.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<dd>Approval</dd>");
    expect(page.body).toContain(
      `<a href="/admin/students/${student.id}">Ravi Kumar (${student.roll_number})</a>`,
    );
    expect(page.body).toContain("+919812300001");
    expect(page.body).toContain("1 segment, GSM-7");
    expect(page.body).toContain(`<dt>Twilio message SID</dt><dd>${sent.twilio_sid}`);
    const attempts = await t.ctx.db
      .selectFrom("sms_attempts")
      .selectAll()
      .where("message_id", "=", sent.id)
      .execute();
    expect(attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: "sent",
        twilio_sid: sent.twilio_sid,
        error_code: null,
      }),
    ]);
    expect(page.body).toContain("Accepted by Twilio");
    expect(page.body).not.toContain("No attempt yet.");

    const failed = await client.get(`/admin/sms/${bad}`);
    expect(failed.body).toContain("Not a valid mobile number");
    expect(failed.body).toContain(
      "What to do: Correct the student&#39;s phone number, then resend.",
    );
    expect(failed.body).toContain(`action="/admin/sms/${bad}/resend"`);
    const failedAttempts = await t.ctx.db
      .selectFrom("sms_attempts")
      .selectAll()
      .where("message_id", "=", bad!)
      .execute();
    expect(failedAttempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "failed", error_code: 21211 }),
    ]);
  });

  it("lists an unanswered attempt and the reconciliation that found it sent at Twilio", async () => {
    emulator = await startEmulator();
    t = await createTestApp(twilioEnv(emulator, { SMS_RETRY_DELAY_SECONDS: "0" }));
    const client = await adminClient(t);
    emulator.setKnobs({ dropAnswerNext: 1 });
    const [id] = await queueTestMessages(t.ctx, 1);
    dispatcher = await startDispatcher(t.ctx);
    const row = await waitUntilSent(t.ctx, id!);
    const attempts = await t.ctx.db
      .selectFrom("sms_attempts")
      .selectAll()
      .where("message_id", "=", id!)
      .orderBy("id")
      .execute();
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "retry"],
      [2, "reconciled"],
    ]);
    expect(attempts[1]!.twilio_sid).toBe(row.twilio_sid);
    expect(emulator.messages).toHaveLength(1);
    const page = await client.get(`/admin/sms/${id}`);
    expect(page.body).toContain("Failed; tried again later");
    expect(page.body).toContain("Found at Twilio: it had gone out");
  });

  it("explains 30007 and unknown codes, offers Cancel for a queued one, and 404s an unknown id", async () => {
    t = await createTestApp();
    const client = await adminClient(t);
    const now = new Date().toISOString();
    const filtered = await insertSms(t, {
      status: "undelivered",
      error_code: 30007,
      created_at: now,
    });
    const odd = await insertSms(t, { status: "failed", error_code: 63999, created_at: now });
    const queued = await insertSms(t, { status: "queued", created_at: now });
    const page = await client.get(`/admin/sms/${filtered}`);
    expect(page.body).toContain("Blocked by the carrier&#39;s content filter");
    expect(page.body).toContain("check the DLT template".replace("check", "Check"));
    const unknown = await client.get(`/admin/sms/${odd}`);
    expect(unknown.body).toContain("Twilio error 63999");
    expect(unknown.body).toContain("https://www.twilio.com/docs/errors/63999");
    const cancel = await client.get(`/admin/sms/${queued}`);
    expect(cancel.body).toContain(`name="ids" value="${queued}"`);
    expect(cancel.body).toContain(`name="next" value="/admin/sms/${queued}"`);
    expect(cancel.body).not.toContain("/resend");
    expect((await client.get("/admin/sms/999999")).statusCode).toBe(404);
    expect((await client.get("/admin/sms/abc")).statusCode).toBe(400);
  });
});
