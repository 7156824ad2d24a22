// @both-databases: limits and reset codes hold under concurrency, settled by statements.
import { describe, expect, it, vi } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { TestClient } from "#test/support/client.ts";
import { authenticate } from "./service.ts";

/**
 * Attacks sent together rather than one after another: each request is in flight at once, so
 * a limit that checks and only later records would let every one of them through.
 */

const t = useTestApp();

/** Posts every form at once from one session (one CSRF token), as a script would. */
async function burst(
  client: TestClient,
  url: string,
  forms: Record<string, string>[],
  remoteAddress: (i: number) => string,
) {
  const token = await client.refreshCsrf();
  return Promise.all(
    forms.map((fields, i) =>
      t.app.inject({
        method: "POST",
        url,
        headers: {
          cookie: client.cookieHeader,
          "content-type": "application/x-www-form-urlencoded",
        },
        payload: new URLSearchParams({ _csrf: token, ...fields }).toString(),
        remoteAddress: remoteAddress(i),
      }),
    ),
  );
}

function statusCounts(responses: { statusCode: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { statusCode } of responses) counts[statusCode] = (counts[statusCode] ?? 0) + 1;
  return counts;
}

describe("a burst of wrong passwords", () => {
  it("checks no more passwords than the account's limit, however many arrive together", async () => {
    const admin = await createAdmin(t.ctx);
    const checked = vi.spyOn(t.ctx.log, "info");
    const client = new TestClient(t.app, { remoteAddress: "203.0.113.7" });
    const responses = await burst(
      client,
      "/login",
      Array.from({ length: 200 }, (_, i) => ({ email: admin.email, password: `guess ${i}` })),
      () => "203.0.113.7",
    );
    const counts = statusCounts(responses);
    const wrong = checked.mock.calls.filter(
      ([, message]) => message === "login failed: wrong password",
    );
    // Every answer is a refusal or a wrong password: no 5xx, no login.
    expect(Object.keys(counts).sort()).toEqual(
      Object.keys(counts)
        .filter((s) => s === "401" || s === "429")
        .sort(),
    );
    expect(counts[401]).toBe(wrong.length);
    // Counted one after another under a lock: exactly the limit's number of checks.
    expect(wrong).toHaveLength(10);
    // Only the checked attempts stay counted.
    const kept = await t.ctx.db.selectFrom("limit_events").select("id").execute();
    expect(kept).toHaveLength(wrong.length);
  });

  it("takes a successful login's attempt back", async () => {
    const admin = await createAdmin(t.ctx);
    const client = new TestClient(t.app, { remoteAddress: "10.1.1.1" });
    const responses = await burst(
      client,
      "/login",
      Array.from({ length: 30 }, () => ({ email: admin.email, password: admin.password })),
      () => "10.1.1.1",
    );
    // A success is counted only while it is being checked, so some of a burst of right
    // passwords may be told to wait; none is a 5xx, and none stays counted.
    for (const response of responses) expect([303, 429]).toContain(response.statusCode);
    expect(statusCounts(responses)[303]).toBeGreaterThan(0);
    expect(await t.ctx.db.selectFrom("limit_events").selectAll().execute()).toEqual([]);
  });
});

describe("a burst of reset-code guesses", () => {
  async function studentWithCode() {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app, { remoteAddress: "10.0.0.1" });
    const asked = await client.post("/password/forgot", { email: student.email });
    expect(asked.statusCode).toBe(303);
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .select("body")
      .where("kind", "=", "password_reset")
      .executeTakeFirstOrThrow();
    return { student, code: /\b(\d{6})\b/.exec(sms.body)![1]! };
  }

  const wrongCode = (code: string, i: number) =>
    String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");

  it("compares at most 5 of 50 guesses sent together, and refuses the right code sent last", async () => {
    const { student, code } = await studentWithCode();
    const guesses = [...Array.from({ length: 49 }, (_, i) => wrongCode(code, i)), code];
    const responses = await burst(
      new TestClient(t.app),
      "/password/reset",
      guesses.map((guess) => ({
        email: student.email,
        code: guess,
        password: "taken over at last",
        password_confirm: "taken over at last",
      })),
      // From 50 addresses: the address limit is not what stops them.
      (i) => `198.51.100.${i + 1}`,
    );
    for (const response of responses) expect(response.statusCode).toBeLessThan(500);
    expect(responses.filter((r) => r.statusCode === 303)).toHaveLength(0);
    const row = await t.ctx.db
      .selectFrom("password_reset_codes")
      .select(["attempts", "used_at"])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ attempts: 5, used_at: null });
    expect((await authenticate(t.ctx, student.email, "taken over at last")).ok).toBe(false);
    expect((await authenticate(t.ctx, student.email, student.password)).ok).toBe(true);
  });

  it("takes 10 wrong codes a day for an account over all its codes, then refuses only the addresses that tried it", async () => {
    const { student } = await studentWithCode();
    const guessers = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
    for (const [round, guesser] of guessers.entries()) {
      // A new code each time (the request limit allows three an hour).
      if (round > 0)
        await new TestClient(t.app, { remoteAddress: `10.0.1.${round}` }).post("/password/forgot", {
          email: student.email,
        });
      const responses = await burst(
        new TestClient(t.app),
        "/password/reset",
        Array.from({ length: 4 }, () => ({
          email: student.email,
          code: "000000",
          password: "taken over at last",
          password_confirm: "taken over at last",
        })),
        () => guesser,
      );
      for (const response of responses) expect(response.statusCode).toBeLessThan(500);
      // The twelfth: the account has had its ten, and this address three of them.
      if (round === 2) expect(responses.filter((r) => r.statusCode === 429)).toHaveLength(1);
    }
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .select("body")
      .where("kind", "=", "password_reset")
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    const right = /\b(\d{6})\b/.exec(sms.body)![1]!;
    const reset = (address: string, password: string) =>
      new TestClient(t.app, { remoteAddress: address }).post("/password/reset", {
        email: student.email,
        code: right,
        password,
        password_confirm: password,
      });
    // A guessing address is refused even the right code...
    expect((await reset(guessers[0]!, "taken over at last")).statusCode).toBe(429);
    expect((await authenticate(t.ctx, student.email, student.password)).ok).toBe(true);
    // ...while the student, elsewhere, still resets.
    expect((await reset("198.18.0.7", "the student's own new one")).statusCode).toBe(303);
    expect((await authenticate(t.ctx, student.email, "the student's own new one")).ok).toBe(true);
  });
});

describe("a burst of reset requests", () => {
  it("queues no more codes than the account's limit", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const responses = await burst(
      new TestClient(t.app),
      "/password/forgot",
      Array.from({ length: 30 }, () => ({ email: student.email })),
      (i) => `172.16.0.${i + 1}`,
    );
    for (const response of responses) expect([303, 429]).toContain(response.statusCode);
    const codes = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("kind", "=", "password_reset")
      .execute();
    expect(codes).toHaveLength(3);
  });
});
