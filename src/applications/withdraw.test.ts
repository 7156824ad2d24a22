import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { transitionProblem } from "../placement/stages.ts";
import { formatDateTime } from "../web/time.ts";

const t = useTestApp();

async function student() {
  const s = await createStudent(t.ctx, { approved: true });
  return { ...s, client: await loginAs(t.app, s.email, s.password) };
}

function applicationOf(studentId: number, jobId: number) {
  return t.ctx.db
    .selectFrom("applications")
    .selectAll()
    .where("student_id", "=", studentId)
    .where("job_id", "=", jobId)
    .executeTakeFirstOrThrow();
}

function eventsOf(applicationId: number) {
  return t.ctx.db
    .selectFrom("application_events")
    .select(["from_status", "to_status", "by_role"])
    .where("application_id", "=", applicationId)
    .orderBy("id")
    .execute();
}

async function setDeadline(jobId: number, msFromNow: number) {
  await t.ctx.db
    .updateTable("jobs")
    .set({ apply_by: new Date(Date.now() + msFromNow).toISOString() })
    .where("id", "=", jobId)
    .execute();
}

describe("withdrawing an application", () => {
  it("asks first, on a page that says what happens; only the confirmed POST withdraws", async () => {
    const me = await student();
    const job = await postJob(t.ctx, { company: "Infosys", title: "Systems Engineer" });
    await me.client.post(`/student/jobs/${job.id}/apply`);
    const app = await applicationOf(me.id, job.id);

    const list = await me.client.get("/student/applications");
    expect(list.body).toContain(`href="/student/applications/${app.id}/withdraw"`);
    // A bare POST (the old one-click button, a replayed request) changes nothing: it shows the page.
    const bare = await me.client.post(`/student/applications/${app.id}/withdraw`);
    expect(bare.statusCode).toBe(303);
    expect(bare.headers.location).toBe(`/student/applications/${app.id}/withdraw`);
    expect((await applicationOf(me.id, job.id)).status).toBe("applied");

    const confirm = await me.client.get(`/student/applications/${app.id}/withdraw`);
    expect(confirm.statusCode).toBe(200);
    const deadline = `${formatDateTime(job.input.apply_by)} IST`;
    expect(confirm.body).toContain(
      `Your application to Infosys – Systems Engineer will be withdrawn. You can apply again until ${deadline}.`,
    );
    expect(confirm.body).toMatch(
      /<button type="submit" class="danger">Confirm: withdraw<\/button>/,
    );
    expect(confirm.body).toMatch(/<a href="\/student\/applications" class="button">Cancel<\/a>/);
    expect((await applicationOf(me.id, job.id)).status).toBe("applied");

    const done = await me.client.post(`/student/applications/${app.id}/withdraw`, {
      confirm: "yes",
    });
    expect(done.headers.location).toBe("/student/applications");
    expect((await applicationOf(me.id, job.id)).status).toBe("withdrawn");
    const after = await me.client.get("/student/applications");
    expect(after.body).toContain(
      `Your application to Infosys – Systems Engineer was withdrawn. You can apply again until ${deadline}.`,
    );
    expect(after.body).toContain("Apply again");
  });

  it("shows someone else's application as not found, and a decided one as not withdrawable", async () => {
    const me = await student();
    const other = await student();
    const job = await postJob(t.ctx);
    await other.client.post(`/student/jobs/${job.id}/apply`);
    const theirs = await applicationOf(other.id, job.id);
    expect((await me.client.get(`/student/applications/${theirs.id}/withdraw`)).statusCode).toBe(
      404,
    );
    await t.ctx.db
      .updateTable("applications")
      .set({ status: "selected" })
      .where("id", "=", theirs.id)
      .execute();
    const page = await other.client.get(`/student/applications/${theirs.id}/withdraw`);
    expect(page.headers.location).toBe("/student/applications");
    expect((await other.client.get("/student/applications")).body).toContain(
      "You cannot withdraw it: it is Selected.",
    );
  });
});

