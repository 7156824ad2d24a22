import { describe, expect, it, vi } from "vitest";
import { recordLimitEvent } from "#src/web/limits.ts";
import { createAdmin, createStudent, createTestApp, useTestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { ensureFirstAdmin } from "./service.ts";

const t = useTestApp();

describe("login", () => {
  it("stores passwords as argon2id hashes", async () => {
    const student = await createStudent(t.ctx);
    const row = await t.ctx.db
      .selectFrom("users")
      .select("password_hash")
      .where("email", "=", student.email)
      .executeTakeFirstOrThrow();
    // The test profile's parameters (password.unit.test.ts holds the production ones).
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(row.password_hash).not.toContain(student.password);
  });

  it("refuses a pending student with a message that says it awaits approval", async () => {
    const student = await createStudent(t.ctx);
    const response = await new TestClient(t.app).post("/login", {
      email: student.email,
      password: student.password,
    });
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain("awaiting approval");
    // No session user: the student pages still send them to log in.
    const client = new TestClient(t.app);
    await client.post("/login", { email: student.email, password: student.password });
    expect((await client.get("/student")).statusCode).toBe(303);
  });

  it("does not reveal a pending account to someone without its password", async () => {
    const student = await createStudent(t.ctx);
    const response = await new TestClient(t.app).post("/login", {
      email: student.email,
      password: "wrong password",
    });
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain("Incorrect email or password");
    expect(response.body).not.toContain("awaiting approval");
  });

  it("logs an approved student in to their dashboard, case-insensitively by email", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    const response = await client.post("/login", {
      email: student.email.toUpperCase(),
      password: student.password,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/student");
    const dashboard = await client.get("/student");
    expect(dashboard.statusCode).toBe(200);
    expect(dashboard.body).toContain(student.roll_number);
  });

  it("sends an admin to the admin dashboard, and back to the page they asked for", async () => {
    const admin = await createAdmin(t.ctx);
    const client = new TestClient(t.app);
    const first = await client.get("/admin/audit");
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe("/login?next=%2Fadmin%2Faudit");
    const login = await client.post("/login", {
      email: admin.email,
      password: admin.password,
      next: "/admin/audit",
    });
    expect(login.headers.location).toBe("/admin/audit");
  });

  it("never redirects to another site after login", async () => {
    const admin = await createAdmin(t.ctx);
    const client = new TestClient(t.app);
    const login = await client.post("/login", {
      email: admin.email,
      password: admin.password,
      next: "//evil.example/x",
    });
    expect(login.headers.location).toBe("/admin");
  });

  it("sets an HttpOnly, SameSite=Lax session cookie, Secure over https", async () => {
    const admin = await createAdmin(t.ctx);
    const client = new TestClient(t.app);
    const response = await client.post("/login", { email: admin.email, password: admin.password });
    const cookie = String(response.headers["set-cookie"]);
    expect(cookie).toContain("portal_session=");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain("Secure");

    const https = await createTestApp({ TRUST_PROXY: "true" });
    try {
      const page = await https.app.inject({
        method: "GET",
        url: "/login",
        headers: { "x-forwarded-proto": "https" },
      });
      expect(String(page.headers["set-cookie"])).toContain("Secure");
    } finally {
      await https.close();
    }
  });

  it("sets the session cookie once at login: pages opened with that cookie set no other", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    const login = await client.post("/login", { email: student.email, password: student.password });
    const cookie = login.cookies.find((c) => c.name === "portal_session");
    expect(cookie?.value).toBeTruthy();
    // Each page renders a form token from the session's CSRF secret: made at login, not here.
    for (const url of ["/student", "/student/jobs", "/student/profile"]) {
      const page = await t.app.inject({
        method: "GET",
        url,
        headers: { cookie: `portal_session=${encodeURIComponent(cookie!.value)}` },
      });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('name="_csrf"');
      expect(page.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("logs out", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    expect((await client.get("/admin")).statusCode).toBe(200);
    const response = await client.post("/logout");
    expect(response.headers.location).toBe("/login");
    const page = await client.get("/login");
    expect(page.body).toContain("You have been logged out.");
    expect((await client.get("/admin")).statusCode).toBe(303);
    // Said once.
    expect((await client.get("/login")).body).not.toContain("You have been logged out.");
  });
});

/** A client whose requests come from `address`. */
const from = (address: string) => new TestClient(t.app, { remoteAddress: address });

async function failLogins(client: TestClient, email: string, times: number) {
  for (let i = 0; i < times; i++) {
    const response = await client.post("/login", { email, password: `wrong-guess-${i}` });
    expect(response.statusCode).toBe(401);
  }
}

describe("home page", () => {
  it("tells anonymous visitors what the portal is, and sends signed-in users to their home", async () => {
    const anonymous = await new TestClient(t.app).get("/");
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.body).toContain("placement office");
    expect(anonymous.body).toContain('href="/register"');
    expect(anonymous.body).toContain('href="/login"');
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const home = await client.get("/");
    expect(home.statusCode).toBe(303);
    expect(home.headers.location).toBe("/admin");
  });
});

describe("login limits", () => {
  it("does not let ten wrong passwords for one admin stop another admin at the same address", async () => {
    const a = await createAdmin(t.ctx, "a@college.test");
    const b = await createAdmin(t.ctx, "b@college.test");
    const campus = from("10.1.1.1");
    await failLogins(campus, a.email, 10);
    const login = await from("10.1.1.1").post("/login", { email: b.email, password: b.password });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe("/admin");
  });

  it("never counts successful logins", async () => {
    const admin = await createAdmin(t.ctx);
    for (let i = 0; i < 20; i++) {
      const login = await from("10.1.1.1").post("/login", {
        email: admin.email,
        password: admin.password,
      });
      expect(login.statusCode, `login ${i + 1}`).toBe(303);
    }
    expect(await t.ctx.db.selectFrom("limit_events").selectAll().execute()).toEqual([]);
  });

  it("refuses the guessing address once the account is limited, but lets the real user in from elsewhere", async () => {
    const admin = await createAdmin(t.ctx);
    const attacker = from("203.0.113.7");
    await failLogins(attacker, admin.email, 10);
    // Even the right password is not checked from the guessing address.
    const warn = vi.spyOn(t.ctx.log, "warn");
    const refused = await attacker.post("/login", { email: admin.email, password: admin.password });
    expect(refused.statusCode).toBe(429);
    // The log says who and from where, never the password.
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ account: admin.email, address: "203.0.113.7", limit: "account" }),
      "login refused: too many failed attempts",
    );
    expect(JSON.stringify(warn.mock.calls)).not.toContain(admin.password);
    expect(refused.body).toContain("Try again in 15 minutes.");
    expect(refused.headers["retry-after"]).toBe("900");
    // The admin, from the office: one typo is forgiven, then the right password gets in.
    const office = from("10.9.9.9");
    await failLogins(office, admin.email, 1);
    const login = await office.post("/login", { email: admin.email, password: admin.password });
    expect(login.statusCode).toBe(303);
    expect((await office.get("/admin")).statusCode).toBe(200);

    // Five minutes later the attacker waits ten more; after the window it may try again.
    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 5 * 60_000) };
    const later = await attacker.post("/login", { email: admin.email, password: "another-guess" });
    expect(later.statusCode).toBe(429);
    expect(later.body).toMatch(/Try again in 1[01] minutes\./);
    t.ctx.clock = { now: () => new Date(start + 16 * 60_000) };
    const again = await attacker.post("/login", { email: admin.email, password: admin.password });
    expect(again.statusCode).toBe(303);
  });

  it("limits one address's failures across accounts, and only that address", async () => {
    const admin = await createAdmin(t.ctx);
    const sprayer = from("198.51.100.9");
    // 45 failures recorded as the login route records them (45 argon2 verifications over HTTP
    // would only slow the test down), then the last 5 over HTTP.
    for (let i = 0; i < 45; i++)
      await recordLimitEvent(t.ctx, "login_failure", {
        account: `sprayed${i}@college.test`,
        address: "198.51.100.9",
      });
    for (let i = 0; i < 5; i++) {
      const response = await sprayer.post("/login", {
        email: `user${i}@college.test`,
        password: "Summer2026!",
      });
      expect(response.statusCode).toBe(401);
    }
    const refused = await sprayer.post("/login", { email: admin.email, password: admin.password });
    expect(refused.statusCode).toBe(429);
    expect(refused.body).toContain("Too many failed logins from your network.");
    expect(refused.body).toMatch(/Try again in \d+ minutes?\./);
    const elsewhere = await from("10.2.2.2").post("/login", {
      email: admin.email,
      password: admin.password,
    });
    expect(elsewhere.statusCode).toBe(303);
  });

  it("counts a wrong current password on the change-password page like a failed login", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password, { remoteAddress: "10.3.3.3" });
    await failLogins(from("10.3.3.3"), admin.email, 9);
    const wrong = await client.post("/admin/password", {
      current_password: "not-it",
      password: "new-password-1",
      password_confirm: "new-password-1",
    });
    expect(wrong.statusCode).toBe(422);
    const limited = await client.post("/admin/password", {
      current_password: admin.password,
      password: "new-password-1",
      password_confirm: "new-password-1",
    });
    expect(limited.statusCode).toBe(429);
    expect(limited.body).toContain("Try again in 15 minutes.");
  });
});

