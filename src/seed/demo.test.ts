import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { seedDemo } from "./demo.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

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
});
