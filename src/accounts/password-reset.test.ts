// @both-databases: reset codes are spent under concurrency.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { claimCandidates } from "../sms/outbox.ts";
import { recordLimitEvent } from "../web/limits.ts";
import { RESET_ANSWER_MIN_MS } from "./password-routes.tsx";

const t = useTestApp();

const NEW_PASSWORD = "a brand new password";

/** The code from the newest reset SMS to `phone`, as the student reads it on the phone. */
async function codeSentTo(phone: string): Promise<string> {
  const row = await t.ctx.db
    .selectFrom("sms_messages")
    .select("body")
    .where("kind", "=", "password_reset")
    .where("to_e164", "=", phone)
    .orderBy("id", "desc")
    .executeTakeFirstOrThrow();
  return /\b(\d{6})\b/.exec(row.body)![1]!;
}

async function askForCode(client: TestClient, email: string) {
  const response = await client.post("/password/forgot", { email });
  expect(response.statusCode).toBe(303);
  expect(response.headers.location).toBe("/password/reset");
  return response;
}

function resetWith(client: TestClient, email: string, code: string, password = NEW_PASSWORD) {
  return client.post("/password/reset", {
    email,
    code,
    password,
    password_confirm: password,
  });
}

/** A page's text without what differs per request (the CSRF token). */
const comparable = (body: string) => body.replace(/name="_csrf" value="[^"]+"/, "");

