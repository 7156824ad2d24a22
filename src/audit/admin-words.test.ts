import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { formatCgpa, plural } from "../web/format.ts";

/** Words, not codes, on the pages an admin reads: SMS kinds and statuses, plurals, CGPA, menu. */

const t = useTestApp();

async function admin(): Promise<TestClient> {
  const a = await createAdmin(t.ctx, "words-admin@college.test");
  return loginAs(t.app, a.email, a.password);
}

describe("words on admin pages", () => {
  it("names SMS kinds and statuses in words", async () => {
    const approved = await createStudent(t.ctx, { approved: true, full_name: "Asha Rao" });
    await postJob(t.ctx, { send_sms: true });
    const staff = await admin();
    await staff.post("/admin/announcements", {
      title: "Pre-placement talk",
      message: "Monday 10 am.",
      send_sms: "on",
      submission_id: randomUUID(),
    });
    const sms = await staff.get("/admin/sms");
    const cells = [...sms.body.matchAll(/<td><span>([^<]+)<\/span>/g)].map((m) => m[1]);
    expect(new Set(cells)).toEqual(new Set(["Approval", "Job alert", "Announcement"]));
    expect(sms.body).toContain('<span class="status status-queued">Queued</span>');
    expect(sms.body).toMatch(/<option value="status_update"[^>]*>Status update<\/option>/);
    expect(sms.body).toMatch(/<option value="undelivered"[^>]*>Not delivered<\/option>/);
    for (const code of ["job_posted", "status_update", "custom"])
      expect(pageText(sms.body), code).not.toMatch(new RegExp(`\\b${code}\\b`));
    expect(pageText(sms.body)).toContain("3 messages");

    const studentPage = pageText((await staff.get(`/admin/students/${approved.id}`)).body);
    expect(studentPage).toContain("Approval");
    expect(studentPage).not.toMatch(/\bapproval\b queued/);
  });

  it("writes every CGPA with two decimals, on every page and in the CSV", async () => {
    const s = await createStudent(t.ctx, { approved: true, cgpa: 8.2, full_name: "Asha Rao" });
    const { id: jobId } = await postJob(t.ctx, { min_cgpa: 7.5 });
    const picky = await postJob(t.ctx, { title: "Picky", min_cgpa: 9 });
    const asStudent = await loginAs(t.app, s.email, s.password);
    await asStudent.post(`/student/jobs/${jobId}/apply`);
    const staff = await admin();

    expect((await staff.get("/admin/students?status=approved")).body).toContain("<td>8.20</td>");
    expect(pageText((await staff.get(`/admin/students/${s.id}`)).body)).toContain("CGPA 8.20");
    expect((await staff.get(`/admin/jobs/${jobId}/applicants`)).body).toContain("<td>8.20</td>");
    expect(pageText((await staff.get(`/admin/jobs/${jobId}`)).body)).toContain(
      "Minimum CGPA: 7.50",
    );
    const csv = await staff.get(`/admin/jobs/${jobId}/applicants.csv`);
    const rows = parse(csv.body.replace(/^\uFEFF/, ""), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows[0]!.CGPA).toBe("8.20");
    expect(pageText((await asStudent.get(`/student/jobs/${picky.id}`)).body)).toContain(
      "CGPA below 9.00",
    );
    expect(pageText((await asStudent.get("/student/profile")).body)).toContain("CGPA 8.20");
    expect([formatCgpa(8), formatCgpa(7.456), formatCgpa(10)]).toEqual(["8.00", "7.46", "10.00"]);
  });

  it("counts in correct plurals", async () => {
    expect([plural(0, "student"), plural(1, "student"), plural(2, "student")]).toEqual([
      "0 students",
      "1 student",
      "2 students",
    ]);
    expect(plural(3, "batch", "batches")).toBe("3 batches");
    await createStudent(t.ctx, { full_name: "Only One" });
    const staff = await admin();
    expect(pageText((await staff.get("/admin/students?status=pending")).body)).toContain(
      " 1 student ",
    );
    const dashboard = pageText((await staff.get("/admin")).body);
    expect(dashboard).toContain("1 pending registration ");
    expect(dashboard).toContain("0 open jobs");
    const { id: jobId } = await postJob(t.ctx);
    expect(pageText((await staff.get(`/admin/jobs/${jobId}/applicants`)).body)).toContain(
      "0 applicants",
    );
    expect(pageText((await staff.get("/admin/jobs")).body)).toContain("1 job ");
    const preview = await staff.post("/admin/jobs/new", {
      company: "Bosch",
      title: "Trainee",
      type: "placement",
      apply_by: "2099-01-01T10:00",
      intent: "preview",
      submission_id: randomUUID(),
    });
    expect(pageText(preview.body)).toContain("0 approved students are eligible");
  });

  it("reads an audit entry it has no words for yet as words, not a code", async () => {
    const staff = await admin();
    await t.ctx.db
      .insertInto("audit_log")
      .values({
        actor_user_id: null,
        actor_email: "other@college.test",
        action: "account.password_reset",
        subject: "officer@college.test",
        details: JSON.stringify({ userId: 4, byEmail: "head@college.test" }),
        at: new Date().toISOString(),
      })
      .execute();
    await postJob(t.ctx, { company: "Infosys", title: "Systems Engineer" });
    await staff.post("/admin/announcements", {
      title: "Drive on Monday",
      message: "Hall A.",
      submission_id: randomUUID(),
    });
    const log = pageText((await staff.get("/admin/audit")).body);
    expect(log).toContain("Posted the job Infosys – Systems Engineer No SMS alerts");
    expect(log).toContain("Posted the announcement “Drive on Monday” No SMS");
    expect(log).not.toMatch(/job\.post|announcement\.post|jobId/);
    expect(log).toContain("Account password reset: officer@college.test");
    expect(log).toContain("by email: head@college.test");
    expect(log).not.toContain("account.password_reset");
    expect(log).not.toContain("userId");
  });
});

describe("the admin menu", () => {
  it("keeps to one line at 1280 px: short labels, a capped name, no wrapping on wide screens", async () => {
    const staff = await loginAs(
      t.app,
      (await createAdmin(t.ctx, "a.very.long.placement.officer.name@college-of-engineering.test"))
        .email,
      "admin-password-1",
    );
    const page = await staff.get("/admin");
    const nav = /<ul class="nav-links[^"]*">([\s\S]*?)<\/ul>/.exec(page.body)![1]!;
    const links = [...nav.matchAll(/<li><a [^>]*>([^<]+)<\/a><\/li>/g)].map((m) => m[1]!);
    expect(links).toEqual([
      "Dashboard",
      "Approvals",
      "Students",
      "Jobs",
      "Announcements",
      "SMS",
      "Audit",
    ]);
    // The line itself is measured in a real browser at 1280 px (test/e2e/confirmations.test.ts);
    // here: the short labels, and the rules that keep the line from wrapping.
    const css = readFileSync(new URL("../web/assets/app.css", import.meta.url), "utf8");
    expect(css).toMatch(/\.who \{[^}]*max-width: 11rem;[^}]*text-overflow: ellipsis;/);
    expect(css).toMatch(
      /@media \(min-width: 75rem\) \{\s*\.nav,\s*\.nav ul \{\s*flex-wrap: nowrap;/,
    );
  });
});
