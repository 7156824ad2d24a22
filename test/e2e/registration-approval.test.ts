import { describe, expect, it } from "vitest";
import { hasChromium, visible } from "#test/support/browser.ts";
import { pdfBytes } from "#test/support/client.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

if (!hasChromium) console.warn("NOTICE: chromium not found: the browser walk-through is SKIPPED");

/** A week from now as a datetime-local value, in India Standard Time. */
function inAWeek(): string {
  return new Date(Date.now() + 7 * 24 * 3600 * 1000 + 330 * 60 * 1000).toISOString().slice(0, 16);
}

const STUDENT = { email: "nisha@college.test", password: "nisha-password-1" };

describe.skipIf(!hasChromium)(
  "walk-through in chromium: register, pending, approve, log in",
  () => {
    const portal = useBrowserPortal();

    it("takes a student from registration to selected, every SMS captured", async () => {
      // Every page is screenshot and checked by axe-core; `phone` ones also at 390 px, unscrolled.
      const walk = walkthrough("e2e-registration-approval");
      const phone = { phone: true };
      const page = await walk.newPage(portal.browser, portal.server.url);

      await walk.visit(page, "/login", "login", phone);
      await walk.visit(page, "/register", "register", phone);
      await page.getByLabel("Full name").fill("Nisha Kulkarni");
      await page.getByLabel("Roll number (USN)").fill("1xy21ec007");
      await page.getByLabel("Email").fill(STUDENT.email);
      await page.getByLabel("Mobile number").fill("98450 12345");
      await page.getByLabel("Department").selectOption("ECE");
      await page.getByLabel("Semester").fill("7");
      await page.getByLabel("Graduation year").fill("2027");
      await page.getByLabel("CGPA").fill("8.4");
      await page.getByLabel("Active backlogs").fill("0");
      await page.getByLabel("Skills").fill("VLSI, Embedded C");
      await page.getByLabel("Resume (PDF)").setInputFiles({
        name: "nisha.pdf",
        mimeType: "application/pdf",
        buffer: pdfBytes("nisha"),
      });
      await page.getByLabel("Password", { exact: true }).fill(STUDENT.password);
      await page.getByLabel("Repeat the password").fill(STUDENT.password);
      await walk.check(page, "register-filled", phone);
      await page.getByRole("button", { name: "Register" }).click();
      await visible(page.getByRole("heading", { name: "Registration received" }));
      await walk.check(page, "registered");

      // Pending: login is refused with the reason.
      await logIn(page, STUDENT);
      await visible(page.getByText("awaiting approval"));
      await walk.check(page, "login-pending");

      // The admin approves from the verification queue.
      const admin = await walk.newPage(portal.browser, portal.server.url);
      await logIn(admin, E2E_ADMIN);
      await visible(admin.getByRole("heading", { name: "Admin dashboard" }));
      await visible(admin.getByText("SMS capture mode"));
      await walk.check(admin, "admin-dashboard", phone);
      await admin.getByRole("link", { name: "Approvals" }).click();
      await walk.check(admin, "verification-queue", phone);
      await admin.getByRole("link", { name: "Nisha Kulkarni" }).click();
      await visible(admin.getByText("+919845012345").first());
      await walk.check(admin, "student-pending");
      await admin.getByRole("button", { name: "Approve", exact: true }).click();
      await visible(admin.getByText("Approved Nisha Kulkarni (1XY21EC007)"));
      // No one else is waiting: the queue opens; the SMS is on the student's page.
      await admin.getByRole("link", { name: "Students", exact: true }).click();
      await admin.getByRole("link", { name: "Nisha Kulkarni" }).click();
      // Without Twilio credentials the dispatcher captures it at once: it says so, never "sent".
      for (
        let i = 0;
        i < 20 && (await admin.getByRole("cell", { name: "Captured (not sent)" }).count()) === 0;
        i++
      ) {
        await admin.waitForTimeout(250);
        await admin.reload();
      }
      await visible(admin.getByRole("cell", { name: "Captured (not sent)" }));
      await visible(
        admin.getByText("Dear Nisha, your Placement Portal account (1XY21EC007) has been approved"),
      );
      await walk.check(admin, "student-approved-sms-captured");
      await admin.getByRole("link", { name: "SMS", exact: true }).click();
      await visible(admin.getByRole("heading", { name: "SMS" }));
      await walk.check(admin, "admin-sms");

      // Now the student gets in.
      await logIn(page, STUDENT);
      await visible(page.getByRole("heading", { name: "Welcome, Nisha" }));
      await walk.check(page, "student-dashboard", phone);
      const resume = await page.request.get("/student/resume");
      expect(resume.headers()["content-type"]).toBe("application/pdf");

      // The admin posts a job for ECE; the form says how many students it will alert.
      await admin.getByRole("link", { name: "Jobs", exact: true }).click();
      await walk.check(admin, "admin-jobs");
      await admin.getByRole("link", { name: "Post a job" }).click();
      await walk.check(admin, "job-new");
      await admin.getByLabel("Company").fill("Bosch");
      await admin.getByLabel("Job title").fill("Graduate Engineer Trainee");
      await admin.getByLabel("Type").selectOption("placement");
      await admin.getByLabel("Location").fill("Bengaluru");
      await admin.getByLabel("Package").fill("7-8 LPA");
      await admin.getByLabel("Description").fill("Embedded systems for automotive ECUs.");
      await admin.getByLabel("Apply by").fill(inAWeek());
      await admin.getByRole("checkbox", { name: "ECE" }).check();
      await admin.getByLabel("Minimum CGPA").fill("7");
      // The alert is a conscious choice (issue 21): unticked until ticked.
      await admin.getByRole("checkbox", { name: /Send a "new opportunity" SMS/ }).check();
      await admin.getByRole("button", { name: "Preview eligible students" }).click();
      await visible(admin.getByText("1 approved student is eligible; 1 can get the SMS"));
      await walk.check(admin, "job-preview");
      await admin.getByRole("button", { name: "Post job" }).click();
      await visible(admin.getByText("Job posted; 1 SMS alert queued."));
      await walk.check(admin, "job-posted");

      // The student finds it among the jobs they can apply to (search and toggle, no JS) and applies.
      await page.getByRole("link", { name: "Jobs", exact: true }).click();
      await walk.check(page, "student-jobs", phone);
      await page.getByRole("searchbox", { name: "Search jobs" }).fill("bosch");
      await page.getByLabel("Only jobs I can apply to").check();
      await page.getByRole("button", { name: "Search" }).click();
      await visible(page.getByText("1 job you can apply to matching “bosch”."));
      await walk.check(page, "student-jobs-search", phone);
      await page.getByRole("link", { name: "Bosch – Graduate Engineer Trainee" }).click();
      await walk.check(page, "student-job", phone);
      await page.getByRole("button", { name: "Apply", exact: true }).click();
      await visible(page.getByText("Application sent."));
      await walk.check(page, "student-applications", phone);

      // Withdrawing asks first, says until when it can be undone, and can be undone.
      await page.getByRole("link", { name: "Withdraw this application" }).click();
      await visible(page.getByRole("heading", { name: "Withdraw this application?" }));
      await visible(
        page.getByText(
          /^Your application to Bosch – Graduate Engineer Trainee will be withdrawn\. You can apply again until .+ IST\.$/,
        ),
      );
      await walk.check(page, "student-withdraw-confirm", phone);
      await page.getByRole("link", { name: "Cancel" }).click();
      await visible(page.getByRole("heading", { name: "My applications" }));
      await visible(page.getByText("Applied", { exact: true }).first());
      await page.getByRole("link", { name: "Withdraw this application" }).click();
      await page.getByRole("button", { name: "Confirm: withdraw" }).click();
      await visible(
        page.getByText(
          "Your application to Bosch – Graduate Engineer Trainee was withdrawn. You can apply again until",
        ),
      );
      await walk.check(page, "student-withdrawn", phone);
      await page.getByRole("button", { name: "Apply again" }).click();
      await visible(page.getByText("Application sent again."));
      await walk.check(page, "student-applied-again", phone);
      await walk.visit(page, "/student/profile", "student-profile", phone);

      // The admin shortlists, then selects.
      await admin.getByRole("link", { name: "Applicants" }).click();
      await visible(admin.getByRole("link", { name: "Nisha Kulkarni", exact: true }));
      await walk.check(admin, "applicants");
      await admin.getByRole("button", { name: "Shortlisted: Nisha Kulkarni" }).click();
      await visible(admin.getByText("1 moved to Shortlisted"));
      await admin.getByRole("button", { name: "Interview: Nisha Kulkarni" }).click();
      await visible(admin.getByText("1 moved to Interview"));
      // Selected is a decision: it asks first, even for one row.
      await admin.getByRole("button", { name: "Selected: Nisha Kulkarni" }).click();
      await visible(admin.getByRole("heading", { name: "Select Nisha Kulkarni?" }));
      // Without an offer this time (the company's letters come later): the status SMS goes.
      await admin.getByLabel(/Record the offer with the selection/).uncheck();
      await admin.getByRole("button", { name: "Select Nisha Kulkarni", exact: true }).click();
      await visible(admin.getByText("1 moved to Selected"));
      await walk.check(admin, "applicant-selected");

      // Every status SMS is in the admin's SMS view, captured.
      await admin.goto("/admin/sms?kind=status_update");
      for (const status of ["Shortlisted", "Selected"]) {
        await visible(
          admin.getByText(
            `Dear Nisha, your status for Bosch - Graduate Engineer Trainee has been updated to '${status}'.`,
          ),
        );
      }
      for (
        let i = 0;
        i < 20 && (await admin.getByRole("cell", { name: "Queued" }).count()) > 0;
        i++
      ) {
        await admin.waitForTimeout(250);
        await admin.reload();
      }
      expect(await admin.getByRole("cell", { name: "Captured (not sent)" }).count()).toBe(3);
      await walk.check(admin, "admin-sms-status-updates");

      // The student follows it on their timeline.
      await page.getByRole("link", { name: "My applications" }).click();
      await visible(page.getByText("Selected").first());
      await walk.check(page, "student-timeline", phone);
      await page.getByRole("link", { name: "Dashboard" }).click();
      await walk.check(page, "student-dashboard-after", phone);

      // The admin dashboard counts the selection and summarises ECE.
      await admin.getByRole("link", { name: "Dashboard" }).click();
      await visible(admin.getByRole("rowheader", { name: "ECE" }));
      await visible(admin.getByText("student selected"));
      await walk.check(admin, "admin-dashboard-after");
    });
  },
);