describe("password reset by SMS code", () => {
  it("sends a code to the registered number and sets the new password with it, once", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    expect((await client.get("/login")).body).toContain('href="/password/forgot"');
    await askForCode(client, student.email.toUpperCase());
    const form = await client.get("/password/reset");
    expect(form.body).toContain(`value="${student.email}"`);

    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .selectAll()
      .where("kind", "=", "password_reset")
      .executeTakeFirstOrThrow();
    expect(sms.to_e164).toBe(student.phone);
    expect(sms.status).toBe("queued");
    expect(sms.segments).toBe(1);
    const code = await codeSentTo(student.phone);
    const stored = await t.ctx.db
      .selectFrom("password_reset_codes")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(stored.code_hash).not.toContain(code);
    expect(stored.code_hash).toMatch(/^[0-9a-f]{64}$/);

    const reset = await resetWith(client, student.email, code);
    expect(reset.statusCode).toBe(303);
    expect(reset.headers.location).toBe("/login");
    expect((await client.get("/login")).body).toContain("Your password has been changed.");
    await loginAs(t.app, student.email, NEW_PASSWORD);
    const old = await new TestClient(t.app).post("/login", {
      email: student.email,
      password: student.password,
    });
    expect(old.statusCode).toBe(401);

    // Single use, and the stored SMS text no longer holds the code.
    const reuse = await resetWith(new TestClient(t.app), student.email, code, "yet another one!");
    expect(reuse.statusCode).toBe(422);
    expect(reuse.body).toContain("This code is wrong, has expired or was used already.");
    const after = await t.ctx.db
      .selectFrom("sms_messages")
      .select("body")
      .where("id", "=", sms.id)
      .executeTakeFirstOrThrow();
    expect(after.body).not.toContain(code);

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "subject"])
      .where("action", "like", "password_reset.%")
      .orderBy("id")
      .execute();
    expect(audit).toEqual([
      { action: "password_reset.requested", subject: student.email },
      { action: "password_reset.used", subject: student.email },
    ]);
  });

  it("puts the code at the front of the SMS queue", async () => {
    // Approvals (transactional) are queued already.
    await createStudent(t.ctx, { approved: true });
    await createStudent(t.ctx, { approved: true });
    const student = await createStudent(t.ctx, { approved: true });
    await askForCode(new TestClient(t.app), student.email);
    const reset = await t.ctx.db
      .selectFrom("sms_messages")
      .select(["id", "priority"])
      .where("kind", "=", "password_reset")
      .executeTakeFirstOrThrow();
    const others = await t.ctx.db
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.min("priority").as("p"))
      .where("kind", "!=", "password_reset")
      .executeTakeFirstOrThrow();
    expect(reset.priority).toBeLessThan(Number(others.p));
    const first = await claimCandidates(t.ctx, 1, "due").execute();
    expect(first).toEqual([{ id: reset.id }]);
  });

  it("answers the same for an unknown email, an admin, a pending student and an opted-out one", async () => {
    const admin = await createAdmin(t.ctx);
    const pending = await createStudent(t.ctx);
    const optedOut = await createStudent(t.ctx, { approved: true });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", optedOut.id)
      .execute();
    const real = await createStudent(t.ctx, { approved: true });
    const pages: string[] = [];
    for (const email of [
      real.email,
      "nobody@college.test",
      admin.email,
      pending.email,
      optedOut.email,
    ]) {
      const client = new TestClient(t.app);
      await askForCode(client, email);
      pages.push(comparable((await client.get("/password/reset")).body).replace(email, "EMAIL"));
    }
    expect(new Set(pages).size).toBe(1);
    // Only the approved student who receives SMS got a code.
    const sent = await t.ctx.db
      .selectFrom("sms_messages")
      .select("to_e164")
      .where("kind", "=", "password_reset")
      .execute();
    expect(sent).toEqual([{ to_e164: real.phone }]);
    // A code typed for an email without one is refused like a wrong code.
    const client = new TestClient(t.app);
    const wrong = await resetWith(client, "nobody@college.test", "123456");
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain("This code is wrong, has expired or was used already.");
  });

  it("takes at least the same time to answer for a known and an unknown email", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    for (const email of [student.email, "nobody@college.test"]) {
      const started = performance.now();
      await askForCode(new TestClient(t.app), email);
      // The client's own work (a CSRF page) comes on top: only the floor is asserted.
      expect(performance.now() - started).toBeGreaterThanOrEqual(RESET_ANSWER_MIN_MS);
    }
  });

  it("ends the account's other sessions", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const laptop = await loginAs(t.app, student.email, student.password);
    expect((await laptop.get("/student")).statusCode).toBe(200);
    const phone = new TestClient(t.app);
    await askForCode(phone, student.email);
    expect(
      (await resetWith(phone, student.email, await codeSentTo(student.phone))).statusCode,
    ).toBe(303);
    const after = await laptop.get("/student");
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
  });

  it("refuses an expired code", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    await askForCode(client, student.email);
    const code = await codeSentTo(student.phone);
    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 11 * 60_000) };
    expect((await resetWith(client, student.email, code)).statusCode).toBe(422);
    await loginAs(t.app, student.email, student.password);
  });

  it("stops a code after five wrong tries, and only the newest code works", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    await askForCode(client, student.email);
    const first = await codeSentTo(student.phone);
    await askForCode(client, student.email);
    const second = await codeSentTo(student.phone);
    if (first !== second)
      expect((await resetWith(client, student.email, first)).statusCode).toBe(422);
    const wrong = second === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i++)
      expect((await resetWith(client, student.email, wrong)).statusCode).toBe(422);
    const late = await resetWith(client, student.email, second);
    expect(late.statusCode).toBe(422);
    expect(late.body).toContain("after 5 wrong tries");
    await loginAs(t.app, student.email, student.password);
  });

  it("sends at most 3 codes an hour for an account and 10 for an address", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app, { remoteAddress: "10.0.0.1" });
    for (let i = 0; i < 3; i++) await askForCode(client, student.email);
    const fourth = await client.post("/password/forgot", { email: student.email });
    expect(fourth.statusCode).toBe(429);
    expect(fourth.body).toMatch(/Try again in (59|60) minutes\./);
    // The same for an email that has no account: the limit does not tell them apart.
    const ghost = new TestClient(t.app, { remoteAddress: "10.0.0.2" });
    for (let i = 0; i < 3; i++) await askForCode(ghost, "ghost@college.test");
    expect((await ghost.post("/password/forgot", { email: "ghost@college.test" })).statusCode).toBe(
      429,
    );
    const codes = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("kind", "=", "password_reset")
      .execute();
    expect(codes).toHaveLength(3);

    const spammer = new TestClient(t.app, { remoteAddress: "10.0.0.3" });
    for (let i = 0; i < 10; i++) await askForCode(spammer, `someone${i}@college.test`);
    expect(
      (await spammer.post("/password/forgot", { email: "someone-else@college.test" })).statusCode,
    ).toBe(429);
    // An hour later the account may ask again.
    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 61 * 60_000) };
    await askForCode(client, student.email);
  });

  it("limits wrong codes from one address across accounts", async () => {
    const client = new TestClient(t.app, { remoteAddress: "10.0.0.9" });
    // 17 recorded as the route records them, the last 3 over HTTP (each answer takes 200 ms).
    for (let i = 0; i < 17; i++)
      await recordLimitEvent(t.ctx, "reset_code_failure", {
        account: `y${i}@college.test`,
        address: "10.0.0.9",
      });
    for (let i = 0; i < 3; i++)
      expect((await resetWith(client, `x${i}@college.test`, "123456")).statusCode).toBe(422);
    const limited = await resetWith(client, "x@college.test", "123456");
    expect(limited.statusCode).toBe(429);
    expect(limited.body).toContain("Too many wrong codes from your network.");
  });

  it("asks for a new password by the registration's rules", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    await askForCode(client, student.email);
    const code = await codeSentTo(student.phone);
    const short = await resetWith(client, student.email, code, "short");
    expect(short.statusCode).toBe(422);
    expect(short.body).toContain("Use at least 8 characters.");
    const mismatch = await client.post("/password/reset", {
      email: student.email,
      code,
      password: NEW_PASSWORD,
      password_confirm: "something else",
    });
    expect(mismatch.body).toContain("The two passwords do not match.");
    // The refused forms did not use the code up.
    expect((await resetWith(client, student.email, code)).statusCode).toBe(303);
  });
});
