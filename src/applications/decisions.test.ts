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

describe("correcting a decision", () => {
  it("moves Selected back to the stage before, after asking for a reason: one SMS, audited, on the timeline", async () => {
    const s = await createStudent(t.ctx, {
      approved: true,
      full_name: "Kavya Menon",
      phone: "+919812345678",
    });
    const { id: jobId } = await postJob(t.ctx, { company: "Wipro", title: "Project Engineer" });
    const id = await applicationThrough(s.id, jobId, ["shortlisted", "interview", "selected"]);
    const staff = await admin();
    const back = `/admin/jobs/${jobId}/applicants?status=selected`;

    const list = await staff.get(back);
    expect(list.body).toContain(
      `href="/admin/applications/${id}/correct?back=%2Fadmin%2Fjobs%2F${jobId}%2Fapplicants%3Fstatus%3Dselected" aria-label="Correct the decision: Kavya Menon">Correct…</a>`,
    );
    const asked = await staff.get(
      `/admin/applications/${id}/correct?back=${encodeURIComponent(back)}`,
    );
    expect(asked.statusCode).toBe(200);
    let text = pageText(asked.body);
    expect(text).toContain("Move Kavya Menon back to Interview?");
    expect(text).toContain("Selected → Interview");
    expect(text).toContain(
      "Kavya Menon will get an SMS at +919812345678: “Dear Kavya, a correction: your status for Wipro - Project Engineer is 'Interview', not 'Selected'. Check the Placement Portal for details.”",
    );
    expect(asked.body).toContain(
      `href="${back.replace(/&/g, "&amp;")}" class="button secondary" id="cancel"`,
    );

    // No reason: the same page again, saying what is missing; nothing moves.
    const bare = await confirm(staff, asked);
    expect(bare.statusCode).toBe(400);
    text = pageText(bare.body);
    expect(text).toContain("Enter the reason for the correction.");
    expect(await statusOf(id)).toBe("selected");
    expect(await sms("application_corrected")).toHaveLength(0);

    const form = (await import("#test/support/confirm.ts")).confirmForm(asked);
    const done = await staff.post(form.action, {
      ...form.fields,
      reason: "Selected by mistake: the company's list had another Kavya.",
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(back);
    expect(await statusOf(id)).toBe("interview");
    const texts = await sms("application_corrected");
    expect(texts.map((m) => [m.body, m.to_e164])).toEqual([
      [
        "Dear Kavya, a correction: your status for Wipro - Project Engineer is 'Interview', not 'Selected'. Check the Placement Portal for details.",
        "+919812345678",
      ],
    ]);
    expect(await sms("status_update")).toHaveLength(0);
    const events = await t.ctx.db
      .selectFrom("application_events")
      .select(["from_status", "to_status", "by_role"])
      .where("application_id", "=", id)
      .orderBy("id")
      .execute();
    expect(events.at(-1)).toEqual({
      from_status: "selected",
      to_status: "interview",
      by_role: "admin",
    });
    expect(pageText((await staff.get(back)).body)).toContain(
      "Kavya Menon moved back to Interview; the student gets an SMS.",
    );
    const log = pageText((await staff.get("/admin/audit")).body);
    expect(log).toContain(
      "Corrected Kavya Menon's application for Wipro – Project Engineer: Selected back to Interview",
    );
    expect(log).toContain("Reason: Selected by mistake: the company's list had another Kavya.");

    // The student's timeline says the decision was corrected.
    const mine = await loginAs(t.app, s.email, s.password);
    expect(pageText((await mine.get("/student/applications")).body)).toMatch(
      /: Interview \(Selected corrected\)/,
    );
    // Pressing confirm again (a stale page) changes nothing and sends nothing.
    await staff.post(form.action, { ...form.fields, reason: "again" });
    expect(await statusOf(id)).toBe("interview");
    expect(await sms("application_corrected")).toHaveLength(1);
    expect(pageText((await staff.get(back)).body)).toContain("Not changed: Kavya Menon");
  });

  it("moves Rejected back to Applied; refuses what is not a decision or whose history is silent", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const a = await createStudent(t.ctx, { approved: true, full_name: "Rejected Early" });
    const b = await createStudent(t.ctx, { approved: true, full_name: "Still Interview" });
    const c = await createStudent(t.ctx, { approved: true, full_name: "No History" });
    const rejected = await applicationThrough(a.id, jobId, ["rejected"]);
    const interview = await applicationThrough(b.id, jobId, ["shortlisted", "interview"]);
    const now = new Date().toISOString();
    const silent = await t.ctx.db
      .insertInto("applications")
      .values({
        job_id: jobId,
        student_id: c.id,
        status: "selected",
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const staff = await admin();

    const asked = await staff.get(`/admin/applications/${rejected}/correct`);
    expect(pageText(asked.body)).toContain("Move Rejected Early back to Applied?");
    const form = (await import("#test/support/confirm.ts")).confirmForm(asked);
    await staff.post(form.action, { ...form.fields, reason: "Rejected the wrong row" });
    expect(await statusOf(rejected)).toBe("applied");
    expect(await sms("application_corrected")).toHaveLength(1);

    for (const [appId, words] of [
      [interview, "Interview is not a decision"],
      [silent.id, "its history does not say which stage it was in before Selected"],
    ] as const) {
      const refused = await staff.get(`/admin/applications/${appId}/correct`);
      expect(refused.statusCode).toBe(303);
      expect(refused.headers.location).toBe(`/admin/jobs/${jobId}/applicants`);
      expect(pageText((await staff.get(refused.headers.location!)).body)).toContain(words);
    }
    expect(await statusOf(interview)).toBe("interview");
    expect(await statusOf(silent.id)).toBe("selected");
    expect((await staff.get("/admin/applications/999999/correct")).statusCode).toBe(404);
  });

  it("gives one outcome and one SMS when two admins correct the same decision at once", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await createStudent(t.ctx, { approved: true, full_name: `Raced ${i}` });
      ids.push(
        await applicationThrough(s.id, jobId, ["interview", i % 2 ? "rejected" : "selected"]),
      );
    }
    const first = await admin("first-admin@college.test");
    const second = await admin("second-admin@college.test");
    const { confirmForm } = await import("#test/support/confirm.ts");
    for (const id of ids) {
      const forms = [
        confirmForm(await first.get(`/admin/applications/${id}/correct`)),
        confirmForm(await second.get(`/admin/applications/${id}/correct`)),
      ];
      // Both confirmed at once, each admin on their own session.
      const answers = await Promise.all([
        first.post(forms[0]!.action, { ...forms[0]!.fields, reason: "first" }),
        second.post(forms[1]!.action, { ...forms[1]!.fields, reason: "second" }),
      ]);
      expect(answers.map((a) => a.statusCode)).toEqual([303, 303]);
      expect(await statusOf(id)).toBe("interview");
      const corrections = await t.ctx.db
        .selectFrom("application_events")
        .select("id")
        .where("application_id", "=", id)
        .where("to_status", "=", "interview")
        .where("from_status", "in", ["selected", "rejected"])
        .execute();
      expect(corrections).toHaveLength(1);
      // Each admin is told which way it went.
      const flashes = [
        pageText((await first.get(`/admin/jobs/${jobId}/applicants`)).body),
        pageText((await second.get(`/admin/jobs/${jobId}/applicants`)).body),
      ].join(" ");
      expect(
        flashes.match(/moved back to Interview; the student gets an SMS/g),
        flashes,
      ).toHaveLength(1);
      expect(
        flashes.match(/Not changed: Raced \d \(\w+\): changed by someone else meanwhile/g),
      ).toHaveLength(1);
    }
    expect(await sms("application_corrected")).toHaveLength(ids.length);
    const audits = await t.ctx.db
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "application.correct")
      .execute();
    expect(audits).toHaveLength(ids.length);
  });

  it("gives one outcome and one SMS when two admins select the same applicant at once", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const s = await createStudent(t.ctx, { approved: true, full_name: "Twice Selected" });
    const id = await applicationThrough(s.id, jobId, ["interview"]);
    const first = await admin("first-admin@college.test");
    const second = await admin("second-admin@college.test");
    const [a, b] = await Promise.all(
      [first, second].map((c) =>
        c.post(`/admin/applications/${id}/status?to=selected`, { confirm: "yes" }),
      ),
    );
    expect([a!.statusCode, b!.statusCode]).toEqual([303, 303]);
    expect(await statusOf(id)).toBe("selected");
    expect(await sms("status_update")).toHaveLength(1);
  });
});

