// @both-databases: answers lock the student's row, facts are rewritten by correlated subqueries, and two acceptances race.
import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, type TestClient } from "#test/support/client.ts";
import { confirm, confirmForm, pageText } from "#test/support/confirm.ts";
import type { SmsKind } from "../db/schema.ts";
import { toLocalInput } from "../web/time.ts";
import { lapseOffers } from "./service.ts";

const t = useTestApp();

const DAY = 86_400_000;
const inDays = (days: number) => toLocalInput(new Date(Date.now() + days * DAY).toISOString());

async function staff() {
  const admin = await createAdmin(t.ctx, "officer@college.test");
  return loginAs(t.app, admin.email, admin.password);
}

async function studentClient(options: Parameters<typeof createStudent>[1] = {}) {
  const student = await createStudent(t.ctx, { approved: true, ...options });
  const client = await loginAs(t.app, student.email, student.password);
  return { student, client };
}

const terms = (overrides: Record<string, string> = {}) => ({
  role: "Systems Engineer",
  location: "Mysuru",
  fixed_lpa: "6.5",
  variable_lpa: "1",
  joining_date: "2027-07-01",
  answer_by: inDays(5),
  ...overrides,
});

/** Selects one applicant through the confirmation page, with the offer's terms filled in. */
async function selectWithOffer(
  admin: TestClient,
  applicationId: number,
  offer: Record<string, string> | null = terms(),
) {
  const page = await admin.post(`/admin/applications/${applicationId}/status`, { to: "selected" });
  expect(page.statusCode).toBe(200);
  const { action, fields } = confirmForm(page);
  return admin.post(action, { ...fields, ...(offer ? { offer: "on", ...offer } : {}) });
}

function sms(kinds: SmsKind[]) {
  return t.ctx.db
    .selectFrom("sms_messages")
    .selectAll()
    .where("kind", "in", kinds)
    .orderBy("id")
    .execute();
}

function facts(studentId: number) {
  return t.ctx.db
    .selectFrom("students")
    .select(["accepted_offers", "best_offer_lpa", "accepted_ppos", "reneged_at"])
    .where("id", "=", studentId)
    .executeTakeFirstOrThrow();
}

async function setPolicy(year: number, overrides: Partial<Record<string, unknown>> = {}) {
  await t.ctx.db
    .insertInto("placement_policies")
    .values({
      graduation_year: year,
      max_accepted: 1,
      tiers: JSON.stringify([
        { name: "Regular", fromLpa: 0 },
        { name: "Dream", fromLpa: 6 },
        { name: "Super dream", fromLpa: 12 },
      ]),
      placed_may_apply: "higher_tier",
      package_multiple: null,
      block_on_decline: 1,
      ppo_in_campus: 0,
      updated_by: null,
      updated_at: new Date().toISOString(),
      ...overrides,
    })
    .execute();
}

async function appliedTo(studentId: number, jobOverrides: Parameters<typeof postJob>[1] = {}) {
  const job = await postJob(t.ctx, {
    company: "Infosys",
    package_range: "7.5 LPA",
    ...jobOverrides,
  });
  const applied = await applyToJob(t.ctx, studentId, job.id);
  if (!applied.ok) throw new Error(applied.message);
  return { job, applicationId: applied.applicationId };
}

