// @both-databases: a correction raced by two admins is settled by a guarded UPDATE; the applicants' search is a LIKE with escapes.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";
import type { ApplicationStatus } from "../db/schema.ts";

/**
 * Decisions (Selected, Rejected) ask first, one row or many; a final list goes to Selected in one
 * move; a decision can be corrected back to the stage before it, with a reason and one SMS.
 */

const t = useTestApp();

async function admin(email = "placement-admin@college.test"): Promise<TestClient> {
  const a = await createAdmin(t.ctx, email);
  return loginAs(t.app, a.email, a.password);
}

/** An application moved through `path` (Applied first) by an admin, with its events. */
async function applicationThrough(
  studentId: number,
  jobId: number,
  path: ApplicationStatus[],
): Promise<number> {
  const now = new Date().toISOString();
  const { id } = await t.ctx.db
    .insertInto("applications")
    .values({
      job_id: jobId,
      student_id: studentId,
      status: path.at(-1) ?? "applied",
      created_at: now,
      updated_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  let from: ApplicationStatus | null = null;
  for (const to of ["applied", ...path] as ApplicationStatus[]) {
    if (to === from) continue;
    await t.ctx.db
      .insertInto("application_events")
      .values({
        application_id: id,
        from_status: from,
        to_status: to,
        by_user_id: null,
        by_role: from === null ? "student" : "admin",
        at: now,
      })
      .execute();
    from = to;
  }
  return id;
}

function statusOf(id: number) {
  return t.ctx.db
    .selectFrom("applications")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirstOrThrow()
    .then((r) => r.status);
}

function sms(kind?: string) {
  let q = t.ctx.db.selectFrom("sms_messages").selectAll();
  if (kind) q = q.where("kind", "=", kind as never);
  return q.orderBy("id").execute();
}

describe("a final list straight to Selected", () => {
  it("moves Applied, Shortlisted and Interview to Selected in one move, one SMS each, after asking", async () => {
    const { id: jobId } = await postJob(t.ctx, { company: "Wipro", title: "Project Engineer" });
    const ids: number[] = [];
    for (const [i, stage] of (["applied", "shortlisted", "interview"] as const).entries()) {
      const s = await createStudent(t.ctx, { approved: true, full_name: `Final ${i}` });
      ids.push(await applicationThrough(s.id, jobId, stage === "applied" ? [] : [stage]));
    }
    const staff = await admin();
    const back = `/admin/jobs/${jobId}/applicants`;
    const asked = await staff.post("/admin/applications/status", {
      ids: ids.map(String),
      to: "selected",
      back,
    });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Move 3 applicants to Selected?");
    expect(text).toContain("Final 0 (");
    expect(text).toContain("Applied → Selected");
    expect(text).toContain("Shortlisted → Selected");
    expect(await sms("status_update")).toHaveLength(0);

    const done = await confirm(staff, asked);
    expect(done.statusCode).toBe(303);
    for (const id of ids) expect(await statusOf(id)).toBe("selected");
    const texts = await sms("status_update");
    expect(texts).toHaveLength(3);
    expect(texts.every((m) => m.body.includes("'Selected'"))).toBe(true);
    const events = await t.ctx.db
      .selectFrom("application_events")
      .select(["from_status", "to_status"])
      .where("application_id", "=", ids[0]!)
      .orderBy("id")
      .execute();
    expect(events).toEqual([
      { from_status: null, to_status: "applied" },
      { from_status: "applied", to_status: "selected" },
    ]);
    const flashed = pageText((await staff.get(back)).body);
    expect(flashed).toContain("3 moved to Selected; each student gets an SMS.");
  });

  it("offers Selected… on every row before a decision", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const s = await createStudent(t.ctx, { approved: true, full_name: "Row Student" });
    await applicationThrough(s.id, jobId, []);
    const staff = await admin();
    const page = await staff.get(`/admin/jobs/${jobId}/applicants`);
    expect(page.body).toContain('aria-label="Selected: Row Student">Selected…</button>');
  });
});

describe("every decision asks first", () => {
  it("asks before selecting one applicant from its row, and says the SMS after", async () => {
    const s = await createStudent(t.ctx, {
      approved: true,
      full_name: "Kavya Menon",
      phone: "+919812345678",
    });
    const { id: jobId } = await postJob(t.ctx, { company: "Wipro", title: "Project Engineer" });
    const id = await applicationThrough(s.id, jobId, ["shortlisted", "interview"]);
    const staff = await admin();
    const back = `/admin/jobs/${jobId}/applicants`;
    const asked = await staff.post(`/admin/applications/${id}/status?to=selected`, { back });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Select Kavya Menon?");
    expect(text).toContain(
      "Kavya Menon will get an SMS at +919812345678: “Dear Kavya, your status for Wipro - Project Engineer has been updated to 'Selected'.",
    );
    expect(await statusOf(id)).toBe("interview");
    expect(await sms("status_update")).toHaveLength(0);

    const done = await confirm(staff, asked);
    expect(done.headers.location).toBe(back);
    expect(await statusOf(id)).toBe("selected");
    expect(await sms("status_update")).toHaveLength(1);
    expect(pageText((await staff.get(back)).body)).toContain(
      "1 moved to Selected; the student gets an SMS.",
    );
  });

  it("says after a decision who got no SMS and why", async () => {
    const s = await createStudent(t.ctx, { approved: true, full_name: "Quiet One" });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", s.id)
      .execute();
    const { id: jobId } = await postJob(t.ctx);
    const id = await applicationThrough(s.id, jobId, ["interview"]);
    const staff = await admin();
    const asked = await staff.post(`/admin/applications/${id}/status?to=selected`, {
      back: "/admin/jobs",
    });
    expect(pageText(asked.body)).toContain("Nobody gets an SMS: they opted out of SMS.");
    await confirm(staff, asked);
    expect(pageText((await staff.get("/admin/jobs")).body)).toContain(
      "1 moved to Selected; nobody gets an SMS (opted out of SMS).",
    );
  });
});