describe("searching the applicants", () => {
  it("finds by part of a name or roll number, with the stage filter; % and _ match themselves", async () => {
    const { id: jobId } = await postJob(t.ctx, { company: "TCS", title: "Ninja" });
    const people = [
      ["Anil Kumar", "1XY22CS101"],
      ["Anila Rao", "1XY22EC102"],
      ["Bhavna 100% Shetty", "1XY22CS103"],
      ["Chetan_Gowda", "1XY22ME104"],
      ["Chetan Gowda", "1XY22ME105"],
    ] as const;
    const ids: Record<string, number> = {};
    for (const [full_name, roll_number] of people) {
      const s = await createStudent(t.ctx, { approved: true, full_name, roll_number });
      ids[full_name] = await applicationThrough(
        s.id,
        jobId,
        full_name === "Anila Rao" ? ["shortlisted"] : [],
      );
    }
    const staff = await admin();
    const names = async (query: string) => {
      const page = await staff.get(`/admin/jobs/${jobId}/applicants?${query}`);
      expect(page.statusCode, query).toBe(200);
      return [...page.body.matchAll(/name="ids" value="\d+" aria-label="Select ([^"]+)"/g)]
        .map((m) => m[1])
        .sort();
    };
    expect(await names("q=anil")).toEqual(["Anil Kumar", "Anila Rao"]);
    expect(await names("q=ANIL&status=shortlisted")).toEqual(["Anila Rao"]);
    expect(await names("q=cs10")).toEqual(["Anil Kumar", "Bhavna 100% Shetty"]);
    expect(await names("q=ec102")).toEqual(["Anila Rao"]);
    expect(await names(`q=${encodeURIComponent("%")}`)).toEqual(["Bhavna 100% Shetty"]);
    expect(await names("q=n_g")).toEqual(["Chetan_Gowda"]);
    expect(await names("q=%20%20")).toHaveLength(5); // blanks only: no search
    expect(await names("q=nobody")).toEqual([]);

    const page = await staff.get(`/admin/jobs/${jobId}/applicants?q=anil&status=applied`);
    expect(page.body).toContain("<p>1 applicant</p>");
    expect(page.body).toContain('<input type="search" name="q" maxlength="100" value="anil"/>');
    // The search is kept by the moves' way back and the export.
    expect(page.body).toContain(
      `name="back" value="/admin/jobs/${jobId}/applicants?q=anil&status=applied"`,
    );
    expect(page.body).toContain(`/admin/jobs/${jobId}/applicants.csv?q=anil&status=applied`);
    const csv = await staff.get(`/admin/jobs/${jobId}/applicants.csv?q=gowda`);
    expect(csv.body).toContain("Chetan Gowda");
    expect(csv.body).not.toContain("Anil Kumar");
    expect(
      (await staff.get(`/admin/jobs/${jobId}/applicants?q=${"x".repeat(101)}`)).statusCode,
    ).toBe(400);
  });
});

describe("one word for each stage", () => {
  it("calls the final negative stage Rejected on every page that names it", async () => {
    const s = await createStudent(t.ctx, { approved: true, full_name: "Word Check" });
    const { id: jobId } = await postJob(t.ctx, { company: "Infosys", title: "SDE" });
    await applicationThrough(s.id, jobId, ["rejected"]);
    const staff = await admin();
    const mine = await loginAs(t.app, s.email, s.password);
    const pages = [
      await staff.get(`/admin/jobs/${jobId}/applicants`),
      await staff.get("/admin/announcements"),
      await mine.get("/student/applications"),
    ];
    for (const page of pages) {
      expect(page.statusCode).toBe(200);
      expect(pageText(page.body)).not.toMatch(/not selected/i);
    }
    // The announcement's stage list names it as the applicants page does.
    expect(pages[1]!.body).toContain('<option value="rejected">Rejected</option>');
    expect(pageText(pages[2]!.body)).toContain("Rejected");
  });
});
