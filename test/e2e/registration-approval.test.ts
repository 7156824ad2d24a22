import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, screenshotter, visible } from "#test/support/browser.ts";
import { pdfBytes } from "#test/support/client.ts";
import { type ServerProcess, startServerProcess } from "#test/support/server.ts";

if (!hasChromium) console.warn("NOTICE: chromium not found: the browser walk-through is SKIPPED");

/** A week from now as a datetime-local value, in India Standard Time. */
function inAWeek(): string {
  return new Date(Date.now() + 7 * 24 * 3600 * 1000 + 330 * 60 * 1000).toISOString().slice(0, 16);
}

const ADMIN = { email: "tpo@college.test", password: "admin-e2e-password" };
const STUDENT = { email: "nisha@college.test", password: "nisha-password-1" };

describe.skipIf(!hasChromium)(
  "walk-through in chromium: register, pending, approve, log in",
  () => {
    let server: ServerProcess;
    let browser: Browser;

    beforeAll(async () => {
      server = await startServerProcess({
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      });
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    it("takes a student from registration to selected, every SMS captured", async () => {
      const shot = screenshotter("e2e-registration-approval");
      const context = await browser.newContext({ baseURL: server.url });
      const page = await context.newPage();

      await page.goto("/register");
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
      await shot(page, "register-filled");
      await page.getByRole("button", { name: "Register" }).click();
      await visible(page.getByRole("heading", { name: "Registration received" }));
      await shot(page, "registered");

      // Pending: login is refused with the reason.
      await page.goto("/login");
      await page.getByLabel("Email").fill(STUDENT.email);
      await page.getByLabel("Password").fill(STUDENT.password);
      await page.getByRole("button", { name: "Log in" }).click();
      await visible(page.getByText("awaiting approval"));
      await shot(page, "login-pending");

      // The admin approves from the verification queue.
      const admin = await (await browser.newContext({ baseURL: server.url })).newPage();
      await admin.goto("/login");
      await admin.getByLabel("Email").fill(ADMIN.email);
      await admin.getByLabel("Password").fill(ADMIN.password);
      await admin.getByRole("button", { name: "Log in" }).click();
      await visible(admin.getByRole("heading", { name: "Admin dashboard" }));
      await visible(admin.getByText("SMS capture mode"));
      await shot(admin, "admin-dashboard");
      await admin.getByRole("link", { name: "Approvals" }).click();
      await shot(admin, "verification-queue");
      await admin.getByRole("link", { name: "Nisha Kulkarni" }).click();
      await visible(admin.getByText("+919845012345"));
      await shot(admin, "student-pending");
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
      await shot(admin, "student-approved-sms-captured");
      await admin.getByRole("link", { name: "SMS", exact: true }).click();
      await visible(admin.getByRole("heading", { name: "SMS" }));
      await shot(admin, "admin-sms");

      // Now the student gets in.
      await page.goto("/login");
      await page.getByLabel("Email").fill(STUDENT.email);
      await page.getByLabel("Password").fill(STUDENT.password);
      await page.getByRole("button", { name: "Log in" }).click();
      await visible(page.getByRole("heading", { name: "Welcome, Nisha" }));
      await shot(page, "student-dashboard");
      const resume = await page.request.get("/student/resume");
      expect(resume.headers()["content-type"]).toBe("application/pdf");

      // The admin posts a job for ECE; the form says how many students it will alert.
      await admin.getByRole("link", { name: "Jobs", exact: true }).click();
      await admin.getByRole("link", { name: "Post a job" }).click();
      await admin.getByLabel("Company").fill("Bosch");
      await admin.getByLabel("Job title").fill("Graduate Engineer Trainee");
      await admin.getByLabel("Type").selectOption("placement");
      await admin.getByLabel("Location").fill("Bengaluru");
      await admin.getByLabel("Package").fill("7-8 LPA");
      await admin.getByLabel("Description").fill("Embedded systems for automotive ECUs.");
      await admin.getByLabel("Apply by").fill(inAWeek());
      await admin.getByRole("checkbox", { name: "ECE" }).check();
      await admin.getByLabel("Minimum CGPA").fill("7");
      await admin.getByRole("button", { name: "Preview eligible students" }).click();
      await visible(admin.getByText("1 approved student is eligible; 1 can get the SMS"));
      await shot(admin, "job-preview");
      await admin.getByRole("button", { name: "Post job" }).click();
      await visible(admin.getByText("Job posted; 1 SMS alert queued."));
      await shot(admin, "job-posted");

      // The student sees it among the jobs open to them and applies.
      await page.getByRole("link", { name: "Jobs", exact: true }).click();
      await page.getByRole("link", { name: "Bosch — Graduate Engineer Trainee" }).click();
      await shot(page, "student-job");
      await page.getByRole("button", { name: "Apply" }).click();
      await visible(page.getByText("Application sent."));
      await shot(page, "student-applied");

      // The admin shortlists, then selects.
      await admin.getByRole("link", { name: "Applicants" }).click();
      await visible(admin.getByRole("link", { name: "Nisha Kulkarni", exact: true }));
      await shot(admin, "applicants");
      await admin.getByRole("button", { name: "Shortlisted: Nisha Kulkarni" }).click();
      await visible(admin.getByText("1 moved to Shortlisted"));
      await admin.getByRole("button", { name: "Interview: Nisha Kulkarni" }).click();
      await visible(admin.getByText("1 moved to Interview"));
      await admin.getByRole("button", { name: "Selected: Nisha Kulkarni" }).click();
      await visible(admin.getByText("1 moved to Selected"));
      await shot(admin, "applicant-selected");

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
      await shot(admin, "admin-sms-status-updates");

      // The student follows it on their timeline.
      await page.getByRole("link", { name: "My applications" }).click();
      await visible(page.getByText("Selected").first());
      await shot(page, "student-timeline");
      await page.getByRole("link", { name: "Dashboard" }).click();
      await shot(page, "student-dashboard-after");

      // The admin dashboard counts the selection and summarises ECE.
      await admin.getByRole("link", { name: "Dashboard" }).click();
      await visible(admin.getByRole("rowheader", { name: "ECE" }));
      await visible(admin.getByText("student selected"));
      await shot(admin, "admin-dashboard-after");
    });
  },
);
