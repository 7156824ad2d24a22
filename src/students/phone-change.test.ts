// @both-databases: confirmation codes are spent under concurrency, one UPDATE deciding each try.
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { confirm, pageText } from "#test/support/confirm.ts";

const t = useTestApp();

const NEW_PHONE = "+919123456789";

type Student = Awaited<ReturnType<typeof createStudent>>;

async function studentRow(id: number) {
  return t.ctx.db.selectFrom("students").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

/** The SMS of a kind, oldest first. */
function smsOfKind(kind: string) {
  return t.ctx.db
    .selectFrom("sms_messages")
    .select(["id", "to_e164", "body", "status", "student_id"])
    .where("kind", "=", kind as never)
    .orderBy("id")
    .execute();
}

/** The code in the newest confirmation SMS to `phone`, as the student reads it on that phone. */
async function codeSentTo(phone: string): Promise<string> {
  const codes = (await smsOfKind("phone_code")).filter((m) => m.to_e164 === phone);
  const body = codes.at(-1)?.body ?? "";
  const code = /\b(\d{6})\b/.exec(body)?.[1];
  if (!code) throw new Error(`no code was sent to ${phone}`);
  return code;
}

/** The profile form as the student sends it, keeping everything but what `fields` changes. */
function saveProfile(client: TestClient, student: Student, fields: Record<string, string>) {
  return client.postMultipart("/student/profile", {
    phone: student.phone,
    skills: student.skills,
    sms: "on",
    ...fields,
  });
}

async function askForNewNumber(client: TestClient, student: Student, phone = NEW_PHONE) {
  const response = await saveProfile(client, student, {
    phone,
    current_password: student.password,
  });
  expect(response.statusCode).toBe(303);
  expect(response.headers.location).toBe("/student/phone");
  return response;
}

const wrongCode = (code: string) => (code === "000000" ? "000001" : "000000");

describe("a student's change of mobile number", () => {
  it("is refused without the current password, or with a wrong one", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const form = await client.get("/student/profile");
    expect(form.body).toContain('name="current_password"');

    const without = await saveProfile(client, student, { phone: NEW_PHONE, skills: "Rust" });
    expect(without.statusCode).toBe(422);
    expect(pageText(without.body)).toContain(
      "Enter your current password to change your mobile number.",
    );
    // What was typed stays in the form.
    expect(without.body).toContain(`value="${NEW_PHONE}"`);

    const wrong = await saveProfile(client, student, {
      phone: NEW_PHONE,
      current_password: "not my password",
    });
    expect(wrong.statusCode).toBe(422);
    expect(pageText(wrong.body)).toContain("That is not your current password.");

    expect((await studentRow(student.id)).phone_e164).toBe(student.phone);
    expect(await smsOfKind("phone_code")).toEqual([]);
    // The wrong password counts as a failed login.
    const failures = await t.ctx.db
      .selectFrom("limit_events")
      .select("account")
      .where("kind", "=", "login_failure")
      .execute();
    expect(failures).toEqual([{ account: student.email }]);
  });

  it("with the password, sends a code to the new number and keeps the old one until it is entered", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const saved = await saveProfile(client, student, {
      phone: "+91 91234 56789",
      current_password: student.password,
      skills: "Rust, Go",
    });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe("/student/phone");

    // The other fields are saved at once; the number is not.
    const row = await studentRow(student.id);
    expect(row).toMatchObject({
      phone_e164: student.phone,
      skills: "Rust, Go",
      phone_changed_at: null,
    });
    const codes = await smsOfKind("phone_code");
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatchObject({
      to_e164: NEW_PHONE,
      status: "queued",
      student_id: student.id,
    });
    const code = await codeSentTo(NEW_PHONE);
    const stored = await t.ctx.db.selectFrom("phone_changes").selectAll().executeTakeFirstOrThrow();
    expect(stored.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.code_hash).not.toContain(code);
    expect(stored.new_e164).toBe(NEW_PHONE);
    // Nothing went to the old number yet.
    expect(await smsOfKind("phone_change")).toEqual([]);

    const page = await client.get("/student/phone");
    expect(page.statusCode).toBe(200);
    expect(pageText(page.body)).toContain(`We sent a 6-digit code by SMS to ${NEW_PHONE}.`);
    const profile = pageText((await client.get("/student/profile")).body);
    expect(profile).toContain(`Your new number ${NEW_PHONE} is waiting for the code`);
  });

  it("changes the number with the right code, tells the old number and records it", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student);
    const code = await codeSentTo(NEW_PHONE);

    const done = await client.post("/student/phone", {
      code: `${code.slice(0, 3)} ${code.slice(3)}`,
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/student/profile");
    expect(pageText((await client.get("/student/profile")).body)).toContain(
      `Your mobile number is now ${NEW_PHONE}.`,
    );

    const row = await studentRow(student.id);
    expect(row.phone_e164).toBe(NEW_PHONE);
    expect(row.phone_changed_at).not.toBeNull();
    const told = await smsOfKind("phone_change");
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ to_e164: student.phone, status: "queued" });
    expect(told[0]!.body).toContain(`was changed to a number ending ${NEW_PHONE.slice(-4)}`);
    expect(told[0]!.body).toContain("placement office");
    expect(told[0]!.body).toContain(student.roll_number);
    // The stored code SMS no longer holds the code.
    expect((await smsOfKind("phone_code"))[0]!.body).not.toContain(code);

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "actor_email", "details"])
      .where("action", "like", "student.phone%")
      .orderBy("id")
      .execute();
    expect(audit.map((a) => [a.action, a.actor_email])).toEqual([
      ["student.phone_change_requested", student.email],
      ["student.phone_changed", student.email],
    ]);
    const details = JSON.parse(audit[1]!.details);
    expect(details.from).toBe(`+91******${student.phone.slice(-4)}`);
    expect(details.to).toBe(`+91******${NEW_PHONE.slice(-4)}`);
    // Masked: the full numbers are not in the log.
    expect(audit.map((a) => a.details).join()).not.toContain(NEW_PHONE);
    expect(audit.map((a) => a.details).join()).not.toContain(student.phone);

    // Used once: the same code does nothing again.
    expect((await client.post("/student/phone", { code })).statusCode).toBe(303);
    expect(await smsOfKind("phone_change")).toHaveLength(1);
  });

  it("stops a code after five wrong tries: the right one is then refused", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student);
    const code = await codeSentTo(NEW_PHONE);
    for (let i = 0; i < 4; i++) {
      const wrong = await client.post("/student/phone", { code: wrongCode(code) });
      expect(wrong.statusCode).toBe(422);
      expect(pageText(wrong.body)).toContain("This code is wrong.");
    }
    const fifth = await client.post("/student/phone", { code: wrongCode(code) });
    expect(fifth.statusCode).toBe(303);
    const late = await client.post("/student/phone", { code });
    expect(late.statusCode).toBe(303);
    expect(pageText((await client.get("/student/profile")).body)).toContain(
      "The number was not changed",
    );
    expect((await studentRow(student.id)).phone_e164).toBe(student.phone);
    expect(await smsOfKind("phone_change")).toEqual([]);
  });

  it("compares at most five codes however many guesses arrive at once", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student);
    const code = await codeSentTo(NEW_PHONE);
    // Straight to the service: over HTTP the requests would queue up before reaching it.
    const { confirmPhoneChange } = await import("./phone-change.ts");
    const actor = { id: (await studentRow(student.id)).user_id, email: student.email };
    const guesses = await Promise.all(
      Array.from({ length: 30 }, () =>
        confirmPhoneChange(t.ctx, actor, student.id, wrongCode(code)),
      ),
    );
    // Each "wrong" answer is a code compared.
    expect(guesses.filter((g) => g.outcome === "wrong")).toHaveLength(5);
    expect((await confirmPhoneChange(t.ctx, actor, student.id, code)).outcome).toBe("none");

    const change = await t.ctx.db
      .selectFrom("phone_changes")
      .select(["attempts", "used_at"])
      .executeTakeFirstOrThrow();
    expect(change.attempts).toBeLessThanOrEqual(5);
    expect(change.used_at).toBeNull();
    expect((await studentRow(student.id)).phone_e164).toBe(student.phone);
    // Over HTTP too, the right code is refused now.
    expect((await client.post("/student/phone", { code })).statusCode).toBe(303);
    expect((await studentRow(student.id)).phone_e164).toBe(student.phone);
  });

  it("works only with the newest code, and not after 10 minutes", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student, "+919000000001");
    const first = await codeSentTo("+919000000001");
    await askForNewNumber(client, student);
    const second = await codeSentTo(NEW_PHONE);
    if (first !== second) {
      await client.post("/student/phone", { code: first });
      expect((await studentRow(student.id)).phone_e164).toBe(student.phone);
    }
    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 11 * 60_000) };
    expect((await client.post("/student/phone", { code: second })).statusCode).toBe(303);
    expect((await studentRow(student.id)).phone_e164).toBe(student.phone);
  });

  it("sends at most 3 codes an hour for an account", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    for (let i = 0; i < 3; i++) await askForNewNumber(client, student, `+91900000000${i}`);
    const fourth = await saveProfile(client, student, {
      phone: NEW_PHONE,
      current_password: student.password,
    });
    expect(fourth.statusCode).toBe(429);
    expect(pageText(fourth.body)).toContain("Too many codes were sent for new numbers");
    expect(await smsOfKind("phone_code")).toHaveLength(3);
  });

  it("cannot be hidden by turning SMS off in the same form", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await saveProfile(client, student, {
      phone: NEW_PHONE,
      current_password: student.password,
      sms: "",
    });
    expect((await studentRow(student.id)).sms_opted_out_at).not.toBeNull();
    const code = await codeSentTo(NEW_PHONE);
    expect((await smsOfKind("phone_code"))[0]!.status).toBe("queued");
    await client.post("/student/phone", { code });
    const told = await smsOfKind("phone_change");
    expect(told).toMatchObject([{ to_e164: student.phone, status: "queued" }]);
    // And the dispatcher's last look before sending lets both through.
    const { claimDue, sendCheck } = await import("../sms/outbox.ts");
    const claimed = await claimDue(t.ctx, "w1", 10);
    const kinds = claimed.filter((m) => m.kind === "phone_code" || m.kind === "phone_change");
    expect(kinds).toHaveLength(2);
    for (const row of kinds)
      expect(await sendCheck(t.ctx, row, "w1")).toEqual({
        leaseHeld: true,
        optedOut: false,
        secretExpired: false,
        late: false,
        cancelReason: null,
      });
    const approval = claimed.find((m) => m.kind === "approval")!;
    expect((await sendCheck(t.ctx, approval, "w1")).optedOut).toBe(true);
  });
});

