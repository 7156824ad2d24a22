import { describe, expect, it } from "vitest";
import { createAdmin, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { formatPhoneE164 } from "../sms/phone.ts";
import { demoPhoneNumber, isFictionalNumber, seedDemo } from "./demo.ts";

const t = useTestApp();

const count = async (
  table: "students" | "jobs" | "applications" | "application_events" | "sms_messages",
) =>
  Number(
    (
      await t.ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("portal seed --demo", () => {
  it("adds the asked numbers of students, jobs and applications, queues no SMS, and can run twice", async () => {
    const first = await seedDemo(t.ctx, {
      students: 120,
      jobs: 8,
      applications: 400,
      password: "demo-student",
    });
    expect(first).toMatchObject({ students: 120, jobs: 8, applications: 400 });
    expect(await count("students")).toBe(120);
    expect(await count("jobs")).toBe(8);
    expect(await count("applications")).toBe(400);
    expect(await count("application_events")).toBe(400);
    expect(await count("sms_messages")).toBe(0);
    await seedDemo(t.ctx, { students: 10, jobs: 1, applications: 5, password: "demo-student" });
    expect(await count("students")).toBe(130);
    const client = await loginAs(t.app, first.firstStudentEmail!, "demo-student").catch(
      async () => {
        // The first demo student may be one of the 5 % left pending; then the login says so.
        return null;
      },
    );
    const approved = await t.ctx.db
      .selectFrom("students")
      .innerJoin("users", "users.id", "students.user_id")
      .select("users.email")
      .where("approved_at", "is not", null)
      .orderBy("students.id")
      .executeTakeFirstOrThrow();
    const asStudent = client ?? (await loginAs(t.app, approved.email, "demo-student"));
    expect((await asStudent.get("/student/applications")).statusCode).toBe(200);
  });

  it("starts at demo.student1, approved, the README's example login, whatever admins exist", async () => {
    await createAdmin(t.ctx, "office@college.test");
    const seeded = await seedDemo(t.ctx, {
      students: 20,
      jobs: 1,
      applications: 5,
      password: "demo-student",
    });
    expect(seeded.firstStudentEmail).toBe("demo.student1@college.test");
    const client = await loginAs(t.app, "demo.student1@college.test", "demo-student");
    expect((await client.get("/student")).statusCode).toBe(200);
  });

  it("can never text a stranger: every demo student is opted out, with a number no carrier routes", async () => {
    await seedDemo(t.ctx, { students: 250, jobs: 2, applications: 10, password: "demo-student" });
    const students = await t.ctx.db
      .selectFrom("students")
      .select(["phone_e164", "sms_opted_out_at"])
      .execute();
    expect(students).toHaveLength(250);
    for (const student of students) {
      expect(student.sms_opted_out_at).not.toBeNull();
      expect(isFictionalNumber(student.phone_e164)).toBe(true);
      // A number the portal's own validation accepts, so a demo student's profile can be saved.
      expect(formatPhoneE164(student.phone_e164, "IN")).toBe(student.phone_e164);
    }
    expect(new Set(students.map((s) => s.phone_e164)).size).toBe(250);
  });
});

describe("demoPhoneNumber", () => {
  it("gives numbers in North America's fictional 555-0100..0199 block, all valid mobiles", () => {
    expect(demoPhoneNumber(0)).toBe("+12015550100");
    expect(demoPhoneNumber(199)).toBe("+12025550199");
    for (let n = 0; n < 2000; n++) {
      const number = demoPhoneNumber(n);
      expect(number).toMatch(/^\+1\d{3}55501\d{2}$/);
      expect(formatPhoneE164(number, "IN")).toBe(number);
    }
    expect(new Set(Array.from({ length: 2000 }, (_, n) => demoPhoneNumber(n))).size).toBe(2000);
    expect(isFictionalNumber("+919876543210")).toBe(false);
    expect(isFictionalNumber("+12125550200")).toBe(false);
  });
});
