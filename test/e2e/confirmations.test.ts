import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * The browser walk-through of what cannot be undone: every destructive action asks on a page that
 * says what will happen and who gets an SMS (Cancel changes nothing, Confirm does it), and a
 * student who forgot the password gets back in with the code the SMS carried.
 */

describe.skipIf(!hasChromium)("walk-through in chromium: confirmations and password reset", () => {
  const portal = useBrowserPortal();

  /** Opens the confirmation, checks it, cancels (nothing happens), opens it again and confirms. */
  async function confirmStep(
    page: Page,
    walk: ReturnType<typeof walkthrough>,
    open: () => Promise<void>,
    name: string,
    expected: { title: string | RegExp; sms: string | RegExp; confirm: string },
  ) {
    await open();
    await visible(page.getByRole("heading", { name: expected.title }));
    await visible(page.getByText(expected.sms).first());
    // The destructive button looks different from the common one.
    const confirm = page.getByRole("button", { name: expected.confirm, exact: true });
    expect(await confirm.getAttribute("class")).toContain("danger");
    await walk.check(page, name, { phone: true });
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForLoadState("load");
    await open();
    await page.getByRole("button", { name: expected.confirm, exact: true }).click();
    await page.waitForLoadState("load");
  }

  it("asks before every destructive action, then does it; resets a forgotten password by SMS code", async () => {
    const walk = walkthrough("e2e-confirmations");
    const staff = await createAdmin(portal.ctx, "jobs-admin@college.test");
    const pending = await createStudent(portal.ctx, { full_name: "Ravi Pending" });
    const asha = await createStudent(portal.ctx, { approved: true, full_name: "Asha Rao" });
    const vikram = await createStudent(portal.ctx, { approved: true, full_name: "Vikram Shetty" });
    const job = await postJob(portal.ctx, { company: "Infosys", title: "Systems Engineer" }, staff);
    const lonely = await postJob(
      portal.ctx,
      { company: "Wipro", title: "Project Engineer" },
      staff,
    );
    for (const s of [asha, vikram]) await applyToJob(portal.ctx, s.id, job.id);

    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);
    await visible(admin.getByRole("heading", { name: "Admin dashboard" }));
    // The admin menu, the name and the account links sit on one line at 1280 px.
    const tops = await admin
      .locator("nav.nav a, nav.nav button, nav.nav .who")
      // Shown ones only: the phone's menu (.nav-menu) is hidden at this width.
      .evaluateAll((els) =>
        els.filter((e) => e.getClientRects().length > 0).map((e) => e.getBoundingClientRect().top),
      );
    const heights = await admin
      .locator("nav.nav a, nav.nav button, nav.nav .who")
      .evaluateAll((els) =>
        els
          .filter((e) => e.getClientRects().length > 0)
          .map((e) => e.getBoundingClientRect().height),
      );
    // A label wrapped inside its link is two lines tall.
    expect(Math.max(...heights), `menu item heights: ${heights.join(", ")}`).toBeLessThan(36);
    // A second line would start a line height (about 24 px) lower; buttons sit a few px off.
    expect(Math.max(...tops) - Math.min(...tops), `menu tops: ${tops.join(", ")}`).toBeLessThan(10);

    // Reject a registration: the page names the student and the SMS; Cancel keeps the registration.
    await admin.goto(`/admin/students/${pending.id}`);
    await confirmStep(
      admin,
      walk,
      async () => {
        await admin.goto(`/admin/students/${pending.id}`);
        await admin
          .getByLabel("Reason for rejection (optional, sent to the student)")
          .fill("ID card unreadable");
        await admin.getByRole("button", { name: "Reject…" }).click();
      },
      "reject-registration-confirm",
      {
        title: "Reject Ravi Pending's registration?",
        sms: /Ravi Pending will get an SMS/,
        confirm: "Reject and delete registration",
      },
    );
    await visible(admin.getByText(/Rejected Ravi Pending/));
    await walk.check(admin, "registration-rejected");
    expect(
      await portal.ctx.db
        .selectFrom("students")
        .select("id")
        .where("id", "=", pending.id)
        .execute(),
    ).toEqual([]);

    // Reject one applicant: it asks; the forward moves do not.
    const applicants = `/admin/jobs/${job.id}/applicants`;
    await confirmStep(
      admin,
      walk,
      async () => {
        await admin.goto(applicants);
        await admin.getByRole("button", { name: "Reject: Asha Rao" }).click();
      },
      "reject-applicant-confirm",
      { title: "Reject Asha Rao?", sms: /Asha Rao will get an SMS/, confirm: "Reject Asha Rao" },
    );
    await visible(admin.getByText(/moved to Rejected/));
    await walk.check(admin, "applicant-rejected");

    // A bulk move asks too, naming who moves and who gets the SMS.
    await confirmStep(
      admin,
      walk,
      async () => {
        await admin.goto(applicants);
        await admin.getByRole("checkbox", { name: "Select Vikram Shetty" }).check();
        await admin.getByLabel("Move the selected to").selectOption("shortlisted");
        await admin.getByRole("button", { name: "Move selected…" }).click();
      },
      "bulk-move-confirm",
      {
        title: "Move Vikram Shetty to Shortlisted?",
        sms: /Vikram Shetty will get an SMS/,
        confirm: "Move Vikram Shetty to Shortlisted",
      },
    );
    await visible(admin.getByText(/moved to Shortlisted/));
    const statuses = await portal.ctx.db
      .selectFrom("applications")
      .select(["student_id", "status"])
      .where("job_id", "=", job.id)
      .orderBy("student_id")
      .execute();
    expect(statuses).toEqual([
      { student_id: asha.id, status: "rejected" },
      { student_id: vikram.id, status: "shortlisted" },
    ]);

    // Delete a job nobody applied to.
    await confirmStep(
      admin,
      walk,
      async () => {
        await admin.goto(`/admin/jobs/${lonely.id}`);
        await admin.getByRole("button", { name: "Delete job…" }).click();
      },
      "delete-job-confirm",
      { title: /Delete/, sms: /SMS/, confirm: "Delete job" },
    );
    expect(
      await portal.ctx.db.selectFrom("jobs").select("id").where("id", "=", lonely.id).execute(),
    ).toEqual([]);

    // Post an announcement, then delete it.
    await admin.goto("/admin/announcements");
    await admin.getByLabel("Title").fill("Pre-placement talk");
    await admin
      .getByLabel("Message")
      .fill("Infosys pre-placement talk on Friday at 10 in the seminar hall.");
    await admin.getByRole("button", { name: "Post announcement" }).click();
    await visible(admin.getByText("Pre-placement talk").first());
    await walk.check(admin, "announcement-posted");
    await confirmStep(
      admin,
      walk,
      async () => {
        await admin.goto("/admin/announcements");
        await admin
          .getByRole("button", { name: "Delete the announcement Pre-placement talk" })
          .click();
      },
      "delete-announcement-confirm",
      { title: /Delete/, sms: /SMS/, confirm: "Delete announcement" },
    );
    expect(await portal.ctx.db.selectFrom("announcements").select("id").execute()).toEqual([]);

    // Asha forgot her password: a code by SMS. SMS are captured here (a local trial), so the reset
    // page shows her the code, saying why; the admin's SMS page shows it masked.
    const student = await walk.newPage(portal.browser, portal.server.url);
    await student.goto("/login");
    await student.getByRole("link", { name: "Forgot your password?" }).click();
    await walk.check(student, "forgot-password", { phone: true });
    await student.getByLabel("Email").fill(asha.email);
    await student.getByRole("button", { name: "Send me a code" }).click();
    await visible(student.getByRole("heading", { name: "Choose a new password" }));
    await walk.check(student, "reset-password", { phone: true });
    const trial = await student.getByTestId("local-trial-code").textContent();
    expect(trial).toContain("Local trial: SMS are captured on this server, not sent to phones.");
    const code = /Your code is (\d{6})/.exec(trial ?? "")?.[1];
    expect(code, "the local trial's reset page shows the code").toMatch(/^\d{6}$/);

    let captured = false;
    for (let i = 0; i < 40 && !captured; i++) {
      const row = await portal.ctx.db
        .selectFrom("sms_messages")
        .select("status")
        .where("student_id", "=", asha.id)
        .where("kind", "=", "password_reset")
        .executeTakeFirst();
      captured = row?.status === "captured";
      if (!captured) await student.waitForTimeout(250);
    }
    expect(captured, "the reset code was captured").toBe(true);
    await admin.goto("/admin/sms");
    await walk.check(admin, "admin-sms-reset-code");
    // The code itself, not a longer number holding its digits (a phone number).
    expect(await admin.content()).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
    expect(await admin.content()).toContain("••••••");

    await student.getByLabel("Code from the SMS").fill(code!);
    await student.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
    await student.getByLabel("Repeat the new password").fill("a brand new passphrase");
    await student.getByRole("button", { name: "Set the new password" }).click();
    await student.waitForLoadState("load");
    await walk.check(student, "password-reset-done", { phone: true });
    await logIn(student, { email: asha.email, password: "a brand new passphrase" });
    await visible(student.getByRole("heading", { name: /Welcome, Asha/ }));
    await walk.check(student, "logged-in-with-new-password", { phone: true });

    // Logging out says so.
    await student.getByRole("button", { name: "Log out" }).click();
    await visible(student.getByText("You have been logged out."));
    await walk.check(student, "logged-out", { phone: true });
    expect(walk.checked.length).toBeGreaterThanOrEqual(14);
  });
});
