// @both-databases: the office's values are upserted and read on every attempt, per dialect.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";

const t = useTestApp();

const from = (address: string) => new TestClient(t.app, { remoteAddress: address });

async function asAdmin() {
  const admin = await createAdmin(t.ctx, "tpo@college.test");
  return loginAs(t.app, admin.email, admin.password, { remoteAddress: "10.0.0.1" });
}

const settings = () =>
  t.ctx.db.selectFrom("limit_settings").select(["name", "max", "window_seconds"]).execute();

describe("the limits page", () => {
  it("is for admins only", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    for (const url of ["/admin/limits", "/admin/limits/login.per_address"]) {
      expect((await asStudent.get(url)).statusCode, url).toBe(403);
      const anonymous = await new TestClient(t.app).get(url);
      expect(anonymous.statusCode, url).toBe(303);
      expect(anonymous.headers.location).toMatch(/^\/login/);
    }
    const post = await asStudent.post("/admin/limits/login.per_address", {
      max: "1",
      window_minutes: "60",
    });
    expect(post.statusCode).toBe(403);
    expect(await settings()).toEqual([]);
  });

  it("lists every limit in words, with the value in force and its default", async () => {
    const staff = await asAdmin();
    const home = await staff.get("/admin");
    expect(home.body).toContain('<a href="/admin/limits">Limits</a>');
    const page = await staff.get("/admin/limits");
    expect(page.statusCode).toBe(200);
    const text = pageText(page.body);
    for (const [title, value] of [
      ["Failed logins from one address", "50 per 15 minutes"],
      ["Failed logins on one account", "10 per 15 minutes"],
      ["Failed logins on one account from one address", "3 per 15 minutes"],
      ["Reset codes asked for from one address", "10 per hour"],
      ["Reset codes asked for one email", "3 per hour"],
      ["Wrong reset codes from one address", "20 per 15 minutes"],
      ["Wrong reset codes for one email", "10 per 24 hours"],
      ["Wrong reset codes for one email from one address", "3 per 24 hours"],
      ["Registrations from one address", "300 per hour"],
      ["Registrations with one email", "5 per hour"],
      ["Registrations with one roll number", "5 per hour"],
      ["Registrations with one mobile number", "5 per hour"],
      ["SMS about a registration with an existing account's email", "1 per hour"],
      ["Codes sent to new mobile numbers for one account", "3 per hour"],
    ])
      expect(text, title).toMatch(
        new RegExp(`${title} [^|]*? ${value} The default ${value} Change`.replace(/[()]/g, "\\$&")),
      );
  });

  it("records a change in the audit log and applies it at the next attempt: a lowered login limit refuses sooner", async () => {
    const staff = await asAdmin();
    const form = await staff.get("/admin/limits/login.per_address");
    expect(form.body).toContain('name="max" type="number" value="50"');
    expect(form.body).toContain('name="window_minutes" type="number" value="15"');
    const saved = await staff.post("/admin/limits/login.per_address", {
      max: "2",
      window_minutes: "30",
    });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe("/admin/limits");
    const list = pageText((await staff.get("/admin/limits")).body);
    expect(list).toContain("Failed logins from one address: now 2 per 30 minutes.");
    expect(list).toMatch(/2 per 30 minutes Set by tpo@college\.test on .+? 50 per 15 minutes/);

    // The third wrong password from one address is refused, where 50 were allowed before; the
    // page keeps the email typed.
    const guesser = from("203.0.113.5");
    for (let i = 0; i < 2; i++)
      expect(
        (await guesser.post("/login", { email: `x${i}@college.test`, password: "guess" }))
          .statusCode,
      ).toBe(401);
    const refused = await guesser.post("/login", { email: "x9@college.test", password: "guess" });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["retry-after"]).toBe("1800");
    expect(refused.body).toContain('value="x9@college.test"');
    expect(refused.body).toContain("Try again in 30 minutes.");

    const audit = pageText((await staff.get("/admin/audit")).body);
    expect(audit).toContain(
      "Changed the limit “Failed logins from one address” 50 per 15 minutes → 2 per 30 minutes",
    );

    // Back to the default: the row goes, the limit follows the code again.
    const reset = await staff.post("/admin/limits/login.per_address", {
      max: "50",
      window_minutes: "15",
    });
    expect(reset.statusCode).toBe(303);
    expect(await settings()).toEqual([]);
    expect(
      (await guesser.post("/login", { email: "y@college.test", password: "g" })).statusCode,
    ).toBe(401);
    expect(pageText((await staff.get("/admin/audit")).body)).toContain(
      "2 per 30 minutes → 50 per 15 minutes (the default)",
    );
  });

  it("reads the value from the database at every attempt, as another web process sets it", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    await t.ctx.db
      .insertInto("limit_settings")
      .values({
        name: "reset.requests_per_account",
        max: 1,
        window_seconds: 600,
        updated_at: new Date().toISOString(),
        updated_by: "another-process@college.test",
      })
      .execute();
    const visitor = from("10.5.5.5");
    expect((await visitor.post("/password/forgot", { email: student.email })).statusCode).toBe(303);
    const refused = await visitor.post("/password/forgot", { email: student.email });
    expect(refused.statusCode).toBe(429);
    expect(refused.body).toContain("Try again in 10 minutes.");
    expect(refused.body).toContain(`value="${student.email}"`);
  });

  it("refuses values out of range beside their fields, keeps the form and changes nothing", async () => {
    const staff = await asAdmin();
    for (const [values, field, message] of [
      [
        { max: "0", window_minutes: "60" },
        "max",
        "The number allowed must be between 1 and 100000.",
      ],
      [{ max: "ten", window_minutes: "60" }, "max", "The number allowed must be a whole number."],
      [{ max: "5", window_minutes: "1441" }, "window_minutes", "must be between 1 and 1440."],
      [{ max: "5", window_minutes: "" }, "window_minutes", "Enter the window in minutes."],
    ] as const) {
      const response = await staff.post("/admin/limits/registration.per_email", values);
      expect(response.statusCode, JSON.stringify(values)).toBe(422);
      expect(response.body).toMatch(
        new RegExp(`id="f-${field}-error"[^>]*>[^<]*${message.replace(/\./g, "\\.")}`),
      );
      expect(response.body).toContain(`name="max" type="number" value="${values.max}"`);
      expect(response.body).toContain(
        `name="window_minutes" type="number" value="${values.window_minutes}"`,
      );
    }
    expect((await staff.get("/admin/limits/no.such_limit")).statusCode).toBe(404);
    expect(await settings()).toEqual([]);
    const changes = await t.ctx.db
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "limit.edit")
      .execute();
    expect(changes).toEqual([]);
  });
});
