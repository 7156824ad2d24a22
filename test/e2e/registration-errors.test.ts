import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, visible } from "#test/support/browser.ts";
import { pdfBytes } from "#test/support/client.ts";
import { type ServerProcess, startServerProcess } from "#test/support/server.ts";
import { walkthrough } from "./support/walk.ts";

if (!hasChromium) console.warn("NOTICE: chromium not found: the browser walk-through is SKIPPED");

describe.skipIf(!hasChromium)("walk-through in chromium: a registration with mistakes", () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServerProcess({});
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("tells every mistake at once, keeps what was typed and asks for the resume again", async () => {
    const walk = walkthrough("e2e-registration-errors");
    const phone = { phone: true };
    const page = await walk.newPage(browser, server.url);
    await walk.visit(page, "/register", "register", phone);
    await page.getByLabel("Full name").fill("Ravi Patil");
    await page.getByLabel("Roll number (USN)").fill("1xy21me011");
    await page.getByLabel("Email").fill("ravi@college.test");
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
    await page.getByLabel("Password", { exact: true }).fill("ravi-password-1");
    await page.getByLabel("Repeat the password").fill("ravi-password-1");
    await page.getByRole("button", { name: "Register" }).click();
    await visible(page.getByRole("heading", { name: "Registration received" }));
  });
});
