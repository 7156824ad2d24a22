import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";

const t = useTestApp();

describe("the SMS console's recipients", () => {
  it("are named by the name and roll number kept with each message, linked only while the student exists", async () => {
    const kept = await createStudent(t.ctx, { approved: true, full_name: "Meera Iyer" });
    const gone = await createStudent(t.ctx, { full_name: "Kiran Das" });
    await postJob(t.ctx, { send_sms: true });
    const me = await createAdmin(t.ctx, "office@college.test");
    const admin = await loginAs(t.app, me.email, me.password);
    await admin.post(`/admin/students/${gone.id}/reject`, {
      reason: "Not on the rolls",
      confirm: "yes",
    });

    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .select(["id", "kind", "student_id", "student_name", "student_roll_number"])
      .orderBy("id")
      .execute();
    // Approval (one message), the job alert (a fan-out) and the rejection: each keeps its person.
    expect(rows.map((r) => [r.kind, r.student_id, r.student_name, r.student_roll_number])).toEqual([
      ["approval", kept.id, "Meera Iyer", kept.roll_number],
      ["job_posted", kept.id, "Meera Iyer", kept.roll_number],
      ["rejection", null, "Kiran Das", gone.roll_number],
    ]);

    const list = await admin.get("/admin/sms");
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(
      `<a href="/admin/students/${kept.id}">Meera Iyer (${kept.roll_number})</a>`,
    );
    expect(pageText(list.body)).toContain(
      `Kiran Das (${gone.roll_number}), no longer in the portal`,
    );
    expect(list.body).not.toContain(`/admin/students/${gone.id}"`);
    expect(pageText(list.body)).not.toContain(`Student ${gone.id}`);

    const rejection = rows.find((r) => r.kind === "rejection")!;
    const page = await admin.get(`/admin/sms/${rejection.id}`);
    expect(page.statusCode).toBe(200);
    expect(pageText(page.body)).toContain(
      `Kiran Das (${gone.roll_number}), no longer in the portal`,
    );
    expect(page.body).not.toContain(`/admin/students/${gone.id}"`);
    expect(pageText(page.body)).not.toContain(`Student ${gone.id}`);
  });
});
