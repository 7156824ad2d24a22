// @both-databases: limits are counted in the database under concurrency, and a burst with one
// email is settled by locks and a unique constraint.
import { afterEach, describe, expect, it } from "vitest";
import { createAdmin, createTestApp, type TestApp } from "#test/support/app.ts";
import { type FormFields, loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { storedResumes } from "#test/support/resumes.ts";

let t: TestApp;
afterEach(async () => {
  await t.close();
});

let n = 0;
const form = (overrides: Record<string, string> = {}) => {
  n += 1;
  return {
    full_name: "Priya Sharma",
    roll_number: `1XY21CS${String(100 + n)}`,
    email: `priya${n}@college.test`,
    phone: `98765${String(10000 + n)}`,
    department: "CSE",
    semester: "7",
    graduation_year: "2027",
    cgpa: "8.75",
    active_backlogs: "0",
    skills: "",
    password: "a strong password",
    password_confirm: "a strong password",
    ...overrides,
  };
};

const from = (address: string) => new TestClient(t.app, { remoteAddress: address });

const users = async (email: string) =>
  t.ctx.db.selectFrom("users").select("id").where("email", "=", email).execute();

describe("registration limits", () => {
  it("takes 40 registrations an hour from one address with the default limits: a campus network", async () => {
    t = await createTestApp();
    const hostel = from("10.20.0.1");
    for (let i = 0; i < 40; i++) {
      const response = await hostel.postMultipart("/register", form());
      expect(response.statusCode, `registration ${i + 1}`).toBe(303);
    }
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(40);
  });

  it.each([
    ["email", { email: "same@college.test" }, "Too many registrations with this email."],
    ["roll number", { roll_number: "1XY21CS999" }, "Too many registrations with this roll number."],
    ["mobile number", { phone: "98450 99999" }, "Too many registrations with this mobile number."],
  ])("takes 5 attempts an hour with one %s, from any address", async (_, same, refusal) => {
    t = await createTestApp();
    // A form sent back with errors does not count: the student corrects it.
    expect(
      (await from("10.1.0.1").postMultipart("/register", form({ ...same, cgpa: "eleven" })))
        .statusCode,
    ).toBe(422);
    // Five attempts from five addresses, the other details new each time: every one is
    // "received" (a second one with a registered email or roll number is not a new account).
    for (let i = 0; i < 5; i++) {
      const response = await from(`10.1.0.${i + 2}`).postMultipart("/register", form(same));
      expect([303, 422], `attempt ${i + 1}`).toContain(response.statusCode);
    }
    const refused = await from("10.1.0.9").postMultipart("/register", form(same));
    expect(refused.statusCode).toBe(429);
    expect(refused.body).toContain(refusal);
    expect(refused.body).toMatch(/Try again in (59|60) minutes\./);
    // Other students are not affected.
    expect((await from("10.1.0.9").postMultipart("/register", form())).statusCode).toBe(303);
  });

  it("keeps a refused form's input, asks again only for the passwords and the resume, and says when", async () => {
    t = await createTestApp({ REGISTRATIONS_PER_ADDRESS_PER_HOUR: "1" });
    const lab = from("10.20.0.1");
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(303);
    const refused = await lab.postMultipart("/register", {
      ...form({ full_name: "Ravi Kumar", skills: "Java, SQL" }),
      resume: { filename: "cv.pdf", data: pdfBytes() },
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["retry-after"]).toMatch(/^(3540|3600)$/);
    expect(refused.body).toContain("Too many registrations from your network.");
    expect(refused.body).toMatch(/Try again in (59|60) minutes\./);
    expect(refused.body).toContain("type the password again and choose the resume file again");
    // The form, filled in as it was sent (but the passwords).
    expect(refused.body).toContain('<form method="post" action="/register"');
    expect(refused.body).toContain('value="Ravi Kumar"');
    expect(refused.body).toMatch(/value="priya\d+@college\.test"/);
    expect(refused.body).toContain('value="8.75"');
    expect(refused.body).toContain("Java, SQL</textarea>");
    expect(refused.body).not.toContain("a strong password");
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(1);
  });

  it("follows REGISTRATIONS_PER_ADDRESS_PER_HOUR as the default per address", async () => {
    t = await createTestApp({ REGISTRATIONS_PER_ADDRESS_PER_HOUR: "1" });
    const lab = from("10.20.0.1");
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(303);
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(429);
    // Another address is not affected.
    expect((await from("10.20.0.2").postMultipart("/register", form())).statusCode).toBe(303);
    // An hour later the lab may register again.
    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 61 * 60_000) };
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(303);
  });

  it("lets at most 5 of 30 registrations sent together with one email through, to one account", async () => {
    t = await createTestApp();
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        from(`10.30.0.${i + 1}`).postMultipart("/register", form({ email: "burst@college.test" })),
      ),
    );
    const codes = burst.map((r) => r.statusCode);
    // No 5xx and no 422: each is received or refused by the limit.
    for (const code of codes) expect([303, 429]).toContain(code);
    const through = codes.filter((c) => c === 303).length;
    expect(through).toBeGreaterThanOrEqual(1);
    expect(through).toBeLessThanOrEqual(5);
    expect(await users("burst@college.test")).toHaveLength(1);
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(1);
    // The owner is told once, however many got through.
    const notices = await t.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("kind", "=", "registration_attempt")
      .execute();
    expect(notices.length).toBe(through > 1 ? 1 : 0);
  });

  it("caps the disk used by the resumes of pending registrations", async () => {
    const resume = pdfBytes("a resume");
    t = await createTestApp({ PENDING_RESUMES_MAX_BYTES: String(resume.length * 2) });
    const details = (): FormFields => form();
    const post = (address: string, fields: FormFields) =>
      from(address).postMultipart("/register", fields);
    for (const address of ["10.0.0.1", "10.0.0.2"])
      expect(
        (await post(address, { ...details(), resume: { filename: "cv.pdf", data: resume } }))
          .statusCode,
      ).toBe(303);
    const uploads = () => storedResumes(t.ctx);
    expect(await uploads()).toHaveLength(2);

    const full = await post("10.0.0.3", {
      ...details(),
      resume: { filename: "cv.pdf", data: resume },
    });
    expect(full.statusCode).toBe(422);
    expect(full.body).toContain("cannot take more resumes");
    expect(full.body).toContain("Register without a resume now");
    expect(await uploads()).toHaveLength(2);
    // Without the resume the same student gets in.
    expect((await post("10.0.0.3", details())).statusCode).toBe(303);

    // Once the office approves one, its resume no longer counts.
    const admin = await createAdmin(t.ctx);
    const asAdmin = await loginAs(t.app, admin.email, admin.password);
    const first = await t.ctx.db
      .selectFrom("students")
      .innerJoin("resumes", "resumes.student_id", "students.id")
      .select(["students.id", "resumes.size"])
      .orderBy("students.id")
      .executeTakeFirstOrThrow();
    expect(first.size).toBe(resume.length);
    expect((await asAdmin.post(`/admin/students/${first.id}/approve`)).statusCode).toBe(303);
    expect(
      (await post("10.0.0.4", { ...details(), resume: { filename: "cv.pdf", data: resume } }))
        .statusCode,
    ).toBe(303);
  });
});
