import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { type FormFields, loginAs, type TestClient } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { toLocalInput } from "../web/time.ts";

const t = useTestApp();

async function admin(): Promise<TestClient> {
  const a = await createAdmin(t.ctx, "office@college.test");
  return loginAs(t.app, a.email, a.password);
}

const APPROVAL_V2 =
  "Hello {name}: registration {roll_number} approved. Log in to the Placement Portal to apply.";

function save(
  client: TestClient,
  id: string,
  fields: { text: string; dlt_template_id?: string; base_version?: string; action?: string },
) {
  return client.post(`/admin/sms/templates/${id}`, {
    base_version: "1",
    dlt_template_id: "",
    action: "save",
    ...fields,
  });
}

function versions(id: string) {
  return t.ctx.db
    .selectFrom("sms_templates")
    .selectAll()
    .where("template_id", "=", id)
    .orderBy("version")
    .execute();
}

function messages(kind: "approval" | "job_posted") {
  return t.ctx.db
    .selectFrom("sms_messages")
    .select(["body", "template_id", "template_version", "student_id", "status"])
    .where("kind", "=", kind)
    .orderBy("id")
    .execute();
}

/** The error shown under a field of the edit form. */
function fieldError(body: string, field: string): string | undefined {
  const match = new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(body)?.[1];
  return match === undefined ? undefined : pageText(match.replace(/&#34;/g, '"')).trim();
}

describe("SMS templates", () => {
  it("lists every template at version 1, its default text, and an edit makes version 2 with an audit entry", async () => {
    const client = await admin();
    const list = pageText((await client.get("/admin/sms/templates")).body);
    for (const title of [
      "Registration approved",
      "Registration rejected",
      "Status update",
      "Job alert",
      "Announcement",
      "Password reset code",
      "Test message",
    ])
      expect(list).toContain(title);
    expect(list).toContain("Default text (never edited)");
    expect(list).toContain(
      "Dear {name}, your Placement Portal account ({roll_number}) has been approved.",
    );
    expect((await client.get("/admin")).body).toContain('href="/admin/sms/templates"');

    const saved = await save(client, "approval", {
      text: APPROVAL_V2,
      dlt_template_id: "1107161234567890123",
    });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe("/admin/sms/templates/approval");
    expect(await versions("approval")).toMatchObject([
      {
        version: 2,
        text: APPROVAL_V2,
        dlt_template_id: "1107161234567890123",
        created_by: "office@college.test",
      },
    ]);
    const page = pageText((await client.get("/admin/sms/templates/approval")).body);
    expect(page).toContain("Saved version 2 of “Registration approved”");
    expect(page).toContain("Version 2 (current): office@college.test");
    expect(page).toContain("DLT template id 1107161234567890123");
    expect(page).toContain("Version 1: Default text (never edited)");
    expect(page).toContain("Save as version 3");
    const after = pageText((await client.get("/admin/sms/templates")).body);
    expect(after).toContain(APPROVAL_V2);
    expect(after).toContain("1107161234567890123");

    const audit = pageText((await client.get("/admin/audit")).body);
    expect(audit).toContain("Edited the SMS template “Registration approved”");
    expect(audit).toContain("Version 1 → version 2, DLT template id 1107161234567890123");
    expect(audit).not.toContain("sms_template");

    // The same text and id again: no new version.
    const again = await save(client, "approval", {
      text: APPROVAL_V2,
      dlt_template_id: "1107161234567890123",
      base_version: "2",
    });
    expect(again.statusCode).toBe(303);
    expect(await versions("approval")).toHaveLength(1);
    expect(pageText((await client.get("/admin/sms/templates/approval")).body)).toContain(
      "Nothing changed",
    );
  });

  it("keeps the text and version of a message queued before the edit; one queued after uses version 2", async () => {
    const before = await createStudent(t.ctx, { approved: true, full_name: "Asha Rao" });
    const client = await admin();
    expect((await save(client, "approval", { text: APPROVAL_V2 })).statusCode).toBe(303);
    const after = await createStudent(t.ctx, { approved: true, full_name: "Ravi Kumar" });

    const rows = await messages("approval");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      student_id: before.id,
      template_id: "approval",
      template_version: 1,
      body: `Dear Asha, your Placement Portal account (${before.roll_number}) has been approved. You can now log in and apply for jobs.`,
    });
    expect(rows[1]).toMatchObject({
      student_id: after.id,
      template_id: "approval",
      template_version: 2,
      body: `Hello Ravi: registration ${after.roll_number} approved. Log in to the Placement Portal to apply.`,
    });
  });

  it.each([
    [
      "Dear {nmae}, approved.",
      "{nmae} is not a variable of this template; it can use {name}, {roll_number}.",
    ],
    ["Dear {name, approved.", 'A "{" has no "}" after it'],
    ["Dear name}, approved.", 'A "}" has no "{" before it'],
    ["", "Enter the text of the SMS."],
    ["Dear {name},\u0000 approved.", "Remove the invisible control characters"],
    [
      `Dear {name}, ${"approved and more. ".repeat(20)}`,
      'Too long: this text takes 3 segments in GSM-7 even with {name} cut to "...", and this template may take at most 2.',
    ],
  ])("refuses %j with a field error and saves nothing", async (text, message) => {
    const client = await admin();
    const refused = await save(client, "approval", { text });
    expect(refused.statusCode).toBe(422);
    expect(fieldError(refused.body, "text")).toContain(message);
    expect(await versions("approval")).toHaveLength(0);
  });

  it("refuses a DLT template id that is not 19 digits, and stores the sender's entity id and header", async () => {
    const client = await admin();
    for (const id of ["110716123456789012", "11071612345678901234", "1107161234567890abc"]) {
      const refused = await save(client, "approval", { text: APPROVAL_V2, dlt_template_id: id });
      expect(refused.statusCode).toBe(422);
      expect(fieldError(refused.body, "dlt_template_id")).toContain(
        "A DLT template id is 19 digits",
      );
    }
    expect(await versions("approval")).toHaveLength(0);

    const badEntity = await client.post("/admin/sms/templates/dlt", {
      entity_id: "12345",
      header: "PLACEMENT",
    });
    expect(badEntity.statusCode).toBe(422);
    expect(fieldError(badEntity.body, "entity_id")).toContain("A DLT entity id is 19 digits");
    expect(fieldError(badEntity.body, "header")).toContain("6 letters");

    const ok = await client.post("/admin/sms/templates/dlt", {
      entity_id: "1201159876543210987",
      header: "plcoff",
    });
    expect(ok.statusCode).toBe(303);
    const settings = await t.ctx.db
      .selectFrom("sms_dlt_settings")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(settings).toMatchObject({
      entity_id: "1201159876543210987",
      header: "PLCOFF",
      updated_by: "office@college.test",
    });
    const page = (await client.get("/admin/sms/templates")).body;
    expect(page).toContain('value="1201159876543210987"');
    expect(page).toContain('value="PLCOFF"');
    expect(pageText((await client.get("/admin/audit")).body)).toContain(
      "Changed the sender's DLT registration for SMS",
    );
  });

  it("tells every error at once, and the preview of a form sent back shows the text typed", async () => {
    const client = await admin();
    const both = await save(client, "approval", {
      text: "Dear {nmae}, approved.",
      dlt_template_id: "12345",
    });
    expect(both.statusCode).toBe(422);
    expect(fieldError(both.body, "text")).toContain("{nmae} is not a variable of this template");
    expect(fieldError(both.body, "dlt_template_id")).toContain("A DLT template id is 19 digits");
    const preview = (body: string) =>
      pageText(/data-testid="preview-body"[^>]*>([^<]*)</.exec(body)?.[1] ?? "");
    expect(preview(both.body)).toBe("Dear {nmae}, approved.");

    // A text that is right, beside a wrong DLT id: filled in with the sample values.
    const idOnly = await save(client, "approval", { text: APPROVAL_V2, dlt_template_id: "12345" });
    expect(idOnly.statusCode).toBe(422);
    expect(preview(idOnly.body)).toBe(
      "Hello Asha: registration 1XY21CS001 approved. Log in to the Placement Portal to apply.",
    );
    expect(await versions("approval")).toHaveLength(0);
  });

  it("previews the text with sample values, its encoding and segments; Unicode makes it UCS-2", async () => {
    const client = await admin();
    const page = pageText((await client.get("/admin/sms/templates/approval")).body);
    expect(page).toContain(
      "Dear Asha, your Placement Portal account (1XY21CS001) has been approved.",
    );
    expect(page).toMatch(/GSM-7, \d+ characters, 1 segment \(at most 2\)/);

    const gsm = await save(client, "approval", { text: APPROVAL_V2, action: "preview" });
    expect(gsm.statusCode).toBe(200);
    expect(pageText(gsm.body)).toContain(
      "Hello Asha: registration 1XY21CS001 approved. Log in to the Placement Portal to apply.",
    );
    expect(pageText(gsm.body)).toContain("GSM-7, 86 characters, 1 segment (at most 2)");

    const hindi = await save(client, "approval", {
      text: "प्रिय {name}, आपका खाता ({roll_number}) स्वीकृत हो गया है।",
      action: "preview",
    });
    expect(hindi.statusCode).toBe(200);
    const text = pageText(hindi.body);
    expect(text).toContain("प्रिय Asha, आपका खाता (1XY21CS001) स्वीकृत हो गया है।");
    expect(text).toMatch(
      /UCS-2 \(Unicode: 70 characters a segment, 67 when split\), \d+ characters, 1 segment/,
    );
    // A preview saves nothing.
    expect(await versions("approval")).toHaveLength(0);
  });

  it("settles two saves at once: one gets version 2, the other is told the template changed", async () => {
    const one = await admin();
    const other = await createAdmin(t.ctx, "head@college.test");
    const two = await loginAs(t.app, other.email, other.password);
    const [a, b] = await Promise.all([
      save(one, "rejection", { text: "Dear {name}, not approved ({roll_number}): {reason}." }),
      save(two, "rejection", { text: "Sorry {name}, {roll_number} was not approved: {reason}." }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([303, 409]);
    const stored = await versions("rejection");
    expect(stored).toHaveLength(1);
    expect(stored[0]!.version).toBe(2);
    const loser = a.statusCode === 409 ? a : b;
    expect(pageText(loser.body)).toContain(
      `Not saved: ${stored[0]!.created_by} saved version 2 while you were editing.`,
    );
    // Saving from an old version later is refused the same way.
    const stale = await save(one, "rejection", { text: "Dear {name}: {reason}. ({roll_number})" });
    expect(stale.statusCode).toBe(409);
    expect(await versions("rejection")).toHaveLength(1);
  });

  it("rewrites a job's queued alerts in the version they were queued with when the job is edited", async () => {
    await createStudent(t.ctx, { approved: true });
    const client = await admin();
    const jobForm = (title: string) => ({
      company: "Bosch",
      title,
      type: "placement",
      description: "Embedded systems.",
      location: "Bengaluru",
      package_range: "7-8 LPA",
      official_link: "",
      apply_by: toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString()),
      send_sms: "on",
      intent: "post",
      submission_id: randomUUID(),
    });
    expect((await client.post("/admin/jobs/new", jobForm("Trainee"))).statusCode).toBe(303);
    const job = await t.ctx.db.selectFrom("jobs").select("id").executeTakeFirstOrThrow();
    expect(
      (
        await save(client, "job_posted", {
          text: "Job: {company} {title} ({type}), apply by {apply_by}.",
        })
      ).statusCode,
    ).toBe(303);

    const edit = await client.post(`/admin/jobs/${job.id}`, jobForm("Graduate Engineer Trainee"));
    expect(edit.statusCode).toBe(303);
    const [first] = await messages("job_posted");
    expect(first).toMatchObject({ template_version: 1, status: "queued" });
    expect(first!.body).toMatch(
      /^New opportunity: Bosch - Graduate Engineer Trainee \(placement\)\. You are eligible\. Apply by /,
    );

    // A job posted after the edit uses version 2.
    expect((await client.post("/admin/jobs/new", jobForm("Intern"))).statusCode).toBe(303);
    const [, second] = await messages("job_posted");
    expect(second).toMatchObject({ template_version: 2 });
    expect(second!.body).toMatch(/^Job: Bosch Intern \(placement\), apply by /);
  });

  it("answers hostile edit forms with a refusal, never a 5xx, and saves nothing", async () => {
    const client = await admin();
    const bodies: FormFields[] = [
      {},
      { text: ["{name}", "{roll_number}"], base_version: "1" },
      { text: "Dear {name}", base_version: "999999999" },
      { text: "Dear {name}", base_version: "-1" },
      { text: "Dear {name}", base_version: "1e3" },
      { text: "x".repeat(5000), base_version: "1" },
      { text: "Dear {name}", base_version: "1", action: "delete" },
      { text: "Dear \u0007{name}", base_version: "1" },
      { text: "Dear {name}", base_version: "1", dlt_template_id: ["1", "2"] },
      { text: "{constructor} {__proto__}", base_version: "1" },
    ];
    for (const body of bodies) {
      const response = await client.post("/admin/sms/templates/approval", body);
      expect(response.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, JSON.stringify(body)).toBeLessThan(500);
    }
    expect(await versions("approval")).toHaveLength(0);
  });

  it("answers 404 for a template that does not exist", async () => {
    const client = await admin();
    expect((await client.get("/admin/sms/templates/nothing")).statusCode).toBe(404);
    expect((await save(client, "nothing", { text: "x" })).statusCode).toBe(404);
  });
});
