import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { storedResumes } from "#test/support/resumes.ts";

const t = useTestApp({ RESUME_MAX_BYTES: "2048" });

const form = (overrides: Record<string, string> = {}) => ({
  full_name: "Priya Sharma",
  roll_number: "1xy21cs042",
  email: "Priya.Sharma@College.test",
  phone: "98765 43210",
  department: "CSE",
  semester: "7",
  graduation_year: "2027",
  cgpa: "8.75",
  active_backlogs: "0",
  skills: "Python, SQL",
  password: "a strong password",
  password_confirm: "a strong password",
  ...overrides,
});

const uploads = () => storedResumes(t.ctx);

describe("student registration", () => {
  it("shows a labelled form", async () => {
    const response = await new TestClient(t.app).get("/register");
    expect(response.statusCode).toBe(200);
    for (const name of [
      "full_name",
      "roll_number",
      "email",
      "phone",
      "department",
      "cgpa",
      "active_backlogs",
      "resume",
    ]) {
      expect(response.body).toContain(`<label for="f-${name}"`);
    }
    expect(response.body).toContain('enctype="multipart/form-data"');
  });

  it("registers a pending student with a normalised phone, email and roll number, and their resume", async () => {
    const client = new TestClient(t.app);
    const response = await client.postMultipart("/register", {
      ...form(),
      resume: { filename: "cv.pdf", data: pdfBytes() },
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/register/done");
    expect((await client.get("/register/done")).body).toContain("awaiting approval");

    const row = await t.ctx.db
      .selectFrom("students")
      .innerJoin("users", "users.id", "students.user_id")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      email: "priya.sharma@college.test",
      roll_number: "1XY21CS042",
      phone_e164: "+919876543210",
      department: "CSE",
      semester: 7,
      graduation_year: 2027,
      cgpa: 8.75,
      active_backlogs: 0,
      approved_at: null,
      role: "student",
    });
    // In the database, where every web process reads it; nothing under DATA_DIR.
    expect(row.resume_path).toBeNull();
    const pdf = pdfBytes();
    const student = await t.ctx.db
      .selectFrom("students")
      .select(["id", "created_at"])
      .executeTakeFirstOrThrow();
    expect(await uploads()).toEqual([
      {
        student_id: student.id,
        size: pdf.length,
        sha256: createHash("sha256").update(pdf).digest("hex"),
        uploaded_at: student.created_at,
      },
    ]);
    expect(existsSync(join(t.dataDir, "uploads"))).toBe(false);
  });

  it("refuses an invalid phone number beside its field and keeps the rest of the input", async () => {
    const response = await new TestClient(t.app).postMultipart(
      "/register",
      form({ phone: "12345" }),
    );
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(/id="f-phone-error"[^>]*>This is not a valid phone number\./);
    expect(response.body).toContain('value="Priya Sharma"');
    expect(response.body).toContain('value="12345"');
    expect(response.body).not.toContain("a strong password");
    expect(await t.ctx.db.selectFrom("users").select("id").execute()).toHaveLength(0);
  });

  it("asks for the semester: jobs may be limited to semesters", async () => {
    const page = await new TestClient(t.app).get("/register");
    expect(page.body).toMatch(/<input id="f-semester" name="semester" type="number" required/);
    for (const semester of ["", "  "]) {
      const response = await new TestClient(t.app).postMultipart("/register", form({ semester }));
      expect(response.statusCode).toBe(422);
      expect(response.body).toMatch(
        /id="f-semester-error"[^>]*>(Enter your current semester\.|Your current semester must be a whole number)/,
      );
    }
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toHaveLength(0);
  });

  it("refuses a landline", async () => {
    const response = await new TestClient(t.app).postMultipart(
      "/register",
      form({ phone: "080 2345 6789" }),
    );
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain("cannot receive SMS");
  });

  it.each([
    [{ cgpa: "10.5" }, "cgpa", "the CGPA must be between 0 and 10."],
    [{ cgpa: "abc" }, "cgpa", "the CGPA must be a number."],
    [{ active_backlogs: "-1" }, "active_backlogs", "between 0 and 60"],
    [{ email: "not-an-email" }, "email", "Enter a valid email address."],
    [{ password_confirm: "something else" }, "password_confirm", "The two passwords do not match."],
    [{ password: "short", password_confirm: "short" }, "password", "Use at least 8 characters."],
    [{ department: "XYZ" }, "department", "Choose the department."],
    [{ full_name: "" }, "full_name", "Enter your full name."],
  ])("refuses a malformed form: %j", async (overrides, field, message) => {
    const response = await new TestClient(t.app).postMultipart("/register", form(overrides));
    expect(response.statusCode).toBe(422);
    const error = new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(response.body)?.[1];
    expect(error?.toLowerCase()).toContain(message.toLowerCase());
  });

  it("answers an email that has an account exactly as a new one, and tells the owner by SMS instead", async () => {
    const visitor = new TestClient(t.app);
    const first = await visitor.postMultipart("/register", form());
    const firstPage = await visitor.get("/register/done");
    const again = new TestClient(t.app);
    const second = await again.postMultipart("/register", {
      ...form({ full_name: "Someone Else", roll_number: "1XY21CS043", phone: "98450 11111" }),
      resume: { filename: "cv.pdf", data: pdfBytes() },
    });
    const secondPage = await again.get("/register/done");
    for (const response of [first, second]) {
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe("/register/done");
    }
    expect(second.body).toBe(first.body);
    const words = (html: string) => html.replace(/name="_csrf" value="[^"]+"/, "");
    expect(words(secondPage.body)).toBe(words(firstPage.body));

    // No second account, no resume kept from the attempt.
    expect(await t.ctx.db.selectFrom("users").select("id").execute()).toHaveLength(1);
    expect(await uploads()).toHaveLength(0);
    // The owner's phone gets one SMS naming the account; the number that was typed gets none.
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .select(["kind", "to_e164", "body", "status"])
      .execute();
    expect(sms).toEqual([
      {
        kind: "registration_attempt",
        to_e164: "+919876543210",
        body: "Placement Portal: someone tried to register again with the email of your account 1XY21CS042. If it was you, log in or use Forgot password.",
        status: "queued",
      },
    ]);
    // Once an hour at most: a third attempt answers the same and sends nothing more.
    const third = await new TestClient(t.app).postMultipart(
      "/register",
      form({ roll_number: "1XY21CS044", phone: "98450 22222" }),
    );
    expect(third.statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("sms_messages").select("id").execute()).toHaveLength(1);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "subject", "details"])
      .execute();
    expect(audit).toEqual([
      {
        action: "registration.existing_email",
        subject: "priya.sharma@college.test",
        details: JSON.stringify({ address: "127.0.0.1", sent: true }),
      },
    ]);
  });

  it("sends no SMS for an admin's email or a student who opted out, and still answers the same", async () => {
    const admin = await createAdmin(t.ctx, "tpo@college.test");
    const quiet = await createStudent(t.ctx, { email: "quiet@college.test" });
    await t.ctx.db
      .updateTable("students")
      .set({ sms_opted_out_at: new Date().toISOString() })
      .where("id", "=", quiet.id)
      .execute();
    for (const [email, roll] of [
      [admin.email, "1XY21CS050"],
      [quiet.email, "1XY21CS051"],
    ] as const) {
      const response = await new TestClient(t.app).postMultipart(
        "/register",
        form({ email, roll_number: roll }),
      );
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe("/register/done");
    }
    expect(await t.ctx.db.selectFrom("sms_messages").select("id").execute()).toHaveLength(0);
    expect(await t.ctx.db.selectFrom("users").select("id").execute()).toHaveLength(2);
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["subject", "details"])
      .where("action", "=", "registration.existing_email")
      .orderBy("id")
      .execute();
    expect(audit.map((a) => [a.subject, JSON.parse(a.details).reason])).toEqual([
      ["tpo@college.test", "an admin account"],
      ["quiet@college.test", "the student opted out of SMS"],
    ]);
  });

  it("refuses a roll number already registered beside its field, whatever the email", async () => {
    const client = new TestClient(t.app);
    expect((await client.postMultipart("/register", form())).statusCode).toBe(303);
    for (const email of ["other@college.test", "Priya.Sharma@College.test"]) {
      const sameRoll = await client.postMultipart(
        "/register",
        form({ email, roll_number: "1XY21CS042", resume: "" }),
      );
      expect(sameRoll.statusCode).toBe(422);
      expect(sameRoll.body).toMatch(
        /id="f-roll_number-error"[^>]*>This roll number is already registered\. Contact the placement office if this is yours\./,
      );
    }
    expect(await t.ctx.db.selectFrom("users").select("id").execute()).toHaveLength(1);
    expect(await t.ctx.db.selectFrom("sms_messages").select("id").execute()).toHaveLength(0);
  });

  it("refuses a resume that is not a PDF by content, whatever its name", async () => {
    const response = await new TestClient(t.app).postMultipart("/register", {
      ...form(),
      resume: {
        filename: "cv.pdf",
        data: Buffer.from("MZ\x90\x00 this is an executable"),
        type: "application/pdf",
      },
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain("The resume must be a PDF file.");
    expect(await uploads()).toHaveLength(0);
    expect(await t.ctx.db.selectFrom("users").select("id").execute()).toHaveLength(0);
  });

  it("refuses a resume over the size limit beside its field", async () => {
    const response = await new TestClient(t.app).postMultipart("/register", {
      ...form(),
      resume: { filename: "cv.pdf", data: Buffer.concat([pdfBytes(), Buffer.alloc(4096, 32)]) },
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(/id="f-resume-error"[^>]*>The resume must be at most/);
    expect(await uploads()).toHaveLength(0);
  });

  it("reports every field error in one round, the resume's too, and keeps what was typed", async () => {
    const response = await new TestClient(t.app).postMultipart("/register", {
      ...form({ phone: "12345", password_confirm: "something else", cgpa: "11" }),
      resume: { filename: "cv.pdf", data: Buffer.from("MZ\x90\x00 not a pdf") },
    });
    expect(response.statusCode).toBe(422);
    const fieldError = (field: string) =>
      new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(response.body)?.[1];
    expect(fieldError("phone")).toBe("This is not a valid phone number.");
    expect(fieldError("password_confirm")).toBe("The two passwords do not match.");
    expect(fieldError("cgpa")).toBe("The CGPA must be between 0 and 10.");
    expect(fieldError("resume")).toBe("The resume must be a PDF file.");
    expect(response.body).toContain("Please correct the 4 fields marked below.");
    expect(response.body).toContain('value="Priya Sharma"');
    expect(response.body).not.toContain("a strong password");
    expect(response.body).toContain(
      "Type it again, twice: a form sent back never keeps a password.",
    );
  });

  it("says beside the file field that a chosen resume must be chosen again", async () => {
    const response = await new TestClient(t.app).postMultipart("/register", {
      ...form({ password_confirm: "something else" }),
      resume: { filename: "my cv.pdf", data: pdfBytes() },
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(
      /id="f-resume-error"[^>]*>Choose the file \(my cv\.pdf\) again: a form sent back cannot keep it\.</,
    );
    expect(response.body).toMatch(/id="f-password_confirm-error"/);
    expect(await uploads()).toHaveLength(0);
  });

  it("tells a roll number already registered and a resume refused in one round", async () => {
    const client = new TestClient(t.app);
    expect((await client.postMultipart("/register", form())).statusCode).toBe(303);
    const response = await client.postMultipart("/register", {
      ...form({ email: "other@college.test" }),
      resume: { filename: "cv.pdf", data: Buffer.from("MZ\x90\x00 not a pdf") },
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toMatch(/id="f-roll_number-error"[^>]*>This roll number is already/);
    expect(response.body).toMatch(/id="f-resume-error"[^>]*>The resume must be a PDF file\./);
  });

  it("renders a name like <script> as text everywhere", async () => {
    const client = new TestClient(t.app);
    await client.postMultipart(
      "/register",
      form({ full_name: "<script>alert(1)</script>", skills: "<img src=x onerror=alert(1)>" }),
    );
    const admin = await createAdmin(t.ctx);
    const adminClient = await loginAs(t.app, admin.email, admin.password);
    // Inside a quoted attribute "<" is inert; anywhere else it would be markup.
    const markup = (html: string) => html.replace(/="[^"]*"/g, '=""');
    const queue = await adminClient.get("/admin/students?status=pending");
    expect(markup(queue.body)).not.toContain("<script>alert(1)</script>");
    expect(queue.body).toContain("&lt;script>alert(1)&lt;/script>");
    const student = await t.ctx.db.selectFrom("students").select("id").executeTakeFirstOrThrow();
    const page = await adminClient.get(`/admin/students/${student.id}`);
    expect(markup(page.body)).not.toContain("<script>alert(1)");
    expect(markup(page.body)).not.toContain("<img src=x");
    expect(page.body).toContain("&lt;img src=x onerror=alert(1)>");
  });
});
