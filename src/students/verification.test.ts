// @both-databases: bulk approval and rejection statements, and locking.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { confirm, confirmForm, pageText } from "#test/support/confirm.ts";
import { storedResumes } from "#test/support/resumes.ts";
import { expectConsoleError } from "#test/support/setup.ts";
import { putResume } from "./resume-store.ts";

const t = useTestApp();

async function adminClient() {
  const admin = await createAdmin(t.ctx);
  return loginAs(t.app, admin.email, admin.password);
}

function smsRows() {
  return t.ctx.db.selectFrom("sms_messages").selectAll().orderBy("id").execute();
}

describe("verification queue", () => {
  it("lists pending registrations, with search and filters", async () => {
    await createStudent(t.ctx, {
      full_name: "Meera Iyer",
      department: "ECE",
      graduation_year: 2027,
    });
    await createStudent(t.ctx, {
      full_name: "Rahul Nair",
      department: "CSE",
      graduation_year: 2028,
    });
    await createStudent(t.ctx, { full_name: "Approved Person", approved: true });
    const admin = await adminClient();

    const all = await admin.get("/admin/students?status=pending");
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain("Meera Iyer");
    expect(all.body).toContain("Rahul Nair");
    expect(all.body).not.toContain("Approved Person");
    expect(all.body).toContain("2 students");

    const search = await admin.get("/admin/students?status=pending&q=meera");
    expect(search.body).toContain("Meera Iyer");
    expect(search.body).not.toContain("Rahul Nair");

    const byDepartment = await admin.get("/admin/students?status=pending&department=CSE");
    expect(byDepartment.body).toContain("Rahul Nair");
    expect(byDepartment.body).not.toContain("Meera Iyer");

    const byYear = await admin.get("/admin/students?status=pending&year=2027");
    expect(byYear.body).toContain("Meera Iyer");
    expect(byYear.body).not.toContain("Rahul Nair");

    const approved = await admin.get("/admin/students?status=approved");
    expect(approved.body).toContain("Approved Person");
  });

  it("treats % and _ in a search as plain characters", async () => {
    await createStudent(t.ctx, { full_name: "Meera Iyer" });
    const admin = await adminClient();
    const response = await admin.get(`/admin/students?status=pending&q=${encodeURIComponent("%")}`);
    expect(response.body).not.toContain("Meera Iyer");
  });

  it("approves a student and queues the approval SMS in the same step", async () => {
    const student = await createStudent(t.ctx, { phone: "+919876543210", full_name: "Asha Rao" });
    const admin = await adminClient();

    const response = await admin.post(`/admin/students/${student.id}/approve`);
    expect(response.statusCode).toBe(303);

    const row = await t.ctx.db
      .selectFrom("students")
      .selectAll()
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.approved_at).not.toBeNull();
    const sms = await smsRows();
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({
      kind: "approval",
      status: "queued",
      to_e164: "+919876543210",
      student_id: student.id,
      dedupe_key: `approval:${student.id}`,
      encoding: "GSM-7",
      segments: 1,
    });
    expect(sms[0]!.body).toContain("Dear Asha");

    // The admin sees the queued SMS on the student's page.
    const page = await admin.get(`/admin/students/${student.id}`);
    expect(page.body).toContain("approved");
    expect(page.body).toContain("queued");
    expect(page.body).toContain("Dear Asha");
  });

  it("writes one SMS for a double click on approve", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    const [a, b] = await Promise.all([
      admin.post(`/admin/students/${student.id}/approve`),
      admin.post(`/admin/students/${student.id}/approve`),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    await admin.post(`/admin/students/${student.id}/approve`);
    expect(await smsRows()).toHaveLength(1);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.approve")
      .execute();
    expect(audit).toHaveLength(1);
  });

  it("rolls the approval back when its SMS cannot be written", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    // CASCADE on PostgreSQL: sms_attempts refers to it (SQLite drops a referenced table anyway).
    await sql`drop table sms_messages ${t.ctx.dialect === "postgres" ? sql`cascade` : sql``}`.execute(
      t.ctx.db,
    );
    expectConsoleError();
    const response = await admin.post(`/admin/students/${student.id}/approve`);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain("sms_messages"); // 5xx details stay hidden
    const row = await t.ctx.db
      .selectFrom("students")
      .select("approved_at")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.approved_at).toBeNull();
  });

  it("lets an approval and a rejection racing for one student end as exactly one of them", async () => {
    const admin = await adminClient();
    const second = await createAdmin(t.ctx, "second-admin@college.test", "admin-password-2");
    const other = await loginAs(t.app, second.email, second.password);
    for (let round = 0; round < 5; round++) {
      const student = await createStudent(t.ctx);
      await Promise.all([
        admin.post(`/admin/students/${student.id}/approve`),
        other.post(`/admin/students/${student.id}/reject`, { reason: "race", confirm: "yes" }),
      ]);
      const kinds = (
        await t.ctx.db
          .selectFrom("sms_messages")
          .select("kind")
          .where("dedupe_key", "in", [`approval:${student.id}`, `rejection:${student.id}`])
          .execute()
      ).map((r) => r.kind);
      const row = await t.ctx.db
        .selectFrom("students")
        .select("approved_at")
        .where("id", "=", student.id)
        .executeTakeFirst();
      if (row) expect(kinds).toEqual(["approval"]);
      else expect(kinds).toEqual(["rejection"]);
    }
  });

  it("bulk-approves a selection", async () => {
    const a = await createStudent(t.ctx);
    const b = await createStudent(t.ctx);
    const c = await createStudent(t.ctx);
    const admin = await adminClient();
    const response = await admin.post("/admin/students/approve", {
      ids: [String(a.id), String(b.id)],
    });
    expect(response.statusCode).toBe(303);
    const approved = await t.ctx.db
      .selectFrom("students")
      .select("id")
      .where("approved_at", "is not", null)
      .orderBy("id")
      .execute();
    expect(approved.map((r) => r.id)).toEqual([a.id, b.id]);
    expect((await smsRows()).map((r) => r.student_id)).toEqual([a.id, b.id]);
    expect(c.id).toBeGreaterThan(0);
  });

  it("rejects a registration: SMS queued, audit kept, user, profile and resume deleted", async () => {
    const student = await createStudent(t.ctx, { full_name: "Kiran Das" });
    await putResume(t.ctx.db, student.id, pdfBytes("kiran"), new Date().toISOString());
    expect(await storedResumes(t.ctx)).toHaveLength(1);
    const admin = await adminClient();

    const response = await admin.post(`/admin/students/${student.id}/reject`, {
      reason: "Roll number not on the rolls",
      confirm: "yes",
    });
    expect(response.statusCode).toBe(303);

    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(0);
    expect(await storedResumes(t.ctx)).toHaveLength(0);
    expect(
      await t.ctx.db.selectFrom("users").select("id").where("email", "=", student.email).execute(),
    ).toHaveLength(0);

    const sms = await smsRows();
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ kind: "rejection", status: "queued", to_e164: student.phone });
    expect(sms[0]!.body).toContain("Roll number not on the rolls");

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.reject")
      .execute();
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({
      rollNumber: student.roll_number,
      name: "Kiran Das",
      reason: "Roll number not on the rolls",
    });

    // That person can no longer log in, and is told why (rejected-login tests below).
    const login = await new TestClient(t.app).post("/login", {
      email: student.email,
      password: student.password,
    });
    expect(login.statusCode).toBe(403);

    // A second click does nothing more.
    await admin.post(`/admin/students/${student.id}/reject`, { confirm: "yes" });
    expect(await smsRows()).toHaveLength(1);

    // The audit log says it in words, from what it stored: the student is gone.
    const log = pageText((await admin.get("/admin/audit")).body);
    expect(log).toContain(`Rejected the registration of Kiran Das (${student.roll_number})`);
    expect(log).toContain("Reason: Roll number not on the rolls");
    expect(log).not.toContain("student.reject");
  });
});

