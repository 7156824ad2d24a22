import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, TestClient } from "#test/support/client.ts";
import { toLocalInput } from "./time.ts";

const t = useTestApp();

/** Characters no keyboard types: refused in every text field. */
const CONTROL_CHARACTERS = {
  NUL: "\u0000",
  BEL: "\u0007",
  ESC: "\u001b",
  DEL: "\u007f",
  C1: "\u0085",
  "non-character U+FFFE": "\ufffe",
  "non-character U+FDD0": "\ufdd0",
};
/** Allowed in multi-line fields only. */
const LINE_BREAKS = { "line feed": "\n", tab: "\t" };

/** Numbers not written plainly: refused in every number field. */
const ODD_NUMBERS = ["0x0A", "1e1", " 8", "8 ", "8.", ".5", "+8", "Infinity", "NaN", "8,5", "٨"];

const year = new Date().getUTCFullYear();

// Roll numbers are unique: counted, not drawn at random (5 random draws of 900 collided now and then).
let rolls = 0;
const registration = (overrides: Record<string, string> = {}) => ({
  full_name: "Priya Sharma",
  roll_number: `1XY21CS${String(100 + (rolls++ % 900))}`,
  email: `priya${randomUUID().slice(0, 8)}@college.test`,
  phone: "98765 43210",
  department: "CSE",
  semester: "7",
  graduation_year: String(year + 1),
  cgpa: "8.75",
  active_backlogs: "0",
  skills: "Python, SQL",
  password: "a strong password",
  password_confirm: "a strong password",
  ...overrides,
});

const fieldError = (body: string, field: string) =>
  new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(body)?.[1];

async function register(overrides: Record<string, string>) {
  return new TestClient(t.app).postMultipart("/register", registration(overrides));
}

async function studentsCount() {
  return (await t.ctx.db.selectFrom("students").select("id").execute()).length;
}

describe("text fields", () => {
  it("refuse control characters in a name, with a message beside the field, storing nothing", async () => {
    for (const [name, char] of Object.entries({ ...CONTROL_CHARACTERS, ...LINE_BREAKS })) {
      const response = await register({ full_name: `Priya${char}Sharma` });
      expect(response.statusCode, name).toBe(422);
      expect(fieldError(response.body, "full_name"), name).toContain(
        "Remove the invisible control characters",
      );
      // The rest of the input is kept for the next try.
      expect(response.body).toContain('value="98765 43210"');
    }
    expect(await studentsCount()).toBe(0);
  });

  it("take line breaks and tabs in skills, and refuse the other control characters", async () => {
    for (const [name, char] of Object.entries(CONTROL_CHARACTERS)) {
      const response = await register({ skills: `Java${char}SQL` });
      expect(response.statusCode, name).toBe(422);
      expect(fieldError(response.body, "skills"), name).toContain("control characters");
    }
    expect(await studentsCount()).toBe(0);
    const ok = await register({ skills: "Java\r\nSQL\tPython" });
    expect(ok.statusCode).toBe(303);
    // The student's own profile form applies the same rule.
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const refused = await client.postMultipart("/student/profile", {
      phone: student.phone,
      skills: "Java\u0000",
    });
    expect(refused.statusCode).toBe(422);
    expect(fieldError(refused.body, "skills")).toContain("control characters");
    const kept = await client.postMultipart("/student/profile", {
      phone: student.phone,
      skills: "Java\nKotlin",
    });
    expect(kept.statusCode).toBe(303);
    const row = await t.ctx.db
      .selectFrom("students")
      .select("skills")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    // A browser sends line breaks as CRLF in a form.
    expect(row.skills).toBe("Java\r\nKotlin");
  });

  it("refuse control characters in every text of a job, and take line breaks in its description", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const page = await client.get("/admin/jobs/new");
    expect(page.statusCode).toBe(200);
    const job = (overrides: Record<string, string>) => ({
      company: "Bosch",
      title: "Graduate Engineer Trainee",
      type: "placement",
      description: "Embedded systems.",
      location: "Bengaluru",
      package_range: "7-8 LPA",
      official_link: "https://careers.example.com/get",
      apply_by: toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString()),
      intent: "post",
      submission_id: randomUUID(),
      ...overrides,
    });
    for (const field of [
      "company",
      "title",
      "description",
      "location",
      "package_range",
      "official_link",
    ]) {
      for (const [name, char] of Object.entries(CONTROL_CHARACTERS)) {
        const value = field === "official_link" ? `https://example.com/${char}` : `Bosch${char}`;
        const response = await client.post("/admin/jobs/new", job({ [field]: value }));
        expect(response.statusCode, `${field} ${name}`).toBe(422);
        expect(fieldError(response.body, field), `${field} ${name}`).toContain(
          "control characters",
        );
      }
    }
    const oneLine = await client.post("/admin/jobs/new", job({ title: "Graduate\nTrainee" }));
    expect(fieldError(oneLine.body, "title")).toContain("one line of plain text");
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toHaveLength(0);
    const posted = await client.post(
      "/admin/jobs/new",
      job({ description: "Embedded systems.\r\n\tC and C++." }),
    );
    expect(posted.statusCode).toBe(303);
    const row = await t.ctx.db.selectFrom("jobs").select("description").executeTakeFirstOrThrow();
    expect(row.description).toBe("Embedded systems.\r\n\tC and C++.");
  });

  it("refuse control characters in an announcement's title and message", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    for (const [name, char] of Object.entries(CONTROL_CHARACTERS)) {
      for (const field of ["title", "message"]) {
        const response = await client.post("/admin/announcements", {
          title: "Drive",
          message: "Tomorrow at 10.",
          submission_id: randomUUID(),
          [field]: `Drive${char}`,
        });
        expect(response.statusCode, `${field} ${name}`).toBe(422);
        expect(fieldError(response.body, field), `${field} ${name}`).toContain(
          "control characters",
        );
      }
    }
    expect(await t.ctx.db.selectFrom("announcements").select("id").execute()).toHaveLength(0);
    const posted = await client.post("/admin/announcements", {
      title: "Drive",
      message: "Tomorrow at 10.\r\nSeminar hall.",
      submission_id: randomUUID(),
    });
    expect(posted.statusCode).toBe(303);
  });
});

