// @both-databases: duplicate admins are caught as each driver's unique violation.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";

const t = useTestApp();

describe("changing one's own password", () => {
  it("lets a student and an admin change theirs with the current one, ending their other sessions", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    for (const [who, role] of [
      [student, "student"],
      [admin, "admin"],
    ] as const) {
      const client = await loginAs(t.app, who.email, who.password);
      const other = await loginAs(t.app, who.email, who.password);
      const home = await client.get(`/${role}`);
      expect(home.body).toContain(`href="/${role}/password"`);
      const form = await client.get(`/${role}/password`);
      expect(form.statusCode).toBe(200);
      expect(form.body).toContain('autocomplete="current-password"');

      const wrong = await client.post(`/${role}/password`, {
        current_password: "not my password",
        password: "my new password",
        password_confirm: "my new password",
      });
      expect(wrong.statusCode).toBe(422);
      expect(wrong.body).toContain("That is not your current password.");

      const changed = await client.post(`/${role}/password`, {
        current_password: who.password,
        password: "my new password",
        password_confirm: "my new password",
      });
      expect(changed.statusCode).toBe(303);
      expect(changed.headers.location).toBe(`/${role}`);
      // This session goes on; the other one has ended.
      const page = await client.get(`/${role}`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain("Your password has been changed.");
      expect((await other.get(`/${role}`)).statusCode).toBe(303);
      await loginAs(t.app, who.email, "my new password");
      const row = await t.ctx.db
        .selectFrom("users")
        .select("password_hash")
        .where("email", "=", who.email)
        .executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
    }
  });
});

describe("admins page", () => {
  it("lists the admins, adds one and sets a new password for another, audited", async () => {
    const me = await createAdmin(t.ctx, "me@college.test");
    const forgetful = await createAdmin(t.ctx, "forgetful@college.test", "old-password-1");
    const forgetfulSession = await loginAs(t.app, forgetful.email, forgetful.password);
    const client = await loginAs(t.app, me.email, me.password);
    const dashboard = await client.get("/admin");
    expect(dashboard.body).toContain('href="/admin/admins"');
    const list = await client.get("/admin/admins");
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain("forgetful@college.test");
    expect(list.body).toContain(`href="/admin/admins/${forgetful.id}/password"`);
    // Not for oneself: that needs the current password.
    expect(list.body).not.toContain(`href="/admin/admins/${me.id}/password"`);

    const added = await client.post("/admin/admins", {
      email: "New.Admin@college.test",
      password: "welcome-aboard",
      password_confirm: "welcome-aboard",
    });
    expect(added.statusCode).toBe(303);
    await loginAs(t.app, "new.admin@college.test", "welcome-aboard");
    const again = await client.post("/admin/admins", {
      email: "new.admin@college.test",
      password: "welcome-aboard",
      password_confirm: "welcome-aboard",
    });
    expect(again.statusCode).toBe(422);
    expect(again.body).toContain("An account with this email exists already.");

    const form = await client.get(`/admin/admins/${forgetful.id}/password`);
    expect(form.statusCode).toBe(200);
    const set = await client.post(`/admin/admins/${forgetful.id}/password`, {
      password: "a fresh start",
      password_confirm: "a fresh start",
    });
    expect(set.statusCode).toBe(303);
    expect((await client.get("/admin/admins")).body).toContain(
      "A new password is set for forgetful@college.test.",
    );
    await loginAs(t.app, forgetful.email, "a fresh start");
    expect((await forgetfulSession.get("/admin")).statusCode).toBe(303);

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["actor_email", "action", "subject"])
      .where("action", "like", "admin.%")
      .orderBy("id")
      .execute();
    expect(audit).toEqual([
      { actor_email: me.email, action: "admin.added", subject: "new.admin@college.test" },
      { actor_email: me.email, action: "admin.password_set", subject: forgetful.email },
    ]);
  });

  it("cannot set its own password without the current one, nor a student's", async () => {
    const me = await createAdmin(t.ctx, "me@college.test");
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, me.email, me.password);
    const own = await client.post(`/admin/admins/${me.id}/password`, {
      password: "locked out?",
      password_confirm: "locked out?",
    });
    expect(own.statusCode).toBe(403);
    await loginAs(t.app, me.email, me.password);
    const studentUserId = await t.ctx.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", student.email)
      .executeTakeFirstOrThrow();
    const notAdmin = await client.post(`/admin/admins/${studentUserId.id}/password`, {
      password: "taken over",
      password_confirm: "taken over",
    });
    expect(notAdmin.statusCode).toBe(404);
    await loginAs(t.app, student.email, student.password);
  });

  it("is for admins only", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    expect((await asStudent.get("/admin/admins")).statusCode).toBe(403);
    expect((await new TestClient(t.app).get("/admin/admins")).statusCode).toBe(303);
  });
});
