import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * The browser walk-through of a decision and its correction: the applicants page finds a student
 * by name, the one-row Selected… asks first (Cancel changes nothing), and Correct… moves the
 * decision back with a reason, the student's timeline saying so.
 */

describe.skipIf(!hasChromium)("walk-through in chromium: decisions and corrections", () => {
  const portal = useBrowserPortal();

  async function statusOf(studentId: number, jobId: number) {
    const row = await portal.ctx.db
      .selectFrom("applications")
      .select("status")
      .where("student_id", "=", studentId)
      .where("job_id", "=", jobId)
      .executeTakeFirstOrThrow();
    return row.status;
  }

  it("asks before selecting one row, and corrects the decision with a reason", async () => {
    const walk = walkthrough("e2e-decisions");
    const phone = { phone: true };
    const staff = await createAdmin(portal.ctx, "jobs-admin@college.test");
    const asha = await createStudent(portal.ctx, { approved: true, full_name: "Asha Rao" });
    const vikram = await createStudent(portal.ctx, { approved: true, full_name: "Vikram Shetty" });
    const job = await postJob(portal.ctx, { company: "Infosys", title: "Systems Engineer" }, staff);
    for (const s of [asha, vikram]) await applyToJob(portal.ctx, s.id, job.id);

    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);
    await visible(admin.getByRole("heading", { name: "Admin dashboard" }));

    // Search by name: only Asha's row.
    await admin.goto(`/admin/jobs/${job.id}/applicants`);
    await admin.getByLabel("Name or roll number").fill("asha");
    await admin.getByRole("button", { name: "Filter" }).click();
    await visible(admin.getByText("1 applicant", { exact: true }));
    expect(await admin.getByRole("link", { name: "Vikram Shetty" }).count()).toBe(0);
    await walk.check(admin, "applicants-search", phone);

    // Selected… on one row asks first; Cancel keeps her at Applied.
    await admin.getByRole("button", { name: "Selected: Asha Rao" }).click();
    await visible(admin.getByRole("heading", { name: "Select Asha Rao?" }));
    await visible(admin.getByText(/Asha Rao will get an SMS at/));
    const select = admin.getByRole("button", { name: "Select Asha Rao", exact: true });
    expect(await select.getAttribute("class")).toContain("danger");
    await walk.check(admin, "select-one-confirm", phone);
    await admin.getByRole("link", { name: "Cancel" }).click();
    await visible(admin.getByRole("button", { name: "Selected: Asha Rao" }));
    expect(await statusOf(asha.id, job.id)).toBe("applied");
    // The way back kept the search.
    expect(await admin.getByLabel("Name or roll number").inputValue()).toBe("asha");

    await admin.getByRole("button", { name: "Selected: Asha Rao" }).click();
    // Without an offer (test/e2e/offers.test.ts records one): the status SMS goes.
    await admin.getByLabel(/Record the offer with the selection/).uncheck();
    await admin.getByRole("button", { name: "Select Asha Rao", exact: true }).click();
    await visible(admin.getByText("1 moved to Selected; the student gets an SMS."));
    expect(await statusOf(asha.id, job.id)).toBe("selected");
    // Her row now offers Correct… (checked by axe-core, target size included, at both widths).
    await visible(admin.getByRole("link", { name: "Correct the decision: Asha Rao" }));
    await walk.check(admin, "applicant-selected", phone);

    // Correct… asks for a reason, and says where the application goes back to.
    await admin.getByRole("link", { name: "Correct the decision: Asha Rao" }).click();
    await visible(admin.getByRole("heading", { name: "Move Asha Rao back to Applied?" }));
    await visible(admin.getByText(/a correction: your status for Infosys - Systems Engineer/));
    await walk.check(admin, "correct-decision-confirm", phone);
    await admin.getByRole("button", { name: "Move Asha Rao back to Applied" }).click();
    await visible(admin.getByText("Enter the reason for the correction."));
    await walk.check(admin, "correct-decision-no-reason", phone);
    expect(await statusOf(asha.id, job.id)).toBe("selected");
    await admin
      .getByLabel("Reason for the correction (required)")
      .fill("Selected by mistake: the company's list named another Asha.");
    await admin.getByRole("button", { name: "Move Asha Rao back to Applied" }).click();
    await visible(admin.getByText("Asha Rao moved back to Applied; the student gets an SMS."));
    await walk.check(admin, "decision-corrected", phone);
    expect(await statusOf(asha.id, job.id)).toBe("applied");
    const sms = await portal.ctx.db
      .selectFrom("sms_messages")
      .select(["kind", "body"])
      .where("student_id", "=", asha.id)
      .where("kind", "in", ["status_update", "application_corrected"])
      .orderBy("id")
      .execute();
    expect(sms.map((m) => m.kind)).toEqual(["status_update", "application_corrected"]);

    // The student's timeline says the decision was corrected.
    const student = await walk.newPage(portal.browser, portal.server.url);
    await logIn(student, asha);
    await visible(student.getByRole("link", { name: "My applications" }));
    await student.getByRole("link", { name: "My applications" }).click();
    await visible(student.getByText(/Applied \(Selected corrected\)/));
    await walk.check(student, "student-timeline-corrected", phone);
  });
});