describe("applying again after withdrawing", () => {
  it("brings the same application back to Applied before the deadline, with an event", async () => {
    const me = await student();
    const job = await postJob(t.ctx);
    await me.client.post(`/student/jobs/${job.id}/apply`);
    const app = await applicationOf(me.id, job.id);
    await me.client.post(`/student/applications/${app.id}/withdraw`, { confirm: "yes" });

    expect((await me.client.get(`/student/jobs/${job.id}`)).body).toContain(
      "You withdrew your application. You can apply again until",
    );
    const again = await me.client.post(`/student/jobs/${job.id}/apply`);
    expect(again.headers.location).toBe("/student/applications");
    const back = await applicationOf(me.id, job.id);
    expect(back).toMatchObject({ id: app.id, status: "applied" });
    expect(await eventsOf(app.id)).toEqual([
      { from_status: null, to_status: "applied", by_role: "student" },
      { from_status: "applied", to_status: "withdrawn", by_role: "student" },
      { from_status: "withdrawn", to_status: "applied", by_role: "student" },
    ]);
    expect((await me.client.get("/student/applications")).body).toContain(
      "Application sent again.",
    );
    // Once more is the usual "already applied", not a second row.
    await me.client.post(`/student/jobs/${job.id}/apply`);
    expect(await t.ctx.db.selectFrom("applications").selectAll().execute()).toHaveLength(1);
    expect((await me.client.get(`/student/jobs/${job.id}`)).body).toContain(
      "You have already applied to this job.",
    );
  });

  it("is refused with the reason after the deadline or once the job is closed", async () => {
    const me = await student();
    const late = await postJob(t.ctx, { title: "Late" });
    const closed = await postJob(t.ctx, { title: "Closed" }, late.admin);
    for (const job of [late, closed]) {
      await me.client.post(`/student/jobs/${job.id}/apply`);
      const app = await applicationOf(me.id, job.id);
      await me.client.post(`/student/applications/${app.id}/withdraw`, { confirm: "yes" });
    }
    await setDeadline(late.id, -60_000);
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "closed" })
      .where("id", "=", closed.id)
      .execute();

    const list = await me.client.get("/student/applications");
    expect(list.body).not.toContain("Apply again");
    expect(list.body).toContain("Applications for this job are closed: you cannot apply again.");

    await me.client.post(`/student/jobs/${late.id}/apply`);
    expect((await me.client.get(`/student/jobs/${late.id}`)).body).toContain(
      "You cannot apply: Deadline passed.",
    );
    await me.client.post(`/student/jobs/${closed.id}/apply`);
    expect((await me.client.get(`/student/jobs/${closed.id}`)).body).toContain(
      "You cannot apply: Applications are closed.",
    );
    for (const job of [late, closed])
      expect((await applicationOf(me.id, job.id)).status).toBe("withdrawn");
  });

  it("warns on the confirmation page when the deadline has passed already", async () => {
    const me = await student();
    const job = await postJob(t.ctx, { company: "Infosys", title: "Systems Engineer" });
    await me.client.post(`/student/jobs/${job.id}/apply`);
    const app = await applicationOf(me.id, job.id);
    await t.ctx.db
      .updateTable("applications")
      .set({ status: "shortlisted" })
      .where("id", "=", app.id)
      .execute();
    await setDeadline(job.id, -60_000);
    const page = await me.client.get(`/student/applications/${app.id}/withdraw`);
    expect(page.body).toContain(
      "Your application to Infosys – Systems Engineer will be withdrawn. Applications for this job are closed, so you cannot apply again.",
    );
  });

  it("is the student's move only: the state machine and the admin's route refuse it", async () => {
    expect(transitionProblem("withdrawn", "applied", "student")).toBeNull();
    expect(transitionProblem("withdrawn", "applied", "admin")).toBe(
      "only the student can move it to Applied",
    );
    expect(transitionProblem("applied", "withdrawn", "admin")).toBe(
      "only the student can move it to Withdrawn",
    );
    expect(transitionProblem("withdrawn", "shortlisted", "admin")).toBe(
      "cannot go from Withdrawn to Shortlisted",
    );

    const me = await student();
    const job = await postJob(t.ctx);
    await me.client.post(`/student/jobs/${job.id}/apply`);
    const app = await applicationOf(me.id, job.id);
    await me.client.post(`/student/applications/${app.id}/withdraw`, { confirm: "yes" });
    const admin = await createAdmin(t.ctx, "office@college.test");
    const staff = await loginAs(t.app, admin.email, admin.password);
    await staff.post(`/admin/applications/${app.id}/status?to=applied`);
    await staff.post(`/admin/applications/${app.id}/status?to=shortlisted`);
    expect((await applicationOf(me.id, job.id)).status).toBe("withdrawn");
    // The admin's list offers no button for it either.
    const applicants = await staff.get(`/admin/jobs/${job.id}/applicants`);
    expect(applicants.body).not.toContain(`/admin/applications/${app.id}/status?to=applied`);
  });
});
