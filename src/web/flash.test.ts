import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";

const t = useTestApp();

/** What a browser keeps of one cookie (RFC 6265 asks for at least 4,096 bytes, and no more is sure). */
const COOKIE_LIMIT = 4096;

function sessionCookieBytes(setCookie: string | string[] | undefined): number {
  const all = [setCookie ?? []].flat();
  const session = all.find((c) => c.startsWith("portal_session="));
  return Buffer.byteLength(session ?? "");
}

describe("flash messages after bulk actions", () => {
  it("stay small when 1,000 unknown applications are moved at once, and the next page works", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const { id: jobId } = await postJob(t.ctx);
    // A few real refusals with long names as well, among the unknown ids.
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const s = await createStudent(t.ctx, {
        approved: true,
        full_name: `Ananya Krishnamurthy Venkataraman ${i}`,
      });
      const applied = await applyToJob(t.ctx, s.id, jobId);
      if (!applied.ok) throw new Error(applied.message);
      ids.push(String(applied.applicationId));
    }
    for (let i = 0; ids.length < 1000; i += 1) ids.push(String(500_000 + i));
    const response = await client.post("/admin/applications/status", {
      ids,
      to: "interview", // applied -> interview skips the shortlist: refused for the real ones too
      back: `/admin/jobs/${jobId}/applicants`,
    });
    expect(response.statusCode).toBe(303);
    expect(sessionCookieBytes(response.headers["set-cookie"])).toBeLessThan(COOKIE_LIMIT);
    const next = await client.get(`/admin/jobs/${jobId}/applicants`);
    expect(next.statusCode).toBe(200);
    expect(next.body).toContain("1,000 not changed");
    // The most frequent reason first, then a few examples, then how many more.
    expect(next.body).toContain("1,000 not changed: no such application (×997); Ananya");
    expect(next.body).toContain("cannot go from Applied to Interview; and 1 more.");
    expect(next.body).toContain("The list shows each applicant");
    // The flash was shown once and is gone; the session still works.
    expect((await client.get("/admin")).statusCode).toBe(200);
  });

  it("stay small when 1,000 unknown students are approved at once", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const ids = Array.from({ length: 1000 }, (_, i) => String(700_000 + i));
    const response = await client.post("/admin/students/approve", { ids });
    expect(response.statusCode).toBe(303);
    expect(sessionCookieBytes(response.headers["set-cookie"])).toBeLessThan(COOKIE_LIMIT);
    const next = await client.get("/admin/students?status=pending");
    expect(next.statusCode).toBe(200);
    expect(next.body).toContain("1,000 were already approved or gone");
  });

  it("never grow past a few messages however many actions pile them up", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const csrf = await client.refreshCsrf();
    // Refused bulk posts one after the other, with no page in between to show their flashes.
    let cookie = client.cookieHeader;
    for (let i = 0; i < 20; i += 1) {
      const response = await t.app.inject({
        method: "POST",
        url: "/admin/students/approve",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        payload: `_csrf=${encodeURIComponent(csrf)}`,
      });
      expect(response.statusCode).toBe(303);
      const session = response.cookies.find((c) => c.name === "portal_session");
      if (session) cookie = `portal_session=${encodeURIComponent(session.value)}`;
      expect(sessionCookieBytes(response.headers["set-cookie"])).toBeLessThan(COOKIE_LIMIT);
    }
    const next = await t.app.inject({ method: "GET", url: "/admin/students", headers: { cookie } });
    expect(next.statusCode).toBe(200);
    expect(next.body.match(/Select at least one student to approve/g)).toHaveLength(3);
  });
});