describe("confirming a rejection", () => {
  it("shows who is rejected and the exact SMS, changes nothing, and rejects only when confirmed", async () => {
    const student = await createStudent(t.ctx, {
      full_name: "Asha Rao",
      roll_number: "1XY22CS901",
      phone: "+919876543299",
    });
    const admin = await adminClient();

    // On the student's page Approve comes first; Reject… is the separate, red-outlined one.
    const pageBody = (await admin.get(`/admin/students/${student.id}`)).body;
    expect(pageBody.indexOf('id="approve"')).toBeLessThan(pageBody.indexOf('id="reject"'));
    expect(pageBody).toMatch(/<button type="submit" class="danger" id="reject">\s*Reject…/);

    const asked = await admin.post(`/admin/students/${student.id}/reject`, {
      reason: "Fees not paid",
    });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Reject Asha Rao's registration?");
    expect(text).toContain("Asha Rao (1XY22CS901, CSE, 2027 batch) is rejected");
    expect(text).toContain(
      "Asha Rao will get an SMS at +919876543299: “Dear Asha, your Placement Portal registration (1XY22CS901) was not approved. Reason: Fees not paid. Please contact the placement office.”",
    );
    expect(asked.body).toMatch(
      /<a href="\/admin\/students\/\d+\?reason=Fees\+not\+paid" class="button secondary" id="cancel">/,
    );
    expect(asked.body).toContain('<input type="hidden" name="confirm" value="yes"/>');
    expect(asked.body).toContain('name="_csrf"');
    // Nothing happened yet.
    expect(await smsRows()).toHaveLength(0);
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(1);

    // The confirmed form still needs its CSRF token.
    const { action, fields } = confirmForm(asked);
    expect((await admin.post(action, fields, { csrf: false })).statusCode).toBe(403);
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(1);

    const done = await confirm(admin, asked);
    expect(done.statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(0);
    const sms = await smsRows();
    expect(sms.map((m) => [m.kind, m.body.includes("Reason: Fees not paid")])).toEqual([
      ["rejection", true],
    ]);
  });

  it("rejects a selection with one reason, after a confirmation naming each of them", async () => {
    const a = await createStudent(t.ctx, { full_name: "Anil Kumar" });
    const b = await createStudent(t.ctx, { full_name: "Bhavna Shetty" });
    const c = await createStudent(t.ctx, { full_name: "Chetan Gowda" });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", b.id)
      .execute();
    const admin = await adminClient();

    const queue = await admin.get("/admin/students?status=pending");
    expect(queue.body).toContain('formaction="/admin/students/reject"');
    expect(queue.body).toContain("Reject selected…");

    const asked = await admin.post("/admin/students/reject", {
      ids: [String(a.id), String(b.id)],
      reason: "Not in the final year",
    });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Reject 2 registrations?");
    expect(text).toContain(`Anil Kumar (${a.roll_number})`);
    expect(text).toContain(`Bhavna Shetty (${b.roll_number})`);
    expect(text).not.toContain("Chetan Gowda");
    expect(text).toContain("Anil Kumar will get the rejection SMS");
    expect(text).toContain("Reason: Not in the final year");
    expect(text).toContain("1 student opted out of SMS and will not get one.");
    expect(await smsRows()).toHaveLength(0);

    expect((await confirm(admin, asked)).statusCode).toBe(303);
    const left = await t.ctx.db.selectFrom("students").select("id").execute();
    expect(left.map((r) => r.id)).toEqual([c.id]);
    const sms = await smsRows();
    expect(sms.map((m) => m.kind)).toEqual(["rejection", "rejection"]);
    expect(sms.every((m) => m.body.includes("Reason: Not in the final year"))).toBe(true);
    expect(pageText((await admin.get("/admin/students?status=pending")).body)).toContain(
      "Rejected 2 registrations; the rejection SMS are queued.",
    );
    // Nothing selected: told so, nothing happens.
    await admin.post("/admin/students/reject", {});
    expect(pageText((await admin.get("/admin/students")).body)).toContain(
      "Select at least one pending registration to reject.",
    );
  });
});

describe("working the queue", () => {
  it("has a select-all box driven by a script file, and works without it", async () => {
    await createStudent(t.ctx);
    const admin = await adminClient();
    const queue = await admin.get("/admin/students?status=pending");
    expect(queue.body).toMatch(
      /<input type="checkbox" id="select-all-ids" data-select-all="ids" aria-label="Select all students on this page" hidden\/>/,
    );
    expect(queue.body).toContain('<script src="/assets/select-all.js" defer></script>');
    // No inline script: the Content-Security-Policy allows files from the portal only.
    expect(queue.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(queue.headers["content-security-policy"]).toContain("default-src 'self'");
    const script = await admin.get("/assets/select-all.js");
    expect(script.statusCode).toBe(200);
    expect(script.headers["content-type"]).toMatch(/javascript/);
    expect(script.body).toContain("data-select-all");
  });

  it("sorts by the column asked for, and refuses a column it does not know", async () => {
    const people = [
      { full_name: "Bala Murali", cgpa: 7 },
      { full_name: "Chitra Bhat", cgpa: 9.1 },
      { full_name: "Arjun Shetty", cgpa: 8.25 },
    ];
    for (const [i, person] of people.entries()) {
      const { id } = await createStudent(t.ctx, person);
      const created_at = new Date(Date.UTC(2026, 10, 20, 10, i)).toISOString();
      await t.ctx.db.updateTable("students").set({ created_at }).where("id", "=", id).execute();
    }
    const admin = await adminClient();
    const order = async (query: string) => {
      const body = (await admin.get(`/admin/students?status=pending${query}`)).body;
      return [...body.matchAll(/<a href="\/admin\/students\/\d+[^"]*">([^<]+)<\/a>/g)].map(
        (m) => m[1],
      );
    };
    expect(await order("")).toEqual(["Bala Murali", "Chitra Bhat", "Arjun Shetty"]);
    expect(await order("&sort=cgpa&dir=desc")).toEqual([
      "Chitra Bhat",
      "Arjun Shetty",
      "Bala Murali",
    ]);
    expect(await order("&sort=name&dir=asc")).toEqual([
      "Arjun Shetty",
      "Bala Murali",
      "Chitra Bhat",
    ]);
    expect(await order("&sort=registered&dir=desc")).toEqual([
      "Arjun Shetty",
      "Chitra Bhat",
      "Bala Murali",
    ]);
    const page = await admin.get("/admin/students?status=pending&sort=cgpa&dir=desc");
    // The CGPA header now sorts the other way; the others keep the filters and start ascending.
    expect(page.body).toContain('href="/admin/students?status=pending&sort=cgpa&dir=asc"');
    expect(page.body).toContain('href="/admin/students?status=pending&sort=name&dir=asc"');
    expect(page.body).toContain('aria-sort="descending"');
    expect(page.body).toContain("<td>9.10</td>");
    expect((await admin.get("/admin/students?sort=password")).statusCode).toBe(400);
    expect((await admin.get("/admin/students?sort=cgpa&dir=sideways")).statusCode).toBe(400);
  });

  it("opens the next pending registration after an approval, and the queue when none is left", async () => {
    const first = await createStudent(t.ctx, { full_name: "First Waiting" });
    const second = await createStudent(t.ctx, { full_name: "Second Waiting" });
    const third = await createStudent(t.ctx, { full_name: "Third Waiting" });
    const admin = await adminClient();

    const a = await admin.post(`/admin/students/${second.id}/approve`);
    expect(a.headers.location).toBe(`/admin/students/${first.id}`);
    const next = pageText((await admin.get(a.headers.location!)).body);
    expect(next).toContain(`Approved Second Waiting (${second.roll_number}).`);
    expect(next).toContain("Next pending: First Waiting.");

    expect((await admin.post(`/admin/students/${first.id}/approve`)).headers.location).toBe(
      `/admin/students/${third.id}`,
    );
    const last = await admin.post(`/admin/students/${third.id}/approve`);
    expect(last.headers.location).toBe("/admin/students?status=pending");
    expect(pageText((await admin.get(last.headers.location!)).body)).toContain(
      "No registrations are waiting any more.",
    );
  });
});

describe("the queue keeps its place", () => {
  /** `n` pending students of `department`, named in order ("CSE 01", ...), registered in order. */
  async function pendingOf(department: string, n: number, from = 0) {
    const made = [];
    for (let i = 1; i <= n; i++) {
      const name = `${department} Student ${String(i).padStart(2, "0")}`;
      const student = await createStudent(t.ctx, { full_name: name, department });
      const created_at = new Date(Date.UTC(2026, 10, 20, 10, from + i)).toISOString();
      await t.ctx.db
        .updateTable("students")
        .set({ created_at })
        .where("id", "=", student.id)
        .execute();
      made.push(student);
    }
    return made;
  }

  /** The hidden `queue` field of the queue's form on a list page. */
  function queueField(body: string) {
    const value = /<input type="hidden" name="queue" value="([^"]*)"/.exec(body)?.[1];
    if (value === undefined) throw new Error("no queue field on the page");
    return value.replace(/&amp;/g, "&");
  }

  const names = (body: string) =>
    [...body.matchAll(/<a href="\/admin\/students\/\d+[^"]*">([^<]+)<\/a>/g)].map((m) => m[1]);

  it("comes back to the same filter, sort and page after a bulk approval, the last page if that one is gone", async () => {
    const cse = await pendingOf("CSE", 27);
    await pendingOf("ECE", 2, 100);
    const admin = await adminClient();
    const place = "/admin/students?status=pending&department=CSE&sort=name&dir=desc&page=2";
    const page2 = await admin.get(place);
    // Page 2 of CSE by name, descending: the two first names.
    expect(names(page2.body)).toEqual(["CSE Student 02", "CSE Student 01"]);
    const queue = queueField(page2.body);
    expect(queue).toBe("status=pending&department=CSE&sort=name&dir=desc&page=2");

    // One of the two approved: 26 left, page 2 is still there.
    const one = await admin.post("/admin/students/approve", { ids: [String(cse[0]!.id)], queue });
    expect(one.headers.location).toBe(place);
    expect(pageText((await admin.get(one.headers.location!)).body)).toContain("Approved 1 student");

    // The other: 25 left, one page: back to its last page, with the same filter and sort.
    const two = await admin.post("/admin/students/approve", { ids: [String(cse[1]!.id)], queue });
    expect(two.headers.location).toBe(
      "/admin/students?status=pending&department=CSE&sort=name&dir=desc",
    );
    const back = await admin.get(two.headers.location!);
    expect(names(back.body)[0]).toBe("CSE Student 27");
    expect(names(back.body)).not.toContain("ECE Student 01");
  });

  it("keeps the place, the typed reason and the ticks through a bulk rejection's Cancel, and the place after it", async () => {
    const cse = await pendingOf("CSE", 27);
    await pendingOf("ECE", 1, 100);
    const admin = await adminClient();
    const place = "/admin/students?status=pending&department=CSE&sort=name&dir=asc&page=2";
    const queue = queueField((await admin.get(place)).body);
    const ticked = [cse[25]!, cse[26]!];
    const asked = await admin.post("/admin/students/reject", {
      ids: ticked.map((s) => String(s.id)),
      reason: "Marks card missing",
      queue,
    });
    expect(asked.statusCode).toBe(200);
    const cancel = /<a href="([^"]+)" class="button secondary" id="cancel"/.exec(asked.body)?.[1];
    expect(cancel).toBeDefined();
    const href = cancel!.replace(/&amp;/g, "&");
    expect(href.startsWith(`${place}&`)).toBe(true);
    const cancelled = await admin.get(href);
    expect(cancelled.statusCode).toBe(200);
    expect(names(cancelled.body)).toEqual(["CSE Student 26", "CSE Student 27"]);
    expect(cancelled.body).toMatch(
      /<input id="bulk-reason" name="reason" maxlength="200" value="Marks card missing"\/>/,
    );
    for (const s of ticked)
      expect(cancelled.body).toMatch(new RegExp(`value="${s.id}" checked aria-label`));
    expect(await smsRows()).toHaveLength(0);

    // Confirmed: page 2 is gone (25 left), so the list's last page, same filter and sort.
    const done = await confirm(admin, asked);
    expect(done.headers.location).toBe(
      "/admin/students?status=pending&department=CSE&sort=name&dir=asc",
    );
    expect(await smsRows()).toHaveLength(2);
  });

  it("opens the next pending student of the department being worked, after an approval or a rejection", async () => {
    // Registered in this order: the ECE student waits longest of all.
    const [ece] = await pendingOf("ECE", 1);
    const [cse1, cse2, cse3] = await pendingOf("CSE", 3, 10);
    const admin = await adminClient();
    const list = await admin.get("/admin/students?status=pending&department=CSE");
    const link = /<a href="(\/admin\/students\/\d+\?queue=[^"]+)">CSE Student 01<\/a>/.exec(
      list.body,
    )?.[1];
    expect(link).toBeDefined();
    const studentPage = await admin.get(link!.replace(/&amp;/g, "&"));
    expect(studentPage.statusCode).toBe(200);
    const queue = queueField(studentPage.body);
    expect(queue).toBe("status=pending&department=CSE");

    const approved = await admin.post(`/admin/students/${cse1!.id}/approve`, { queue });
    expect(approved.headers.location).toBe(
      `/admin/students/${cse2!.id}?queue=status%3Dpending%26department%3DCSE`,
    );
    expect(pageText((await admin.get(approved.headers.location!)).body)).toContain(
      "Next pending: CSE Student 02.",
    );

    // Reject from the page: Cancel on its confirmation keeps the reason and the queue.
    const asked = await admin.post(`/admin/students/${cse2!.id}/reject`, {
      reason: "Photo missing",
      queue,
    });
    const cancel = /<a href="([^"]+)" class="button secondary" id="cancel"/.exec(asked.body)?.[1];
    const again = await admin.get(cancel!.replace(/&amp;/g, "&"));
    expect(again.body).toContain('value="Photo missing"');
    expect(queueField(again.body)).toBe(queue);
    const rejected = await confirm(admin, asked);
    expect(rejected.headers.location).toBe(
      `/admin/students/${cse3!.id}?queue=status%3Dpending%26department%3DCSE`,
    );

    // The department done: back to its (empty) queue, not to the ECE student.
    const last = await admin.post(`/admin/students/${cse3!.id}/approve`, { queue });
    expect(last.headers.location).toBe("/admin/students?status=pending&department=CSE");
    expect(pageText((await admin.get(last.headers.location!)).body)).toContain(
      "No registrations are waiting any more.",
    );
    // Without a queue: the whole college's next, as before.
    const other = await createStudent(t.ctx, { full_name: "Late CSE", department: "CSE" });
    expect((await admin.post(`/admin/students/${other.id}/approve`)).headers.location).toBe(
      `/admin/students/${ece!.id}`,
    );
  });

  it("refuses a queue the list would refuse, with a clear 400", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    for (const queue of ["page=0", "sort=password", "year=1e309", "status=pending&page=2&page=3"]) {
      const page = await admin.get(
        `/admin/students/${student.id}?queue=${encodeURIComponent(queue)}`,
      );
      expect(page.statusCode, queue).toBe(400);
      expect(page.body).toContain("filter the list does not accept");
      const post = await admin.post(`/admin/students/${student.id}/approve`, { queue });
      expect(post.statusCode, queue).toBe(400);
    }
    expect(
      (await admin.get(`/admin/students/${student.id}?queue=status%3Dpending`)).statusCode,
    ).toBe(200);
  });
});