describe("the SMS console and the change-of-number SMS", () => {
  it("resends a failed notice to the number it was for, never a code", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student);
    await client.post("/student/phone", { code: await codeSentTo(NEW_PHONE) });
    const [code] = await smsOfKind("phone_code");
    const [notice] = await smsOfKind("phone_change");
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ status: "failed" })
      .where("id", "in", [code!.id, notice!.id])
      .execute();
    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);

    await staff.post(`/admin/sms/${code!.id}/resend`);
    expect(pageText((await staff.get(`/admin/sms/${code!.id}`)).body)).toContain(
      "A phone confirmation code is not resent",
    );
    expect(await smsOfKind("phone_code")).toHaveLength(1);

    expect((await staff.post(`/admin/sms/${notice!.id}/resend`)).statusCode).toBe(303);
    const notices = await smsOfKind("phone_change");
    // To the old number again, not to the student's number now.
    expect(notices.map((m) => m.to_e164)).toEqual([student.phone, student.phone]);
  });
});

describe("a password reset after a change of number", () => {
  it("sends no code for 24 hours, then does, to the new number", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student);
    await client.post("/student/phone", { code: await codeSentTo(NEW_PHONE) });
    expect((await studentRow(student.id)).phone_e164).toBe(NEW_PHONE);

    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 23 * 3600_000) };
    const anonymous = new TestClient(t.app);
    const asked = await anonymous.post("/password/forgot", { email: student.email });
    expect(asked.statusCode).toBe(303);
    const answer = pageText((await anonymous.get("/password/reset")).body);
    expect(answer).toContain(
      "If your mobile number changed in the last 24 hours, no code is sent: contact the placement office.",
    );
    expect(await smsOfKind("password_reset")).toEqual([]);
    const refusal = await t.ctx.db
      .selectFrom("audit_log")
      .select("details")
      .where("action", "=", "password_reset.requested")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(refusal.details)).toMatchObject({ sent: false });

    t.ctx.clock = { now: () => new Date(start + 24 * 3600_000 + 60_000) };
    await anonymous.post("/password/forgot", { email: student.email });
    expect(await smsOfKind("password_reset")).toMatchObject([{ to_e164: NEW_PHONE }]);
  });
});