function offerById(id: number) {
  return t.ctx.db.selectFrom("offers").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

async function offerOf(applicationId: number) {
  return t.ctx.db
    .selectFrom("offers")
    .selectAll()
    .where("application_id", "=", applicationId)
    .executeTakeFirstOrThrow();
}

describe("an offer recorded with the selection", () => {
  it("is made, told by its own SMS instead of the status SMS, reminded a day before, and accepted by the student", async () => {
    const admin = await staff();
    const { student, client } = await studentClient({ full_name: "Asha Rao" });
    const { job, applicationId } = await appliedTo(student.id);

    // The confirmation page offers the job's terms.
    const page = await admin.post(`/admin/applications/${applicationId}/status`, {
      to: "selected",
    });
    const text = pageText(page.body);
    expect(text).toContain("Record the offer with the selection");
    expect(page.body).toContain('name="fixed_lpa" type="text" value="7.5"');

    // Wrong terms: the confirmation comes back with the error, nothing is selected.
    const bad = await selectWithOffer(admin, applicationId, terms({ fixed_lpa: "lots" }));
    expect(bad.statusCode).toBe(400);
    expect(pageText(bad.body)).toContain("must be a number");
    const stillApplied = await t.ctx.db
      .selectFrom("applications")
      .select("status")
      .where("id", "=", applicationId)
      .executeTakeFirstOrThrow();
    expect(stillApplied.status).toBe("applied");

    const done = await selectWithOffer(admin, applicationId);
    expect(done.statusCode).toBe(303);
    const offer = await offerOf(applicationId);
    expect(offer).toMatchObject({
      status: "pending",
      source: "campus",
      job_id: job.id,
      company: "Infosys",
      ctc_lpa: 7.5,
      fixed_lpa: 6.5,
      variable_lpa: 1,
      joining_date: "2027-07-01",
    });
    const messages = await sms(["offer", "status_update"]);
    expect(messages.map((m) => m.kind)).toEqual(["offer", "offer"]);
    const [made, reminder] = messages;
    expect(made!.body).toContain("Infosys offers you Systems Engineer at 7.5 LPA");
    expect(made!.reference).toBe(`offer:${offer.id}`);
    expect(reminder!.reference).toBe(`offer:${offer.id}:reminder`);
    expect(Date.parse(reminder!.due_at!)).toBeGreaterThanOrEqual(Date.parse(offer.answer_by) - DAY);
    expect(Date.parse(reminder!.not_after!)).toBe(Date.parse(offer.answer_by));

    // The student sees it on the dashboard and accepts through a confirmation page.
    const dashboard = pageText((await client.get("/student")).body);
    expect(dashboard).toContain("Your offers");
    expect(dashboard).toContain("Infosys: Systems Engineer, 7.5 LPA");
    const ask = await client.post(`/student/offers/${offer.id}/accept`);
    expect(pageText(ask.body)).toContain("no placement policy");
    const accepted = await confirm(client, ask);
    expect(accepted.statusCode).toBe(303);
    expect((await offerOf(applicationId)).status).toBe("accepted");
    expect(await facts(student.id)).toMatchObject({ accepted_offers: 1, best_offer_lpa: 7.5 });
    const [, reminderAfter] = await sms(["offer"]);
    expect(reminderAfter!.status).toBe("cancelled");

    // The office sees the answer on the job's offers page.
    const offers = pageText((await admin.get(`/admin/jobs/${job.id}/offers`)).body);
    expect(offers).toContain("Accepted");
  });

  it("records no offer when the box is not ticked; the job's offers page records it later", async () => {
    const admin = await staff();
    const { student } = await studentClient();
    const { job, applicationId } = await appliedTo(student.id);
    expect((await selectWithOffer(admin, applicationId, null)).statusCode).toBe(303);
    expect((await sms(["status_update"])).length).toBe(1);
    expect(await t.ctx.db.selectFrom("offers").selectAll().execute()).toHaveLength(0);

    const page = pageText((await admin.get(`/admin/jobs/${job.id}/offers`)).body);
    expect(page).toContain("Selected, without an offer");
    const ask = await admin.post(`/admin/jobs/${job.id}/offers`, {
      ids: String(applicationId),
      ...terms(),
    });
    expect(pageText(ask.body)).toContain("will get an SMS");
    const done = await confirm(admin, ask);
    expect(done.statusCode).toBe(303);
    expect((await offerOf(applicationId)).status).toBe("pending");
    // A second confirmation of the same form records nothing more.
    await confirm(admin, ask);
    expect(await t.ctx.db.selectFrom("offers").selectAll().execute()).toHaveLength(1);
  });

  it("goes when the selection is corrected, and a withdrawal tells the student", async () => {
    const admin = await staff();
    const { student } = await studentClient();
    const first = await appliedTo(student.id);
    await selectWithOffer(admin, first.applicationId);
    const firstOffer = await offerOf(first.applicationId);
    const event = await t.ctx.db
      .selectFrom("application_events")
      .select((eb) => eb.fn.max("id").as("id"))
      .where("application_id", "=", first.applicationId)
      .executeTakeFirstOrThrow();
    const correction = await admin.post(`/admin/applications/${first.applicationId}/correct`, {
      decision: String(event.id),
      reason: "Selected by mistake",
      confirm: "yes",
    });
    expect(correction.statusCode).toBe(303);
    // Withdrawn, and let go of the application: the row keeps its job.
    expect(await offerById(firstOffer.id)).toMatchObject({
      status: "withdrawn",
      application_id: null,
      job_id: first.job.id,
    });

    // Selected again after the correction: a new offer, told by its own SMS.
    const again = await admin.post(`/admin/applications/${first.applicationId}/status`, {
      to: "selected",
    });
    await admin.post(confirmForm(again).action, {
      ...confirmForm(again).fields,
      offer: "on",
      ...terms({ fixed_lpa: "8", variable_lpa: "0" }),
    });
    const offers = await t.ctx.db
      .selectFrom("offers")
      .select(["status", "application_id", "ctc_lpa"])
      .where("job_id", "=", first.job.id)
      .orderBy("id")
      .execute();
    expect(offers).toEqual([
      { status: "withdrawn", application_id: null, ctc_lpa: 7.5 },
      { status: "pending", application_id: first.applicationId, ctc_lpa: 8 },
    ]);

    const second = await appliedTo(student.id, { company: "Wipro" });
    await selectWithOffer(admin, second.applicationId);
    const offer = await offerOf(second.applicationId);
    const ask = await admin.post(`/admin/offers/${offer.id}/withdraw`);
    expect(pageText(ask.body)).toContain("will get an SMS");
    const refused = await admin.post(`/admin/offers/${offer.id}/withdraw`, { confirm: "yes" });
    expect(refused.statusCode).toBe(400);
    await admin.post(`/admin/offers/${offer.id}/withdraw`, {
      confirm: "yes",
      reason: "Hiring freeze",
    });
    expect(await offerById(offer.id)).toMatchObject({
      status: "withdrawn",
      withdrawn_reason: "Hiring freeze",
    });
    const told = (await sms(["offer"])).filter((m) => m.reference === `offer:${offer.id}`);
    expect(told.map((m) => m.body)).toEqual([
      expect.stringContaining("Congratulations"),
      expect.stringContaining("Wipro has withdrawn its offer"),
    ]);
  });
});

describe("answers under the placement policy", () => {
  it("a student who accepted 7.5 LPA sees a 9 LPA job in the same tier and may apply to a 14 LPA one; alerts follow", async () => {
    await setPolicy(2027);
    const admin = await staff();
    const { student, client } = await studentClient({ graduation_year: 2027 });
    const { applicationId } = await appliedTo(student.id);
    await selectWithOffer(admin, applicationId);
    const offer = await offerOf(applicationId);
    const ask = await client.post(`/student/offers/${offer.id}/accept`);
    expect(pageText(ask.body)).toContain("in the Dream tier");
    await confirm(client, ask);

    const same = await postJob(t.ctx, { company: "TCS", package_range: "9 LPA", send_sms: true });
    const higher = await postJob(t.ctx, {
      company: "Google",
      package_range: "14 LPA",
      send_sms: true,
    });
    const jobPage = pageText((await client.get(`/student/jobs/${same.id}`)).body);
    expect(jobPage).toContain(
      "You accepted an offer of 7.5 LPA (Dream); this job is in the same tier",
    );
    expect(pageText((await client.get(`/student/jobs/${higher.id}`)).body)).not.toContain(
      "You accepted",
    );
    const list = pageText((await client.get("/student/jobs?eligible=1")).body);
    expect(list).toContain("Google");
    expect(list).not.toContain("TCS");
    const refused = await applyToJob(t.ctx, student.id, same.id);
    expect(refused).toMatchObject({ ok: false, reason: "not_eligible" });
    expect((await applyToJob(t.ctx, student.id, higher.id)).ok).toBe(true);
    // The "new opportunity" SMS went to the student for the 14 LPA job only.
    const alerts = await sms(["job_posted"]);
    const mine = alerts.filter((m) => m.student_id === student.id).map((m) => m.reference);
    expect(mine).toEqual([`job:${higher.id}`]);
  });

  it("accepting cancels the queued alerts and deadline reminders of jobs the policy now closes, and keeps the others", async () => {
    await setPolicy(2027);
    const admin = await staff();
    const { student, client } = await studentClient({ graduation_year: 2027 });
    const { applicationId } = await appliedTo(student.id);
    await selectWithOffer(admin, applicationId);
    // Posted before she accepts, with their alerts held (quiet hours or not yet sent) and nudges due later.
    const same = await postJob(t.ctx, {
      company: "TCS",
      package_range: "9 LPA",
      send_sms: true,
      nudge_hours: 24,
    });
    const higher = await postJob(t.ctx, {
      company: "Google",
      package_range: "14 LPA",
      send_sms: true,
      nudge_hours: 24,
    });
    const queuedFor = async () =>
      (
        await t.ctx.db
          .selectFrom("sms_messages")
          .select(["reference", "status"])
          .where("student_id", "=", student.id)
          .where("kind", "in", ["job_posted", "deadline_nudge"])
          .execute()
      )
        .map((m) => `${m.reference} ${m.status}`)
        .sort();
    expect(await queuedFor()).toEqual(
      [
        `job:${higher.id} queued`,
        `job:${higher.id}:nudge queued`,
        `job:${same.id} queued`,
        `job:${same.id}:nudge queued`,
      ].sort(),
    );
    const offer = await offerOf(applicationId);
    await client.post(`/student/offers/${offer.id}/accept`, { confirm: "yes" });
    expect(await queuedFor()).toEqual(
      [
        `job:${higher.id} queued`,
        `job:${higher.id}:nudge queued`,
        `job:${same.id} cancelled`,
        `job:${same.id}:nudge cancelled`,
      ].sort(),
    );
  });

  it("two acceptances at once of offers that are no upgrade on each other: exactly one is accepted", async () => {
    await setPolicy(2027, { placed_may_apply: "none" });
    const admin = await staff();
    const { student, client } = await studentClient({ graduation_year: 2027 });
    const a = await appliedTo(student.id, { company: "Infosys" });
    const b = await appliedTo(student.id, { company: "Wipro" });
    await selectWithOffer(admin, a.applicationId);
    await selectWithOffer(admin, b.applicationId);
    const offers = [await offerOf(a.applicationId), await offerOf(b.applicationId)];
    const answers = await Promise.all(
      offers.map((o) => client.post(`/student/offers/${o.id}/accept`, { confirm: "yes" })),
    );
    expect(answers.map((r) => r.statusCode)).toEqual([303, 303]);
    const states = (await t.ctx.db.selectFrom("offers").select("status").execute())
      .map((o) => o.status)
      .sort();
    expect(states).toEqual(["accepted", "pending"]);
    expect(await facts(student.id)).toMatchObject({ accepted_offers: 1 });
  });

  it("accepting an upgrade at the limit gives up the lower offer; declining after accepting ends campus placement", async () => {
    await setPolicy(2027);
    const admin = await staff();
    const { student, client } = await studentClient({ graduation_year: 2027 });
    const low = await appliedTo(student.id, { company: "Infosys", package_range: "5 LPA" });
    const high = await appliedTo(student.id, { company: "Google", package_range: "14 LPA" });
    await selectWithOffer(admin, low.applicationId, terms({ fixed_lpa: "5", variable_lpa: "0" }));
    await selectWithOffer(admin, high.applicationId, terms({ fixed_lpa: "12", variable_lpa: "2" }));
    const lowOffer = await offerOf(low.applicationId);
    const highOffer = await offerOf(high.applicationId);
    await client.post(`/student/offers/${lowOffer.id}/accept`, { confirm: "yes" });
    const ask = await client.post(`/student/offers/${highOffer.id}/accept`);
    expect(pageText(ask.body)).toContain("gives up your accepted offer from Infosys");
    await confirm(client, ask);
    expect((await offerOf(low.applicationId)).status).toBe("released");
    expect(await facts(student.id)).toMatchObject({ accepted_offers: 1, best_offer_lpa: 14 });

    const renege = await client.post(`/student/offers/${highOffer.id}/decline`);
    expect(pageText(renege.body)).toContain("ends your campus placement");
    await confirm(client, renege);
    expect((await facts(student.id)).reneged_at).not.toBeNull();
    const job = await postJob(t.ctx, { company: "Amazon", package_range: "30 LPA" });
    expect(pageText((await client.get(`/student/jobs/${job.id}`)).body)).toContain(
      "declined an offer after accepting it",
    );
  });

  it("an offer past its answer time cannot be answered and is recorded as lapsed", async () => {
    const admin = await staff();
    const { student, client } = await studentClient();
    const { applicationId } = await appliedTo(student.id);
    await selectWithOffer(admin, applicationId);
    const offer = await offerOf(applicationId);
    await t.ctx.db
      .updateTable("offers")
      .set({ answer_by: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", offer.id)
      .execute();
    await client.post(`/student/offers/${offer.id}/accept`, { confirm: "yes" });
    expect((await offerOf(applicationId)).status).toBe("pending");
    expect(pageText((await client.get(`/student/offers/${offer.id}`)).body)).toContain(
      "Lapsed (not answered in time)",
    );
    expect(await lapseOffers(t.ctx)).toBe(1);
    expect((await offerOf(applicationId)).status).toBe("lapsed");
    expect(await facts(student.id)).toMatchObject({ accepted_offers: 0 });
  });
});

describe("pre-placement and off-campus offers", () => {
  it("are recorded for a pasted list, all or none, and a PPO holder leaves campus placement", async () => {
    await setPolicy(2027);
    const admin = await staff();
    const { student, client } = await studentClient({ graduation_year: 2027 });
    const other = await createStudent(t.ctx, { approved: true });
    const form = {
      source: "ppo",
      company: "Microsoft",
      ...terms({ fixed_lpa: "30", variable_lpa: "5" }),
      roll_numbers: `${student.roll_number}\n${other.roll_number}, NOSUCH1`,
    };
    const refused = await admin.post("/admin/offers/new", form);
    expect(refused.statusCode).toBe(400);
    expect(pageText(refused.body)).toContain("NOSUCH1: no student has this roll number");
    expect(await t.ctx.db.selectFrom("offers").selectAll().execute()).toHaveLength(0);

    const ask = await admin.post("/admin/offers/new", {
      ...form,
      roll_numbers: `${student.roll_number.toLowerCase()}\n${other.roll_number}`,
    });
    expect(pageText(ask.body)).toContain("2 students will get an SMS");
    expect((await confirm(admin, ask)).statusCode).toBe(303);
    const offers = await t.ctx.db.selectFrom("offers").selectAll().orderBy("id").execute();
    expect(offers.map((o) => [o.source, o.company, o.ctc_lpa])).toEqual([
      ["ppo", "Microsoft", 35],
      ["ppo", "Microsoft", 35],
    ]);
    expect((await sms(["offer"])).filter((m) => !m.reference!.endsWith(":reminder"))).toHaveLength(
      2,
    );

    const mine = offers.find((o) => o.student_id === student.id)!;
    await client.post(`/student/offers/${mine.id}/accept`, { confirm: "yes" });
    expect(await facts(student.id)).toMatchObject({ accepted_ppos: 1, accepted_offers: 1 });
    const job = await postJob(t.ctx, { company: "Amazon", package_range: "50 LPA" });
    expect(pageText((await client.get(`/student/jobs/${job.id}`)).body)).toContain(
      "PPO holders do not take part in campus placement",
    );
  });
});

describe("requests that arrive together", () => {
  it("a confirmed PPO list posted six times at once, the late offers form six times, an acceptance six times: each counts once", async () => {
    const admin = await staff();
    const { student, client } = await studentClient();
    const ppo = {
      source: "ppo",
      company: "Microsoft",
      ...terms(),
      roll_numbers: student.roll_number,
      confirm: "yes",
    };
    const posts = await Promise.all(
      Array.from({ length: 6 }, () => admin.post("/admin/offers/new", ppo)),
    );
    expect(posts.every((r) => r.statusCode < 500)).toBe(true);
    const ppos = await t.ctx.db
      .selectFrom("offers")
      .selectAll()
      .where("source", "=", "ppo")
      .execute();
    expect(ppos).toHaveLength(1);
    expect(
      (await sms(["offer"])).filter((m) => m.reference === `offer:${ppos[0]!.id}`),
    ).toHaveLength(1);
    // The list again, later: refused with the reason, nothing recorded.
    const again = await admin.post("/admin/offers/new", ppo);
    expect(again.statusCode).toBe(400);
    expect(pageText(again.body)).toContain(
      "holds a live pre-placement offer (ppo) from Microsoft already",
    );

    const { job, applicationId } = await appliedTo(student.id);
    await selectWithOffer(admin, applicationId, null);
    const late = await Promise.all(
      Array.from({ length: 6 }, () =>
        admin.post(`/admin/jobs/${job.id}/offers`, {
          ids: String(applicationId),
          ...terms(),
          confirm: "yes",
        }),
      ),
    );
    expect(late.every((r) => r.statusCode === 303)).toBe(true);
    const campus = await offerOf(applicationId);
    expect((await sms(["offer"])).filter((m) => m.reference === `offer:${campus.id}`)).toHaveLength(
      1,
    );

    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.post(`/student/offers/${campus.id}/accept`, { confirm: "yes" }),
      ),
    );
    expect(answers.every((r) => r.statusCode === 303)).toBe(true);
    expect((await offerOf(applicationId)).status).toBe("accepted");
    const accepts = await t.ctx.db
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "offer.accept")
      .execute();
    expect(accepts).toHaveLength(1);
    expect(await facts(student.id)).toMatchObject({ accepted_offers: 1, best_offer_lpa: 7.5 });
  });
});

