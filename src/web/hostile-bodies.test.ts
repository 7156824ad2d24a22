import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";

const t = useTestApp();

function uploads() {
  try {
    return readdirSync(join(t.dataDir, "uploads"));
  } catch {
    return [];
  }
}

/** Multipart bodies a browser never sends: cut off, without a boundary, or not multipart at all. */
function brokenBodies(csrf: string): { name: string; contentType: string; payload: string }[] {
  const field = (name: string, value: string) =>
    `--XYZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return [
    {
      name: "no closing boundary",
      contentType: "multipart/form-data; boundary=XYZ",
      payload: `${field("_csrf", csrf)}${field("full_name", "Asha Rao")}--XYZ\r\nContent-Disposition: form-data; name="skills"\r\n\r\nJava`,
    },
    {
      name: "a file cut off mid-way",
      contentType: "multipart/form-data; boundary=XYZ",
      payload: `${field("_csrf", csrf)}--XYZ\r\nContent-Disposition: form-data; name="resume"; filename="cv.pdf"\r\nContent-Type: application/pdf\r\n\r\n${pdfBytes().toString()}`,
    },
    {
      name: "no boundary parameter",
      contentType: "multipart/form-data",
      payload: `${field("_csrf", csrf)}--XYZ--\r\n`,
    },
    {
      name: "an empty boundary parameter",
      contentType: "multipart/form-data; boundary=",
      payload: `${field("_csrf", csrf)}--XYZ--\r\n`,
    },
    {
      name: "garbage",
      contentType: "multipart/form-data; boundary=XYZ",
      payload: "\u0000\u0001 garbage \r\n\r\n garbage",
    },
  ];
}

describe("multipart forms that do not arrive whole", () => {
  it("answers POST /register with a 400 page that says so, and registers nothing", async () => {
    const client = new TestClient(t.app);
    const csrf = await client.refreshCsrf();
    for (const body of brokenBodies(csrf)) {
      const response = await t.app.inject({
        method: "POST",
        url: "/register",
        headers: { cookie: client.cookieHeader, "content-type": body.contentType },
        payload: body.payload,
      });
      expect(response.statusCode, body.name).toBe(400);
      expect(response.headers["content-type"]).toContain("text/html");
      expect(response.body, body.name).toContain("The form did not arrive whole");
    }
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toEqual([]);
    expect(uploads()).toEqual([]);
    // The same client registers fine with a whole form afterwards.
    const whole = await client.postMultipart("/register", {
      full_name: "Asha Rao",
      roll_number: "1XY21CS001",
      email: "asha@college.test",
      phone: "98765 43210",
      department: "CSE",
      semester: "7",
      graduation_year: String(new Date().getUTCFullYear() + 1),
      cgpa: "8.2",
      active_backlogs: "0",
      skills: "Java",
      password: "a strong password",
      password_confirm: "a strong password",
      resume: { filename: "cv.pdf", data: pdfBytes() },
    });
    expect(whole.statusCode).toBe(303);
  });

  it("answers the student's profile form the same way, changing nothing", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const csrf = await client.refreshCsrf();
    for (const body of brokenBodies(csrf)) {
      const response = await t.app.inject({
        method: "POST",
        url: "/student/profile",
        headers: { cookie: client.cookieHeader, "content-type": body.contentType },
        payload: body.payload,
      });
      expect(response.statusCode, body.name).toBe(400);
      expect(response.body, body.name).toContain("The form did not arrive whole");
    }
    const row = await t.ctx.db
      .selectFrom("students")
      .leftJoin("resumes", "resumes.student_id", "students.id")
      .select(["students.skills", "resumes.size"])
      .where("students.id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ skills: student.skills, size: null });
    expect((await client.get("/student/profile")).statusCode).toBe(200);
  });

  it("answers other bodies a browser never sends with a 4xx page, never a 500", async () => {
    const client = new TestClient(t.app);
    await client.refreshCsrf();
    for (const [contentType, payload] of [
      ["application/json", "{not json"],
      ["application/json", '{"__proto__":{"x":1}}'],
      ["application/x-www-form-urlencoded", "%ZZ=%00&a=%E0%A4&&=="],
      ["text/plain", "hello"],
      ["multipart/mixed; boundary=XYZ", "--XYZ--"],
    ] as const) {
      const response = await t.app.inject({
        method: "POST",
        url: "/register",
        headers: { cookie: client.cookieHeader, "content-type": contentType },
        payload,
      });
      expect(response.statusCode, `${contentType} ${payload}`).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, `${contentType} ${payload}`).toBeLessThan(500);
    }
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toEqual([]);
  });

  it("refuses a login whose email has a NUL byte with a 400, not a database error", async () => {
    const response = await new TestClient(t.app).post("/login", {
      email: "admin\u0000@college.test",
      password: "whatever-it-is",
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("invisible control character");
  });
});
