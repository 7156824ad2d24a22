import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";

const t = useTestApp();

/** Every route answered without a login (see the test that names them). */
const PUBLIC_ROUTES = [
  "GET /",
  "GET /assets/*",
  "GET /calendar/:student/:token/rounds.ics", // its address is the secret (rounds/calendar.ts)
  "GET /favicon.ico",
  "GET /healthz", // for load balancers: status and SMS state only
  "GET /login",
  "GET /metrics", // refused unless loopback or METRICS_TOKEN: checked below
  "GET /password/forgot",
  "GET /password/reset",
  "GET /register",
  "GET /register/done",
  "POST /login",
  "POST /logout",
  "POST /password/forgot",
  "POST /password/reset",
  "POST /register",
  "POST /webhooks/twilio/inbound", // signed by Twilio
  "POST /webhooks/twilio/status", // signed by Twilio
];

/** A concrete URL for a route pattern: every :param becomes an id that exists. */
const concrete = (url: string, id: number) => url.replace(/:\w+/g, String(id));

describe("security", () => {
  it("refuses every state-changing request without a CSRF token (403)", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    // Twilio's webhooks are the only exemptions: they are checked by signature instead
    // (src/sms/webhooks.test.ts refuses forged ones).
    expect(t.app.routeTable.filter((r) => !r.csrf).map((r) => r.url)).toEqual([
      "/webhooks/twilio/status",
      "/webhooks/twilio/inbound",
    ]);
    const posts = t.app.routeTable.filter((r) => r.method !== "GET" && r.csrf);
    expect(posts.length).toBeGreaterThanOrEqual(6);
    // The account forms are among them (anonymous ones included).
    expect(posts.map((r) => r.url)).toEqual(
      expect.arrayContaining([
        "/password/forgot",
        "/password/reset",
        "/student/password",
        "/admin/password",
        "/admin/admins",
        "/admin/admins/:id/password",
      ]),
    );
    for (const who of [null, { email: student.email, password: student.password }, admin]) {
      const client = who ? await loginAs(t.app, who.email, who.password) : new TestClient(t.app);
      for (const route of posts) {
        const response = await client.post(concrete(route.url, student.id), {}, { csrf: false });
        // Anonymous visitors of a signed-in area are sent to log in before anything else.
        const expected = !who && /^\/(admin|student)\//.test(route.url) ? 303 : 403;
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(expected);
      }
      // A token from another session does not count either.
      const other = new TestClient(t.app);
      const foreign = await other.refreshCsrf();
      const forged = await client.post("/logout", { _csrf: foreign }, { csrf: false });
      expect(forged.statusCode).toBe(403);
    }
    // Nothing changed.
    expect(await t.ctx.db.selectFrom("sms_messages").select("id").execute()).toHaveLength(1);
  });

  it("names every route open without a login, and keeps /metrics from the public", async () => {
    // Outside /admin and /student: pages for visitors, Twilio's signed webhooks, and the two
    // operators' endpoints. A new public route must be added here on purpose.
    const open = t.app.routeTable
      .filter((r) => !/^\/(admin|student)(\/|$)/.test(r.url))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(open).toEqual(PUBLIC_ROUTES);
    const visitor = new TestClient(t.app, { remoteAddress: "198.51.100.7" });
    // /healthz is for load balancers: whether the process answers and SMS go out, nothing more.
    const health = await visitor.get("/healthz");
    expect(health.statusCode).toBe(200);
    expect(Object.keys(JSON.parse(health.body)).sort()).toEqual(["dispatchers", "sms", "status"]);
    // /metrics is for operators only (src/ops/health.test.ts: loopback or METRICS_TOKEN).
    const metrics = await visitor.get("/metrics");
    expect(metrics.statusCode).toBe(403);
    expect(metrics.body).not.toContain("portal_");
  });

  it("sends anonymous visitors of every admin and student page to log in", async () => {
    const student = await createStudent(t.ctx);
    const client = new TestClient(t.app);
    const guarded = t.app.routeTable.filter((r) => /^\/(admin|student)(\/|$)/.test(r.url));
    expect(guarded.length).toBeGreaterThanOrEqual(10);
    for (const route of guarded) {
      const url = concrete(route.url, student.id);
      const response = route.method === "GET" ? await client.get(url) : await client.post(url);
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(303);
      expect(response.headers.location).toMatch(/^\/login/);
    }
  });

  it("refuses every admin route to a student (403), and every student route to an admin", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    const asStudent = await loginAs(t.app, student.email, student.password);
    const asAdmin = await loginAs(t.app, admin.email, admin.password);
    for (const route of t.app.routeTable) {
      const url = concrete(route.url, student.id);
      const client = route.url.startsWith("/admin")
        ? asStudent
        : route.url.startsWith("/student")
          ? asAdmin
          : null;
      if (!client) continue;
      const response = route.method === "GET" ? await client.get(url) : await client.post(url);
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(403);
    }
    const row = await t.ctx.db
      .selectFrom("students")
      .select("approved_by")
      .executeTakeFirstOrThrow();
    expect(row.approved_by).not.toBe(null);
  });

  it("shows a student only their own resume", async () => {
    const asha = await createStudent(t.ctx, { approved: true });
    const ravi = await createStudent(t.ctx, { approved: true });
    for (const [who, text] of [
      [asha, "asha-resume"],
      [ravi, "ravi-resume"],
    ] as const) {
      const client = await loginAs(t.app, who.email, who.password);
      await client.postMultipart("/student/profile", {
        phone: who.phone,
        skills: "",
        resume: { filename: "cv.pdf", data: pdfBytes(text) },
      });
    }
    const asAsha = await loginAs(t.app, asha.email, asha.password);
    const own = await asAsha.get("/student/resume");
    expect(own.statusCode).toBe(200);
    expect(own.headers["content-type"]).toBe("application/pdf");
    expect(own.headers["cache-control"]).toBe("private, no-store");
    expect(own.body).toContain("asha-resume");
    expect((await asAsha.get(`/admin/students/${ravi.id}/resume`)).statusCode).toBe(403);

    const admin = await createAdmin(t.ctx);
    const asAdmin = await loginAs(t.app, admin.email, admin.password);
    const forAdmin = await asAdmin.get(`/admin/students/${ravi.id}/resume`);
    expect(forAdmin.statusCode).toBe(200);
    expect(forAdmin.body).toContain("ravi-resume");
    // Uploads are not reachable as static files.
    expect((await new TestClient(t.app).get("/assets/../uploads")).statusCode).toBe(404);
  });

  it("sends security headers on every kind of answer", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    const anonymous = new TestClient(t.app);
    const answers = [
      await anonymous.get("/login"),
      await asStudent.get("/student"),
      await anonymous.get("/student"), // a redirect to log in
      await asStudent.get("/admin"), // 403
      await anonymous.get("/no-such-page"), // 404
      await anonymous.get("/assets/favicon.svg"),
      await anonymous.post("/login", { email: "x" }, { csrf: false }), // refused: no CSRF token
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 303, 403, 404, 200, 403]);
    for (const response of answers) {
      const csp = String(response.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain("upgrade-insecure-requests");
      expect(response.headers["x-frame-options"]).toBe("SAMEORIGIN");
      expect(response.headers["x-content-type-options"]).toBe("nosniff");
      expect(response.headers["referrer-policy"]).toBe("no-referrer");
      expect(response.headers["strict-transport-security"]).toContain("max-age=");
    }
  });

  it("ends the session of a student whose registration is gone", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await t.ctx.db.deleteFrom("users").where("email", "=", student.email).execute();
    const response = await client.get("/student");
    expect(response.statusCode).toBe(303);
  });

  it("answers 404 with a page for an unknown address and 400 for a malformed id", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const missing = await client.get("/admin/students/999999");
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain("no such student");
    expect((await client.get("/admin/students/abc")).statusCode).toBe(400);
    expect((await client.get("/nowhere")).statusCode).toBe(404);
  });
});
