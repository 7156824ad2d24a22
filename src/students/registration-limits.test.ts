// @both-databases: limits are counted in the database under concurrency.
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

describe("registration limits", () => {
  it("takes 5 registrations an hour from one address, and says when to try again", async () => {
    t = await createTestApp();
    const lab = from("10.20.0.1");
    // A form sent back with errors does not count.
    expect((await lab.postMultipart("/register", form({ cgpa: "eleven" }))).statusCode).toBe(422);
    for (let i = 0; i < 5; i++) {
      const response = await lab.postMultipart("/register", form());
      expect(response.statusCode, `registration ${i + 1}`).toBe(303);
    }
    const refused = await lab.postMultipart("/register", form());
    expect(refused.statusCode).toBe(429);
    expect(refused.body).toContain("Too many registrations from your network in the last hour.");
    expect(refused.body).toMatch(/Try again in (59|60) minutes\./);
    expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
    // Another address is not affected.
    expect((await from("10.20.0.2").postMultipart("/register", form())).statusCode).toBe(303);
    const students = await t.ctx.db.selectFrom("students").select("id").execute();
    expect(students).toHaveLength(6);
    // An hour later the lab may register again.
    const start = Date.now();
    t.ctx.clock = { now: () => new Date(start + 61 * 60_000) };
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(303);
  });

  it("follows REGISTRATIONS_PER_ADDRESS_PER_HOUR", async () => {
    t = await createTestApp({ REGISTRATIONS_PER_ADDRESS_PER_HOUR: "1" });
    const lab = from("10.20.0.1");
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(303);
    expect((await lab.postMultipart("/register", form())).statusCode).toBe(429);
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