describe("client address behind a proxy (TRUST_PROXY)", () => {
  async function limitedSeparately(env: Record<string, string>) {
    const app = await createTestApp(env);
    try {
      const admin = await createAdmin(app.ctx);
      const via = (forwardedFor: string) =>
        new TestClient(app.app, {
          remoteAddress: "127.0.0.1",
          headers: { "x-forwarded-for": forwardedFor },
        });
      for (let i = 0; i < 10; i++)
        await via("203.0.113.1").post("/login", { email: admin.email, password: `guess-${i}` });
      const first = await via("203.0.113.1").post("/login", {
        email: admin.email,
        password: admin.password,
      });
      const second = await via("198.51.100.2").post("/login", {
        email: admin.email,
        password: admin.password,
      });
      const addresses = await app.ctx.db
        .selectFrom("limit_events")
        .select("address")
        .distinct()
        .execute();
      return { first: first.statusCode, second: second.statusCode, addresses };
    } finally {
      await app.close();
    }
  }

  it("sees each client's X-Forwarded-For address with TRUST_PROXY=true", async () => {
    const result = await limitedSeparately({ TRUST_PROXY: "true" });
    expect(result).toEqual({ first: 429, second: 303, addresses: [{ address: "203.0.113.1" }] });
  });

  it("believes X-Forwarded-For from a listed proxy", async () => {
    expect(await limitedSeparately({ TRUST_PROXY: "127.0.0.1,10.0.0.0/8" })).toMatchObject({
      first: 429,
      second: 303,
    });
  });

  it("ignores X-Forwarded-For from an address that is not a listed proxy", async () => {
    expect(await limitedSeparately({ TRUST_PROXY: "192.0.2.1" })).toMatchObject({
      first: 429,
      second: 429,
    });
  });

  it("ignores X-Forwarded-For with TRUST_PROXY=false: every request is the proxy's", async () => {
    const result = await limitedSeparately({ TRUST_PROXY: "false" });
    expect(result).toEqual({ first: 429, second: 429, addresses: [{ address: "127.0.0.1" }] });
  });
});

