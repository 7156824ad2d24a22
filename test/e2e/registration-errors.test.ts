import { describe, expect, it } from "vitest";
import { hasChromium, visible } from "#test/support/browser.ts";
import { pdfBytes } from "#test/support/client.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

if (!hasChromium) console.warn("NOTICE: chromium not found: the browser walk-through is SKIPPED");

const RAVI = { email: "ravi@college.test", password: "ravi-password-1" };

describe.skipIf(!hasChromium)(
  "walk-through in chromium: a registration with mistakes, rejected",
  () => {
    const portal = useBrowserPortal();

    it("tells every mistake at once, keeps what was typed and asks for the resume again", async () => {
      const walk = walkthrough("e2e-registration-errors");
      const phone = { phone: true };
      const page = await walk.newPage(portal.browser, portal.server.url);
      await walk.visit(page, "/register", "register", phone);
      await page.getByLabel("Full name").fill("Ravi Patil");
      await page.getByLabel("Roll number (USN)").fill("1xy21me011");
      await page.getByLabel("Email").fill(RAVI.email);
      await page.getByLabel("Mobile number").fill("12345");
      await page.getByLabel("Department").selectOption("ME");
      await page.getByLabel("Semester").fill("7");
      await page.getByLabel("Graduation year").fill("2027");
      await page.getByLabel("CGPA").fill("7.9");
      await page.getByLabel("Active backlogs").fill("0");
      await page.getByLabel("Resume (PDF)").setInputFiles({
        name: "ravi.pdf",
        mimeType: "application/pdf",
        buffer: pdfBytes("ravi"),
      });
      await page.getByLabel("Password", { exact: true }).fill("ravi-password-1");
      await page.getByLabel("Repeat the password").fill("ravi-password-2");
      await page.getByRole("button", { name: "Register" }).click();

      // One round: the phone, the passwords and the file, each beside its field.
      await visible(page.getByText("Please correct the 3 fields marked below."));
      await visible(page.getByText("This is not a valid phone number."));
      await visible(page.getByText("The two passwords do not match."));
      await visible(
        page.getByText("Choose the file (ravi.pdf) again: a form sent back cannot keep it."),
      );
      expect(await page.getByLabel("Full name").inputValue()).toBe("Ravi Patil");
      expect(await page.getByLabel("CGPA").inputValue()).toBe("7.9");
      expect(await page.getByLabel("Password", { exact: true }).inputValue()).toBe("");
      await walk.check(page, "register-errors", phone);

      await page.getByLabel("Mobile number").fill("98450 12399");
      await page.getByLabel("Resume (PDF)").setInputFiles({
        name: "ravi.pdf",
        mimeType: "application/pdf",
        buffer: pdfBytes("ravi"),
      });
      await page.getByLabel("Password", { exact: true }).fill(RAVI.password);
      await page.getByLabel("Repeat the password").fill(RAVI.password);
      await page.getByRole("button", { name: "Register" }).click();
      await visible(page.getByRole("heading", { name: "Registration received" }));

      // The office rejects it; at login Ravi is told so, with the reason, not "Incorrect password".
      const admin = await walk.newPage(portal.browser, portal.server.url);
      await logIn(admin, E2E_ADMIN);
      await visible(admin.getByRole("heading", { name: "Admin dashboard" }));
      await admin.getByRole("link", { name: "Approvals" }).click();
      await admin.getByRole("link", { name: "Ravi Patil" }).click();
      await admin
        .getByLabel("Reason for rejection (optional, sent to the student)")
        .fill("Marks card unreadable");
      await admin.getByRole("button", { name: "Reject…" }).click();
      await admin.getByRole("button", { name: "Reject and delete registration" }).click();
      await visible(admin.getByText(/Rejected Ravi Patil/));

      await logIn(page, RAVI);
      await visible(
        page.getByText(/Your registration was not approved by the placement office on/),
      );
      await visible(page.getByText(/The reason given: Marks card unreadable\./));
      await walk.check(page, "login-rejected", phone);
      await logIn(page, { ...RAVI, password: "a wrong password" });
      await visible(page.getByText("Incorrect email or password."));

      // The console names the rejection SMS's person from what it kept, without a link to a 404.
      await walk.visit(admin, "/admin/sms", "sms-console-kept-name", phone);
      await visible(admin.getByText("Ravi Patil (1XY21ME011), no longer in the portal").first());
      expect(await admin.getByRole("link", { name: /Ravi Patil/ }).count()).toBe(0);

      // The template editor: every error at once, and the preview shows the text typed.
      await admin.goto("/admin/sms/templates/approval");
      await admin.getByLabel("Text").fill("Dear {nmae}, approved.");
      await admin.getByLabel("DLT template id").fill("12345");
      await admin.getByRole("button", { name: /Save as version/ }).click();
      await visible(admin.getByText("Please correct the 2 fields marked below."));
      await visible(admin.getByTestId("preview-body").getByText("Dear {nmae}, approved."));
      await walk.check(admin, "template-errors", phone);
    });
  },
);
