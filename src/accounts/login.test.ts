import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { ensureFirstAdmin } from "./service.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe("login", () => {
  it("stores passwords as argon2id hashes", async () => {
    const student = await createStudent(t.ctx);
    const row = await t.ctx.db
      .selectFrom("users")
      .select("password_hash")
      .where("email", "=", student.email)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
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

  it("logs out", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    expect((await client.get("/admin")).statusCode).toBe(200);
    const response = await client.post("/logout");
    expect(response.headers.location).toBe("/login");
    expect((await client.get("/admin")).statusCode).toBe(303);
  });

  it("rate-limits login attempts", async () => {
    const client = new TestClient(t.app);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push(
        (await client.post("/login", { email: "who@college.test", password: `guess-${i}` }))
          .statusCode,
      );
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
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