describe("first admin", () => {
  it("is created once from ADMIN_EMAIL and ADMIN_PASSWORD", async () => {
    const withEnv = await createTestApp({
      ADMIN_EMAIL: "Head@College.test",
      ADMIN_PASSWORD: "first-admin-pass",
    });
    try {
      expect(await ensureFirstAdmin(withEnv.ctx)).toEqual({
        email: "head@college.test",
        generatedPassword: null,
      });
      expect(await ensureFirstAdmin(withEnv.ctx)).toBeNull();
      await loginAs(withEnv.app, "head@college.test", "first-admin-pass");
    } finally {
      await withEnv.close();
    }
  });

  it("gets a generated one-time password when none is configured", async () => {
    const created = await ensureFirstAdmin(t.ctx);
    expect(created?.email).toBe("admin@placement.local");
    expect(created?.generatedPassword).toMatch(/^[\w-]{16}$/);
    await loginAs(t.app, created!.email, created!.generatedPassword!);
  });
});

describe("a session that ended", () => {
  it("sends the person to log in with a word why, and back to where they were", async () => {
    const me = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, me.email, me.password, {
      headers: { referer: "http://localhost/student/profile" },
    });
    // The password changed elsewhere: every other session ends.
    await t.ctx.db
      .updateTable("users")
      .set((eb) => ({ session_version: eb("session_version", "+", 1) }))
      .where("email", "=", me.email)
      .execute();
    const page = await client.get("/student/jobs?q=data");
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe(`/login?next=${encodeURIComponent("/student/jobs?q=data")}`);
    const login = await client.get(page.headers.location as string);
    expect(login.body).toContain(
      "Your session has ended. Log in again to continue where you were.",
    );
    const back = await client.post("/login", {
      email: me.email,
      password: me.password,
      next: "/student/jobs?q=data",
    });
    expect(back.headers.location).toBe("/student/jobs?q=data");

    // A form sent after the session ended: back to the page it came from.
    await t.ctx.db
      .updateTable("users")
      .set((eb) => ({ session_version: eb("session_version", "+", 1) }))
      .where("email", "=", me.email)
      .execute();
    const form = await client.post("/student/password", { current_password: "x" });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe(`/login?next=${encodeURIComponent("/student/profile")}`);
  });

  it("says nothing of an ended session to a visitor who never logged in", async () => {
    const visitor = new TestClient(t.app);
    const page = await visitor.get("/student");
    expect(page.headers.location).toBe("/login?next=%2Fstudent");
    expect((await visitor.get("/login?next=%2Fstudent")).body).not.toContain("session has ended");
  });
});