describe("an admin's correction of a student's number", () => {
  it("is confirmed first, then audited, tells both numbers and holds off a reset", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    // A change the student asked for meanwhile stops working.
    const own = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(own, student, "+919000000009");
    const pendingCode = await codeSentTo("+919000000009");

    const admin = await createAdmin(t.ctx);
    const staff = await loginAs(t.app, admin.email, admin.password);
    const page = await staff.get(`/admin/students/${student.id}`);
    expect(page.body).toContain(`action="/admin/students/${student.id}/phone"`);

    const asked = await staff.post(`/admin/students/${student.id}/phone`, {
      phone: "91234 56789",
    });
    expect(asked.statusCode).toBe(200);
    const confirmation = pageText(asked.body);
    expect(confirmation).toContain(`The old number ${student.phone} gets:`);
    expect(confirmation).toContain(`The new number ${NEW_PHONE} gets:`);
    expect((await studentRow(student.id)).phone_e164).toBe(student.phone);

    const done = await confirm(staff, asked);
    expect(done.statusCode).toBe(303);
    const row = await studentRow(student.id);
    expect(row.phone_e164).toBe(NEW_PHONE);
    expect(row.phone_changed_at).not.toBeNull();

    const told = await smsOfKind("phone_change");
    expect(told.map((m) => m.to_e164)).toEqual([student.phone, NEW_PHONE]);
    expect(told[0]!.body).toContain(
      `the placement office changed the mobile number of account ${student.roll_number} to a number ending ${NEW_PHONE.slice(-4)}`,
    );
    expect(told[1]!.body).toContain("this number is now registered");
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["actor_email", "details"])
      .where("action", "=", "student.phone_corrected")
      .executeTakeFirstOrThrow();
    expect(audit.actor_email).toBe(admin.email);
    expect(JSON.parse(audit.details)).toMatchObject({
      studentId: student.id,
      to: `+91******${NEW_PHONE.slice(-4)}`,
    });
    const words = pageText((await staff.get("/admin/audit")).body);
    expect(words).toContain(
      `Changed the mobile number of ${student.full_name} (${student.roll_number})`,
    );

    // Sent again (a double click): nothing changes twice.
    expect((await confirm(staff, asked)).statusCode).toBe(303);
    expect(await smsOfKind("phone_change")).toHaveLength(2);

    // The student's own pending change is void.
    await own.post("/student/phone", { code: pendingCode });
    expect((await studentRow(student.id)).phone_e164).toBe(NEW_PHONE);

    // And no reset code for a day.
    await new TestClient(t.app).post("/password/forgot", { email: student.email });
    expect(await smsOfKind("password_reset")).toEqual([]);
  });
});

describe("the confirmation code in admins' sight", () => {
  it("is masked on the SMS console, the message page and the student's page", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, student.email, student.password);
    await askForNewNumber(client, student);
    const code = await codeSentTo(NEW_PHONE);
    const [sms] = await smsOfKind("phone_code");
    const staff = await loginAs(t.app, admin.email, admin.password);
    for (const url of [
      "/admin/sms",
      "/admin/sms?kind=phone_code",
      `/admin/sms/${sms!.id}`,
      `/admin/students/${student.id}`,
    ]) {
      const page = await staff.get(url);
      expect(page.statusCode, url).toBe(200);
      expect(new RegExp(`(?<!\\d)${code}(?!\\d)`).test(page.body), `${url} shows the code`).toBe(
        false,
      );
    }
  });
});
