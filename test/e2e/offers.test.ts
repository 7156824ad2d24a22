import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createStudent, postJob } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * Issue 24 in a browser: the office sets the 2027 batch's policy (one accepted offer; Regular,
 * Dream from 6 LPA, Super dream from 12; a placed student may apply only to a higher tier),
 * selects Asha at Infosys with a 7.5 LPA offer, Asha accepts it on a page that says what that
 * means, and her job list changes: the 9 LPA job is "in the same tier", the 14 LPA one stays
 * open. The office records a PPO for Ravi by roll number and reads the season report. Every page
 * at 1280 and 390 px, axe-core clean.
 */
describe.skipIf(!hasChromium)("walk-through in chromium: offers under a tiered policy", () => {
  const portal = useBrowserPortal();

  it("sets the policy, selects with an offer, accepts it, narrows the job list, records a PPO, reports", async () => {
    const walk = walkthrough("e2e-offers");
    const asha = await createStudent(portal.ctx, {
      approved: true,
      full_name: "Asha Rao",
      roll_number: "1XY22CS042",
      graduation_year: 2027,
    });
    const ravi = await createStudent(portal.ctx, {
      approved: true,
      full_name: "Ravi Kumar",
      roll_number: "1XY22EC007",
      department: "ECE",
      graduation_year: 2027,
    });
    const infosys = await postJob(portal.ctx, {
      company: "Infosys",
      title: "Systems Engineer",
      location: "Mysuru",
      package_range: "7.5 LPA",
    });
    await postJob(portal.ctx, {
      company: "TCS",
      title: "Digital Engineer",
      package_range: "9 LPA",
    });
    await postJob(portal.ctx, { company: "Google", title: "SWE", package_range: "14 LPA" });
    const applied = await applyToJob(portal.ctx, asha.id, infosys.id);
    expect(applied.ok).toBe(true);

    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);

    // The 2027 policy, previewed before it applies.
    await walk.visit(admin, "/admin/policies/2027", "policy-form", { phone: true });
    await admin
      .getByLabel("Only jobs in a higher tier than their best accepted offer (an upgrade)")
      .check();
    await admin.getByRole("button", { name: "Preview the change" }).click();
    await visible(
      admin.getByRole("heading", { name: /Set the placement policy of the 2027 batch/ }),
    );
    await walk.check(admin, "policy-confirm", { phone: true });
    await admin.getByRole("button", { name: "Set the policy" }).click();
    await visible(admin.getByText(/Dream from 6 LPA/).first());

    // Selecting Asha records her offer on the same confirmation page.
    await admin.goto(`/admin/jobs/${infosys.id}/applicants`);
    await admin.getByRole("button", { name: "Selected: Asha Rao" }).click();
    await visible(admin.getByRole("heading", { name: "Select Asha Rao?" }));
    await visible(admin.getByLabel(/Record the offer with the selection/));
    await admin.getByLabel("Fixed pay (lakh a year)").fill("6.5");
    await admin.getByLabel("Variable pay (lakh a year)").fill("1");
    await admin.getByLabel("Joining date").fill("2027-07-01");
    await walk.check(admin, "select-with-offer", { phone: true });
    await admin.getByRole("button", { name: "Select Asha Rao", exact: true }).click();
    await visible(admin.getByText("1 moved to Selected; the student gets an SMS."));
    const sms = await portal.ctx.db
      .selectFrom("sms_messages")
      .select(["kind", "body"])
      .where("student_id", "=", asha.id)
      .where("kind", "!=", "approval")
      .orderBy("id")
      .execute();
    expect(sms.map((m) => m.kind)).toEqual(["offer", "offer"]);
    expect(sms[0]!.body).toContain("Infosys offers you Systems Engineer at 7.5 LPA");
    await walk.visit(admin, `/admin/jobs/${infosys.id}/offers`, "job-offers", { phone: true });

    // Asha sees the offer on her dashboard and accepts it.
    const student = await walk.newPage(portal.browser, portal.server.url);
    await logIn(student, { email: asha.email, password: asha.password });
    await visible(student.getByRole("heading", { name: "Your offers" }));
    await walk.check(student, "student-dashboard-offer", { phone: true });
    // Before: both the 9 LPA and the 14 LPA jobs are open to her.
    await student.goto("/student/jobs?eligible=1");
    await visible(student.getByText("TCS"));
    await student.goto("/student");
    await student.getByRole("link", { name: /Infosys: Systems Engineer, 7.5 LPA/ }).click();
    await walk.check(student, "student-offer", { phone: true });
    await student.getByRole("button", { name: "Accept…" }).click();
    await visible(student.getByText("This offer is 7.5 LPA, in the Dream tier."));
    await walk.check(student, "accept-confirm", { phone: true });
    await student.getByRole("button", { name: "Accept the offer" }).click();
    await visible(student.getByText(/You accepted the offer from Infosys/));

    // After: the 9 LPA job says why; the 14 LPA one is still open.
    await walk.visit(student, "/student/jobs", "student-jobs-after-acceptance", { phone: true });
    await visible(
      student
        .getByText(/You accepted an offer of 7.5 LPA \(Dream\); this job is in the same tier/)
        .first(),
    );
    await student.goto("/student/jobs?eligible=1");
    await visible(student.getByText("Google"));
    expect(await student.getByText("TCS").count()).toBe(0);

    // A PPO for Ravi, by roll number.
    await walk.visit(admin, "/admin/offers/new", "ppo-form", { phone: true });
    await admin.getByLabel("Kind").selectOption("ppo");
    await admin.getByLabel("Company").fill("Microsoft");
    await admin.getByLabel("Role").fill("Software Engineer");
    await admin.getByLabel("Location").fill("Hyderabad");
    await admin.getByLabel("Fixed pay (lakh a year)").fill("40");
    await admin.getByLabel("Variable pay (lakh a year)").fill("5");
    await admin.getByLabel(/Roll numbers/).fill(ravi.roll_number.toLowerCase());
    await admin.getByRole("button", { name: "Record offers…" }).click();
    await visible(admin.getByText(/1 student will get an SMS/));
    await walk.check(admin, "ppo-confirm", { phone: true });
    await admin.getByRole("button", { name: "Record 1 offer" }).click();
    await visible(admin.getByText("1 offer recorded; each student is told by SMS."));
    await walk.check(admin, "offers-list", { phone: true });

    // The season report counts Asha placed, Ravi's PPO apart.
    await walk.visit(admin, "/admin/reports/season?year=2027", "season-report", { phone: true });
    await visible(admin.getByRole("heading", { name: "Placement by department" }));
    const csv = await admin.request.get("/admin/reports/season.csv?year=2027");
    const lines = (await csv.text()).trim().split(/\r?\n/);
    expect(lines[0]).toBe(
      "department,eligible,placed,placement_rate,offers,highest_lpa,median_lpa,average_lpa,ppo",
    );
    expect(lines.at(-1)).toMatch(/^All,2,1,50(\.0)?,1,7\.5(0)?,7\.5(0)?,7\.5(0)?,1$/);
    expect(walk.checked.filter((c) => c.widths.includes(390)).length).toBeGreaterThanOrEqual(10);
  }, 300_000);
});