describe("semester", () => {
  it("moves a batch to the next semester after a confirmation saying how many, capped at 8, once", async () => {
    const ids: Record<string, number> = {};
    for (const [name, department, semester] of [
      ["Six", "CSE", 6],
      ["Seven", "CSE", 7],
      ["Eight", "CSE", 8],
      ["Blank", "CSE", null],
      ["Other", "ECE", 6],
    ] as const) {
      const s = await createStudent(t.ctx, {
        full_name: `Student ${name}`,
        department,
        approved: true,
      });
      await t.ctx.db.updateTable("students").set({ semester }).where("id", "=", s.id).execute();
      ids[name] = s.id;
    }
    const admin = await adminClient();
    const studentsPage = await admin.get("/admin/students?status=approved");
    expect(studentsPage.body).toContain('name="advance-semester"');
    expect(studentsPage.body).toContain("Advance semester…");

    const asked = await admin.post("/admin/students/advance-semester", {
      department: "CSE",
      graduation_year: "2027",
    });
    expect(asked.statusCode).toBe(200);
    const text = pageText(asked.body);
    expect(text).toContain("Advance the CSE, 2027 batch to the next semester?");
    expect(text).toContain("2 students move up one semester");
    expect(text).toContain("1 student in semester 8 or above stays where they are.");
    expect(text).toContain("1 student with no semester set stays blank");
    expect(text).toContain("Nobody gets an SMS.");
    const semesters = async () =>
      Object.fromEntries(
        (await t.ctx.db.selectFrom("students").select(["id", "semester"]).execute()).map((r) => [
          r.id,
          r.semester,
        ]),
      );
    expect(await semesters()).toMatchObject({ [ids.Six!]: 6, [ids.Seven!]: 7 });

    const done = await confirm(admin, asked);
    expect(done.statusCode).toBe(303);
    expect(await semesters()).toEqual({
      [ids.Six!]: 7,
      [ids.Seven!]: 8,
      [ids.Eight!]: 8,
      [ids.Blank!]: null,
      [ids.Other!]: 6,
    });
    // The same confirmed form again (a double click) moves nobody again.
    await confirm(admin, asked);
    expect((await semesters())[ids.Six!]).toBe(7);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.advance_semester")
      .execute();
    expect(audit.map((r) => JSON.parse(r.details))).toEqual([
      { department: "CSE", graduationYear: 2027, moved: 2 },
    ]);
    expect(pageText((await admin.get("/admin/audit")).body)).toContain(
      "Moved 2 students of the CSE, 2027 batch to the next semester",
    );
    // A year that is not a year is refused with words, nothing moves.
    await admin.post("/admin/students/advance-semester", {
      graduation_year: "soon",
      confirm: "yes",
    });
    expect(pageText((await admin.get("/admin/students?status=approved")).body)).toContain(
      "enter the graduation year",
    );
  });
});

