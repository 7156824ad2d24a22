import { describe, expect, it } from "vitest";
import { toLocalInput } from "#src/web/time.ts";
import { createAdmin, createStudent, postJob } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * Issue 21, "no trap", in a browser: an announcement aimed at ECE 2027 goes to ECE 2027 (a job
 * picked as well is refused, everything kept), its SMS box starts unticked, and an SMS to more
 * than 100 students asks on a confirmation page whose Cancel keeps the form; the same for a job's
 * alerts. Each page at 1280 and 390 px, axe-core clean.
 */

describe.skipIf(!hasChromium)("walk-through in chromium: SMS to many asks first", () => {
  const portal = useBrowserPortal();

  async function queued(kind: "custom" | "job_posted"): Promise<number> {
    const rows = await portal.ctx.db
      .selectFrom("sms_messages")
      .select("id")
      .where("kind", "=", kind)
      .execute();
    return rows.length;
  }

  it("aims an announcement by its ticks, confirms its SMS to 101 students, and a job's alerts", async () => {
    const walk = walkthrough("e2e-sms-fan-out");
    for (let i = 0; i < 101; i++)
      await createStudent(portal.ctx, { approved: true, department: "ECE", graduation_year: 2027 });
    await createStudent(portal.ctx, { approved: true, department: "CSE", graduation_year: 2027 });
    const staff = await createAdmin(portal.ctx, "jobs-admin@college.test");
    const day = 24 * 3600 * 1000;
    const job = await postJob(
      portal.ctx,
      { company: "Infosys", title: "SDE", apply_by: new Date(Date.now() + 3 * day).toISOString() },
      staff,
    );
    await postJob(
      portal.ctx,
      { company: "Infosys", title: "SDE", apply_by: new Date(Date.now() + 9 * day).toISOString() },
      staff,
    );

    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);
    await visible(admin.getByRole("heading", { name: "Admin dashboard" }));

    await walk.visit(admin, "/admin/announcements", "announcement-form", { phone: true });
    const smsBox = admin.getByRole("checkbox", { name: /Also send it as an SMS/ });
    expect(await smsBox.isChecked()).toBe(false);
    await visible(admin.getByText("Nothing ticked and no job chosen: every approved student"));
    // The job picker: open jobs by deadline, two alike told apart.
    const options = await admin.locator("#f-job_id option").allTextContents();
    expect(options[1]).toMatch(new RegExp(`^Infosys – SDE · open, apply by .* no\\. ${job.id}$`));
    expect(options[2]).toMatch(/^Infosys – SDE · open, apply by /);
    expect(options[2]).not.toBe(options[1]);

    await admin.getByLabel("Title").fill("ECE aptitude test");
    await admin.getByLabel("Message").fill("Hall B at 10 am.\nBring a pencil.");
    await admin.getByRole("checkbox", { name: "ECE", exact: true }).check();
    await admin.getByRole("checkbox", { name: "2027", exact: true }).check();
    await smsBox.check();
    // A job picked as well: refused, with everything kept.
    await admin.locator("#f-job_id").selectOption(String(job.id));
    await admin.getByRole("button", { name: "Post announcement" }).click();
    await visible(admin.getByText(/Choose either departments, graduation years and semesters/));
    await walk.check(admin, "announcement-mixed-audience", { phone: true });
    expect(await admin.getByLabel("Title").inputValue()).toBe("ECE aptitude test");
    expect(await admin.getByRole("checkbox", { name: "ECE", exact: true }).isChecked()).toBe(true);
    expect(await smsBox.isChecked()).toBe(true);
    expect(await queued("custom")).toBe(0);

    // Back to "No job": the ticks are the audience, and the SMS to 101 asks first.
    await admin.locator("#f-job_id").selectOption("");
    await admin.getByRole("button", { name: "Preview audience" }).click();
    await visible(admin.getByText(/Students of ECE, graduating 2027: 101 approved students/));
    await admin.getByRole("button", { name: "Post announcement" }).click();
    await visible(
      admin.getByRole("heading", { name: "Send “ECE aptitude test” by SMS to 101 students?" }),
    );
    await visible(admin.getByText(/101 students get an SMS: 101 messages × 1 segment/));
    await walk.check(admin, "announcement-confirm", { phone: true });
    expect(await queued("custom")).toBe(0);
    await admin.getByRole("button", { name: "Cancel" }).click();
    await visible(admin.getByRole("button", { name: "Post announcement" }));
    expect(await admin.getByLabel("Title").inputValue()).toBe("ECE aptitude test");
    expect(await admin.getByLabel("Message").inputValue()).toBe(
      "Hall B at 10 am.\nBring a pencil.",
    );
    expect(await admin.getByRole("checkbox", { name: "2027", exact: true }).isChecked()).toBe(true);
    expect(await smsBox.isChecked()).toBe(true);
    expect(await portal.ctx.db.selectFrom("announcements").select("id").execute()).toEqual([]);

    await admin.getByRole("button", { name: "Post announcement" }).click();
    await admin.getByRole("button", { name: "Post and send 101 SMS" }).click();
    await visible(
      admin.getByText("Announcement posted for 101 students; 101 SMS queued (101 segments)."),
    );
    await walk.check(admin, "announcement-posted", { phone: true });
    expect(await queued("custom")).toBe(101);
    // The text went through the confirmation page unchanged: the line break as the browser sends
    // it from the form itself (CRLF), not doubled.
    const posted = await portal.ctx.db.selectFrom("announcements").select("message").execute();
    expect(posted.map((a) => a.message)).toEqual(["Hall B at 10 am.\r\nBring a pencil."]);

    // A job open to everyone: 102 alerts, asked first.
    await walk.visit(admin, "/admin/jobs/new", "job-form", { phone: true });
    const alertBox = admin.getByRole("checkbox", { name: /Send a "new opportunity" SMS/ });
    expect(await alertBox.isChecked()).toBe(false);
    await admin.getByLabel("Company").fill("Bosch");
    await admin.getByLabel("Job title").fill("GET");
    await admin.getByLabel("Type").selectOption("placement");
    await admin
      .getByLabel("Apply by")
      .fill(toLocalInput(new Date(Date.now() + 7 * day).toISOString()));
    await alertBox.check();
    await admin.getByRole("button", { name: "Post job" }).click();
    await visible(
      admin.getByRole("heading", { name: "Post Bosch – GET and send 102 SMS alerts?" }),
    );
    await walk.check(admin, "job-confirm", { phone: true });
    await admin.getByRole("button", { name: "Cancel" }).click();
    expect(await admin.getByLabel("Company").inputValue()).toBe("Bosch");
    expect(await alertBox.isChecked()).toBe(true);
    expect(await queued("job_posted")).toBe(0);
    await admin.getByRole("button", { name: "Post job" }).click();
    await admin.getByRole("button", { name: "Post job and send 102 SMS" }).click();
    await visible(admin.getByText("Job posted; 102 SMS alerts queued."));
    expect(await queued("job_posted")).toBe(102);
  });
});
