// @both-databases: one-time form ids claimed under concurrency.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { toLocalInput } from "./time.ts";

const t = useTestApp();

const submissionIdOf = (body: string) =>
  /name="submission_id" value="([^"]*)"/.exec(body)?.[1] ?? null;

async function count(table: "announcements" | "jobs" | "sms_messages") {
  return (await t.ctx.db.selectFrom(table).select("id").execute()).length;
}

async function setUp(): Promise<TestClient> {
  // Two students who would each get an SMS per posting.
  await createStudent(t.ctx, { approved: true });
  await createStudent(t.ctx, { approved: true });
  const admin = await createAdmin(t.ctx, "poster@college.test");
  return loginAs(t.app, admin.email, admin.password);
}

/**
 * Posts `form` from `blankUrl`'s blank form, then replays it without its one-time id, with a
 * made-up one, and with the same one: only the first posts and fans out.
 */
async function replays(
  client: TestClient,
  table: "announcements" | "jobs",
  blankUrl: string,
  postUrl: string,
  form: Record<string, string>,
  kept: string,
) {
  const blank = await client.get(blankUrl);
  const submission_id = submissionIdOf(blank.body);
  expect(submission_id).toMatch(/^[0-9a-f-]{36}$/);
  const first = await client.post(postUrl, { ...form, submission_id: submission_id! });
  expect(first.statusCode).toBe(303);
  const sms = await count("sms_messages");
  expect(sms).toBe(2 + 2); // two approval SMS, then one per student for the posting
  expect(await count(table)).toBe(1);

  for (const replayed of [form, { ...form, submission_id: "" }, { ...form, submission_id: "x" }]) {
    const response = await client.post(postUrl, replayed);
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain("This form has expired");
    // The values come back, with a fresh one-time id to send them once more on purpose.
    expect(response.body).toContain(kept);
    const fresh = submissionIdOf(response.body);
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh).not.toBe(submission_id);
  }
  // The same id again: recognised as the same submission, nothing new.
  const again = await client.post(postUrl, { ...form, submission_id: submission_id! });
  expect(again.statusCode).toBe(303);
  expect(await count(table)).toBe(1);
  expect(await count("sms_messages")).toBe(sms);

  // Sending the re-rendered expired form is a new, deliberate posting.
  const expired = await client.post(postUrl, form);
  const resent = await client.post(postUrl, {
    ...form,
    submission_id: submissionIdOf(expired.body)!,
  });
  expect(resent.statusCode).toBe(303);
  expect(await count(table)).toBe(2);
}

describe("replaying a posting form", () => {
  it("without its one-time id does not post an announcement or text anyone twice", async () => {
    const client = await setUp();
    await replays(
      client,
      "announcements",
      "/admin/announcements",
      "/admin/announcements",
      { title: "Pre-placement talk", message: "Infosys PPT on Monday.", send_sms: "on" },
      "Infosys PPT on Monday.",
    );
  });

  it("without its one-time id does not post a job or send its alert twice", async () => {
    const client = await setUp();
    await replays(
      client,
      "jobs",
      "/admin/jobs/new",
      "/admin/jobs/new",
      {
        company: "Bosch",
        title: "Graduate Engineer Trainee",
        type: "placement",
        apply_by: toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString()),
        send_sms: "on",
        intent: "post",
      },
      'value="Graduate Engineer Trainee"',
    );
  });
});