describe("academic record", () => {
  it("is corrected by an admin, with the change in the audit log", async () => {
    const student = await createStudent(t.ctx, {
      cgpa: 7.1,
      active_backlogs: 1,
      department: "ECE",
    });
    const admin = await adminClient();
    const response = await admin.post(`/admin/students/${student.id}/academics`, {
      department: "ECE",
      semester: "7",
      graduation_year: "2027",
      cgpa: "7.45",
      active_backlogs: "0",
    });
    expect(response.statusCode).toBe(303);
    const row = await t.ctx.db
      .selectFrom("students")
      .selectAll()
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ cgpa: 7.45, active_backlogs: 0, department: "ECE" });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "student.update_academics")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details).changes).toEqual({
      cgpa: { from: 7.1, to: 7.45 },
      active_backlogs: { from: 1, to: 0 },
    });
    expect((await admin.get(`/admin/students/${student.id}`)).body).toContain(
      "Academic record updated: CGPA, active backlogs.",
    );
  });

  it("refuses a CGPA out of range beside the field", async () => {
    const student = await createStudent(t.ctx);
    const admin = await adminClient();
    const response = await admin.post(`/admin/students/${student.id}/academics`, {
      department: "CSE",
      graduation_year: "2027",
      cgpa: "11",
      active_backlogs: "0",
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(/id="f-cgpa-error"[^>]*>The CGPA must be between 0 and 10\./i);
    expect(response.body).toContain('value="11"');
  });
});