describe("taking part in placement", () => {
  it("an opted-out student is told why on every job and gets no alerts; the office can take it back", async () => {
    const admin = await staff();
    const { student, client } = await studentClient();
    const ask = await admin.post(`/admin/students/${student.id}/placement`, { take_part: "no" });
    expect(pageText(ask.body)).toContain("will not be able to apply to any job");
    expect((await confirm(admin, ask)).statusCode).toBe(303);
    const job = await postJob(t.ctx, { send_sms: true });
    expect(pageText((await client.get(`/student/jobs/${job.id}`)).body)).toContain(
      "You opted out of campus placement",
    );
    expect(await sms(["job_posted"])).toHaveLength(0);
    expect(await applyToJob(t.ctx, student.id, job.id)).toMatchObject({ ok: false });
    await admin.post(`/admin/students/${student.id}/placement`, { take_part: "yes" });
    expect((await applyToJob(t.ctx, student.id, job.id)).ok).toBe(true);
    const audit = await t.ctx.db.selectFrom("audit_log").select("action").execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["student.placement_opt_out", "student.placement_opt_in"]),
    );
  });
});

describe("offer letters and privacy", () => {
  it("stores a PDF letter the student can open; another student cannot see the offer", async () => {
    const admin = await staff();
    const { student, client } = await studentClient();
    const { client: stranger } = await studentClient();
    const { applicationId } = await appliedTo(student.id);
    await selectWithOffer(admin, applicationId);
    const offer = await offerOf(applicationId);
    const notPdf = await admin.postMultipart(`/admin/offers/${offer.id}/letter`, {
      letter: { filename: "letter.pdf", data: Buffer.from("MZ not a pdf") },
    });
    expect(notPdf.statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("offer_letters").selectAll().execute()).toHaveLength(0);
    const letter = pdfBytes("offer letter");
    await admin.postMultipart(`/admin/offers/${offer.id}/letter`, {
      letter: { filename: "letter.pdf", data: letter },
    });
    const own = await client.get(`/student/offers/${offer.id}/letter.pdf`);
    expect(own.statusCode).toBe(200);
    expect(own.rawPayload.equals(letter)).toBe(true);
    expect((await stranger.get(`/student/offers/${offer.id}`)).statusCode).toBe(404);
    expect((await stranger.get(`/student/offers/${offer.id}/letter.pdf`)).statusCode).toBe(404);
    expect(
      (await stranger.post(`/student/offers/${offer.id}/accept`, { confirm: "yes" })).statusCode,
    ).toBe(404);
    expect((await client.get(`/admin/offers/${offer.id}`)).statusCode).toBe(403);
  });
});
