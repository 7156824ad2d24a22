// @both-databases: the nudge is a fan-out due later whose audience excludes applicants by a NOT EXISTS, cancelled per student inside the application's transaction.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { creates, useEmulatorApp, waitFor } from "#test/support/sms.ts";
import { toLocalInput } from "../web/time.ts";

const harness = useEmulatorApp();

function start() {
  return harness.start({ SMS_PRICE_PER_SEGMENT: "0.25" });
}

function nudges(app: TestApp) {
  return app.ctx.db
    .selectFrom("sms_messages")
    .selectAll()
    .where("kind", "=", "deadline_nudge")
    .orderBy("id")
    .execute();
}

function jobForm(applyBy: Date, extra: Record<string, string> = {}) {
  return {
    company: "Infosys",
    title: "Systems Engineer",
    type: "placement",
    description: "",
    location: "",
    package_range: "",
    official_link: "",
    apply_by: toLocalInput(applyBy.toISOString()),
    min_cgpa: "7",
    max_backlogs: "",
    nudge_hours: "24",
    submission_id: randomUUID(),
    ...extra,
  };
}

describe("the deadline nudge", () => {
  it("is previewed with its reach and cost, and queued for the eligible who have not applied", async () => {
    const app = await start();
    const admin = await createAdmin(app.ctx);
    const staff = await loginAs(app.app, admin.email, admin.password);
    const eligible = await createStudent(app.ctx, { approved: true, cgpa: 8.2 });
    await createStudent(app.ctx, { approved: true, cgpa: 6.1 }); // below the minimum
    await createStudent(app.ctx, { approved: false, cgpa: 9 }); // not approved
    const applyBy = new Date(Math.floor(Date.now() / 60_000 + 3 * 1440) * 60_000);
    const preview = await staff.post("/admin/jobs/new", {
      ...jobForm(applyBy),
      intent: "preview",
    });
    const text = pageText(preview.body);
    expect(text).toContain("to 1 student who has not applied: 1 segment");
    expect(text).toContain("Closing soon: Infosys - Systems Engineer. You are eligible");
    const posted = await staff.post("/admin/jobs/new", { ...jobForm(applyBy), intent: "post" });
    expect(posted.statusCode).toBe(303);
    const [nudge, ...more] = await nudges(app);
    expect(more).toEqual([]);
    expect(nudge).toMatchObject({ student_id: eligible.id, status: "queued", quiet: 1 });
    expect(Date.parse(nudge!.next_attempt_at)).toBe(applyBy.getTime() - 24 * 3_600_000);
    expect(Date.parse(nudge!.not_after!)).toBe(applyBy.getTime());
    const job = await app.ctx.db
      .selectFrom("jobs")
      .select(["id", "nudge_hours"])
      .executeTakeFirstOrThrow();
    expect(job.nudge_hours).toBe(24);
    expect(pageText((await staff.get(`/admin/jobs/${job.id}`)).body)).toContain(
      "Deadline reminder: 24 hours before the deadline; 1 queued",
    );
  });

  it("goes only to those who have still not applied and kept SMS on, when it is due", async () => {
    const app = await start();
    const [applies, optsOut, waits] = [
      await createStudent(app.ctx, { approved: true, full_name: "Asha Rao" }),
      await createStudent(app.ctx, { approved: true, full_name: "Bina Das" }),
      await createStudent(app.ctx, { approved: true, full_name: "Chetan Rao" }),
    ];
    // Due in four seconds: an hour before a deadline an hour and four seconds away.
    const job = await postJob(app.ctx, {
      apply_by: new Date(Date.now() + 3_600_000 + 4_000).toISOString(),
      nudge_hours: 1,
    });
    expect((await nudges(app)).map((n) => n.status)).toEqual(["queued", "queued", "queued"]);
    const applied = await applyToJob(app.ctx, applies.id, job.id);
    expect(applied.ok).toBe(true);
    const asBina = await loginAs(app.app, optsOut.email, optsOut.password);
    // Bina turns SMS off after the nudge was written: the dispatcher's last look skips hers.
    const profile = await asBina.postMultipart("/student/profile", {
      phone: optsOut.phone,
      skills: optsOut.skills,
    });
    expect(profile.statusCode).toBe(303);
    const cancelled = (await nudges(app)).find((n) => n.student_id === applies.id)!;
    expect(cancelled).toMatchObject({
      status: "cancelled",
      error_message: "Cancelled: the student applied",
    });
    const watched = await harness.watch();
    await waitFor(
      async () => (await nudges(app)).every((n) => n.status !== "queued"),
      10_000,
      "the nudge's time",
    );
    await watched.polled();
    const byStudent = new Map((await nudges(app)).map((n) => [n.student_id, n.status]));
    expect(byStudent.get(waits.id)).toBe("sent");
    expect(byStudent.get(optsOut.id)).toBe("skipped");
    expect(byStudent.get(applies.id)).toBe("cancelled");
    expect(
      creates(harness.emulator).filter((c) => c.params.Body?.startsWith("Closing soon")),
    ).toHaveLength(1);
  });

  it("moves with the deadline, and closing the job cancels it; reopening writes it again", async () => {
    const app = await start();
    const admin = await createAdmin(app.ctx);
    const staff = await loginAs(app.app, admin.email, admin.password);
    await createStudent(app.ctx, { approved: true });
    const first = new Date(Math.floor(Date.now() / 60_000 + 3 * 1440) * 60_000);
    const job = await postJob(app.ctx, { apply_by: first.toISOString(), nudge_hours: 12 });
    const later = new Date(first.getTime() + 86_400_000);
    const saved = await staff.post(`/admin/jobs/${job.id}`, {
      ...jobForm(later, { nudge_hours: "12", min_cgpa: "" }),
      company: job.input.company,
      title: job.input.title,
    });
    expect(saved.statusCode).toBe(303);
    let rows = await nudges(app);
    expect(rows.map((r) => r.status)).toEqual(["cancelled", "queued"]);
    expect(rows[0]!.error_message).toBe("Replaced: the job or its deadline changed");
    expect(Date.parse(rows[1]!.next_attempt_at)).toBe(later.getTime() - 12 * 3_600_000);
    expect(Date.parse(rows[1]!.not_after!)).toBe(later.getTime());

    await staff.post(`/admin/jobs/${job.id}/close`);
    rows = await nudges(app);
    expect(rows.map((r) => r.status)).toEqual(["cancelled", "cancelled"]);
    expect(rows[1]!.error_message).toBe("Cancelled: the job was closed");
    await staff.post(`/admin/jobs/${job.id}/reopen`);
    expect((await nudges(app)).map((r) => r.status)).toEqual(["cancelled", "cancelled", "queued"]);
  });
});