describe("a rejection reason", () => {
  it("with a control character is refused (400) and the registration stays", async () => {
    const student = await createStudent(t.ctx);
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const response = await client.post(`/admin/students/${student.id}/reject`, {
      reason: "Roll number\u0000 not on the rolls",
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("invisible control character");
    expect(await studentsCount()).toBe(1);
  });
});

describe("number fields", () => {
  it("take only plain decimals for the CGPA: 8, 8.2, 8.25 within 0-10", async () => {
    for (const cgpa of [...ODD_NUMBERS, "8.255", "10.5", "-1", ""]) {
      const response = await register({ cgpa });
      expect(response.statusCode, cgpa).toBe(422);
      expect(fieldError(response.body, "cgpa"), cgpa).toMatch(
        /must be a number|at most 2 decimals|between 0 and 10|Enter the CGPA/,
      );
    }
    expect(await studentsCount()).toBe(0);
    for (const cgpa of ["8", "8.2", "8.25", "0", "10"])
      expect((await register({ cgpa })).statusCode, cgpa).toBe(303);
    const stored = await t.ctx.db.selectFrom("students").select("cgpa").orderBy("id").execute();
    expect(stored.map((r) => r.cgpa)).toEqual([8, 8.2, 8.25, 0, 10]);
  });

  it("take only plain whole numbers for backlogs, graduation year and semester", async () => {
    const wholeOnly = [...ODD_NUMBERS, "1.0", "1.5", "1e0"];
    for (const field of ["active_backlogs", "graduation_year", "semester"]) {
      for (const value of wholeOnly) {
        const response = await register({ [field]: value });
        expect(response.statusCode, `${field}=${value}`).toBe(422);
        expect(fieldError(response.body, field), `${field}=${value}`).toMatch(
          /must be a whole number|between/,
        );
      }
    }
    expect(await studentsCount()).toBe(0);
    // The semester is required at registration (jobs may be limited to semesters).
    expect((await register({ semester: "" })).statusCode).toBe(422);
    expect((await register({ semester: "7" })).statusCode).toBe(303);
  });

  it("apply the same rules when an admin corrects an academic record", async () => {
    const student = await createStudent(t.ctx, { cgpa: 7.1 });
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const record = {
      department: "CSE",
      semester: "7",
      graduation_year: String(year + 1),
      cgpa: "7.5",
      active_backlogs: "0",
    };
    for (const [field, value] of [
      ["cgpa", "1e1"],
      ["cgpa", "0x0A"],
      ["cgpa", "Infinity"],
      ["graduation_year", `${year + 1}.0`],
      ["active_backlogs", " 1"],
      ["semester", "0x7"],
    ] as const) {
      const response = await client.post(`/admin/students/${student.id}/academics`, {
        ...record,
        [field]: value,
      });
      expect(response.statusCode, `${field}=${value}`).toBe(422);
      expect(fieldError(response.body, field), `${field}=${value}`).toMatch(/must be/);
    }
    const row = await t.ctx.db
      .selectFrom("students")
      .select("cgpa")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.cgpa).toBe(7.1);
  });

  it("apply the same rules to a job's eligibility: minimum CGPA, backlogs, years, semesters", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const job = (overrides: Record<string, string | string[]>) => ({
      company: "Bosch",
      title: "Trainee",
      type: "placement",
      apply_by: toLocalInput(new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString()),
      intent: "post",
      submission_id: randomUUID(),
      ...overrides,
    });
    for (const [field, value] of [
      ["min_cgpa", "1e1"],
      ["min_cgpa", "0x0A"],
      ["min_cgpa", "Infinity"],
      ["min_cgpa", " 7"],
      ["max_backlogs", "1e0"],
      ["max_backlogs", "0x1"],
      ["graduation_years", `0x${(year + 1).toString(16)}`],
      ["graduation_years", `${year + 1}.0`],
      ["semesters", "7e0"],
    ] as const) {
      const response = await client.post("/admin/jobs/new", job({ [field]: value }));
      expect(response.statusCode, `${field}=${value}`).toBe(422);
      expect(fieldError(response.body, field), `${field}=${value}`).toMatch(/must be|Unknown/);
    }
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toHaveLength(0);
  });
});

