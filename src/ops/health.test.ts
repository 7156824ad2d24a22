import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { recordHeartbeat } from "#src/sms/heartbeat.ts";
import { pauseSending } from "#src/sms/outbox.ts";
import { createAdmin, createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { queueTestMessages } from "#test/support/sms.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const STALLED_WORDS = "SMS are not being sent: messages are waiting, but no SMS dispatcher";

async function healthOf(app: TestApp["app"]) {
  const response = await new TestClient(app).get("/healthz");
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body) as { status: string; sms: string; dispatchers: number };
}

describe("/healthz and the admin banner", () => {
  it("say sending has stalled when a message is due and no dispatcher is live, and clear with one", async () => {
    t = await createTestApp();
    const admin = await createAdmin(t.ctx);
    const office = await loginAs(t.app, admin.email, admin.password);
    // Nothing due: no dispatcher is needed.
    expect(await healthOf(t.app)).toEqual({ status: "ok", sms: "ok", dispatchers: 0 });
    expect((await office.get("/admin")).body).not.toContain(STALLED_WORDS);

    await queueTestMessages(t.ctx, 1);
    // Seen within a second (the per-process cache of the check).
    await expect
      .poll(() => healthOf(t!.app), { timeout: 5_000, interval: 200 })
      .toEqual({
        status: "ok",
        sms: "stalled",
        dispatchers: 0,
      });
    const page = (await office.get("/admin")).body;
    expect(page).toContain(STALLED_WORDS);
    expect(page).toContain("for more than 60 seconds");
    expect(page).toContain("npm run portal -- worker");

    // A dispatcher's heartbeat: the banner clears (after the per-process cache of one second).
    await recordHeartbeat(t.ctx, "worker:1:abcdef");
    await expect
      .poll(() => healthOf(t!.app), { timeout: 5_000, interval: 200 })
      .toEqual({
        status: "ok",
        sms: "ok",
        dispatchers: 1,
      });
    expect((await office.get("/admin")).body).not.toContain(STALLED_WORDS);
  });

  it("say paused, not stalled, while an admin paused sending", async () => {
    t = await createTestApp({ SMS_STALLED_AFTER_SECONDS: "5" });
    const admin = await createAdmin(t.ctx);
    await queueTestMessages(t.ctx, 1);
    await pauseSending(t.ctx, admin.email, "checking the template");
    expect(await healthOf(t.app)).toEqual({ status: "ok", sms: "paused", dispatchers: 0 });
    const office = await loginAs(t.app, admin.email, admin.password);
    const page = (await office.get("/admin")).body;
    expect(page).not.toContain(STALLED_WORDS);
    expect(page).toContain("Sending paused by");
  });
});

describe("/metrics", () => {
  const fromOutside = { remoteAddress: "203.0.113.9" };

  it("answers a loopback connection in the Prometheus text format when no token is set", async () => {
    t = await createTestApp();
    await queueTestMessages(t.ctx, 2);
    await queueTestMessages(t.ctx, 1, { kind: "job_posted", bulk: true });
    await recordHeartbeat(t.ctx, "worker:1:abcdef");
    const response = await new TestClient(t.app, { remoteAddress: "127.0.0.1" }).get("/metrics");
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(response.body);
    const family = (name: string) => {
      const found = families.find((f) => f.name === name);
      expect(found, name).toBeDefined();
      return found!;
    };
    const value = (name: string, labels: Record<string, string> = {}) =>
      Number(
        family(name).metrics.find((m) =>
          Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
        )?.value,
      );
    expect(family("portal_sms_messages").type).toBe("GAUGE");
    expect(value("portal_sms_messages", { kind: "custom", status: "queued" })).toBe(2);
    expect(value("portal_sms_messages", { kind: "job_posted", status: "queued" })).toBe(1);
    expect(value("portal_sms_oldest_due_seconds")).toBeGreaterThanOrEqual(0);
    expect(value("portal_sms_dispatchers_live")).toBe(1);
    expect(value("portal_sms_stalled")).toBe(0);
    expect(value("portal_sms_circuit", { state: "closed" })).toBe(1);
    expect(value("portal_sms_circuit", { state: "open" })).toBe(0);
    expect(value("portal_sms_paused", { reason: "admin" })).toBe(0);
    expect(value("portal_sms_rate_limited_recent")).toBe(0);
    family("portal_sms_attempts_recent");
    // Over IPv6 loopback too.
    expect((await new TestClient(t.app, { remoteAddress: "::1" }).get("/metrics")).statusCode).toBe(
      200,
    );
  });

  it("refuses, with no data, a connection from elsewhere or one through a proxy", async () => {
    t = await createTestApp();
    await queueTestMessages(t.ctx, 1);
    for (const client of [
      new TestClient(t.app, fromOutside),
      // X-Forwarded-For is never believed, whatever it says...
      new TestClient(t.app, { ...fromOutside, headers: { "x-forwarded-for": "127.0.0.1" } }),
      // ...and a proxy on this machine connects from loopback for everyone it forwards.
      new TestClient(t.app, {
        remoteAddress: "127.0.0.1",
        headers: { "x-forwarded-for": "203.0.113.9" },
      }),
      new TestClient(t.app, { remoteAddress: "127.0.0.1", headers: { forwarded: "for=1.2.3.4" } }),
    ]) {
      const response = await client.get("/metrics");
      expect(response.statusCode).toBe(403);
      expect(response.body).not.toContain("portal_sms");
    }
  });

  it("with METRICS_TOKEN, answers only its bearer, wherever the request comes from", async () => {
    const token = "metrics-token-0123456789abcdef";
    t = await createTestApp({ METRICS_TOKEN: token });
    const get = (from: ConstructorParameters<typeof TestClient>[1]) =>
      new TestClient(t!.app, from).get("/metrics");
    for (const refused of [
      { remoteAddress: "127.0.0.1" },
      { ...fromOutside, headers: { authorization: "Bearer wrong-token-0123456789abcdef" } },
      { ...fromOutside, headers: { authorization: `Bearer ${token}x` } },
      { ...fromOutside, headers: { authorization: token } },
    ]) {
      const response = await get(refused);
      expect(response.statusCode, JSON.stringify(refused)).toBe(403);
      expect(response.body).not.toContain("portal_sms");
    }
    const allowed = await get({ ...fromOutside, headers: { authorization: `Bearer ${token}` } });
    expect(allowed.statusCode).toBe(200);
    expect(parsePrometheusTextFormat(allowed.body).length).toBeGreaterThan(5);
  });
});