describe("a rejected registration at login", () => {
  const login = (email: string, password: string) =>
    new TestClient(t.app).post("/login", { email, password });

  it("is told, with the reason, once the password is its own; a wrong one gets the usual answer", async () => {
    const student = await createStudent(t.ctx, { full_name: "Kiran Das" });
    const admin = await adminClient();
    await admin.post(`/admin/students/${student.id}/reject`, {
      reason: "Marks card unreadable.",
      confirm: "yes",
    });

    const told = await login(` ${student.email.toUpperCase()} `, student.password);
    expect(told.statusCode).toBe(403);
    const text = pageText(told.body);
    expect(text).toMatch(
      /Your registration was not approved by the placement office on \d{1,2} \w{3} \d{4}\. The reason given: Marks card unreadable\. Contact the placement office about it/,
    );
    expect(text).not.toContain("Incorrect email or password");

    // Someone who knows only the email learns nothing.
    const guess = await login(student.email, "not the password");
    expect(guess.statusCode).toBe(401);
    expect(pageText(guess.body)).toContain("Incorrect email or password.");
    expect(pageText(guess.body)).not.toContain("not approved");

    // Kept hashed: the email appears nowhere in the row.
    const rows = await t.ctx.db.selectFrom("rejected_registrations").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(student.email);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$/);
  });

  it("is forgotten after the retention period, and when the person registers again", async () => {
    const first = await createStudent(t.ctx, { full_name: "Old Case" });
    const second = await createStudent(t.ctx, { full_name: "New Case" });
    const admin = await adminClient();
    for (const s of [first, second])
      await admin.post(`/admin/students/${s.id}/reject`, { reason: "Wrong", confirm: "yes" });

    // 181 days on: the usual answer.
    const old = new Date(Date.now() - 181 * 24 * 3600 * 1000).toISOString();
    await t.ctx.db.updateTable("rejected_registrations").set({ rejected_at: old }).execute();
    expect((await login(first.email, first.password)).statusCode).toBe(401);
    // The next rejection prunes it.
    const third = await createStudent(t.ctx, { full_name: "Third Case" });
    await admin.post(`/admin/students/${third.id}/reject`, { confirm: "yes" });
    expect(await t.ctx.db.selectFrom("rejected_registrations").selectAll().execute()).toHaveLength(
      1,
    );
    const told = pageText((await login(third.email, third.password)).body);
    expect(told).toContain("not approved by the placement office");
    expect(told).not.toContain("The reason given");

    // Registered again: the new registration answers (awaiting approval).
    const again = await new TestClient(t.app).postMultipart("/register", {
      full_name: "Third Case",
      roll_number: "1XY21CS777",
      email: third.email,
      phone: "98765 43210",
      department: "CSE",
      semester: "7",
      graduation_year: String(new Date().getUTCFullYear() + 1),
      cgpa: "8",
      active_backlogs: "0",
      password: "a new password",
      password_confirm: "a new password",
    });
    expect(again.statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("rejected_registrations").selectAll().execute()).toHaveLength(
      0,
    );
    expect(pageText((await login(third.email, "a new password")).body)).toContain(
      "awaiting approval",
    );
  });
});