describe("date fields", () => {
  it("refuse a deadline that is not on the calendar instead of rolling it over", async () => {
    const admin = await createAdmin(t.ctx);
    const client = await loginAs(t.app, admin.email, admin.password);
    const next = year + 1;
    const notLeap = next % 4 === 0 ? next + 1 : next;
    for (const apply_by of [
      `${notLeap}-02-29T10:00`,
      `${next}-02-30T10:00`,
      `${next}-04-31T10:00`,
      `${next}-13-01T10:00`,
      `${next}-00-10T10:00`,
      `${next}-06-10T24:00`,
      `${next}-06-10T10:60`,
      `${next}-06-10`,
      "+275760-09-13T00:00",
    ]) {
      const response = await client.post("/admin/jobs/new", {
        company: "Bosch",
        title: "Trainee",
        type: "placement",
        apply_by,
        intent: "post",
        submission_id: randomUUID(),
      });
      expect(response.statusCode, apply_by).toBe(422);
      expect(fieldError(response.body, "apply_by"), apply_by).toContain(
        "as a date and time that exists on the calendar",
      );
    }
    expect(await t.ctx.db.selectFrom("jobs").select("id").execute()).toHaveLength(0);
    const leap = next % 4 === 0 ? next : next + (4 - (next % 4));
    const ok = await client.post("/admin/jobs/new", {
      company: "Bosch",
      title: "Trainee",
      type: "placement",
      apply_by: `${leap}-02-29T10:00`,
      intent: "post",
      submission_id: randomUUID(),
    });
    expect(ok.statusCode).toBe(303);
    const row = await t.ctx.db.selectFrom("jobs").select("apply_by").executeTakeFirstOrThrow();
    expect(row.apply_by).toBe(`${leap}-02-29T04:30:00.000Z`);
  });
});
