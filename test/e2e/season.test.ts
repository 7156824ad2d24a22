import { readFileSync } from "node:fs";
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { toLocalInput } from "#src/web/time.ts";
import { createStudent } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { waitFor } from "#test/support/sms.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * Issue 23 in a browser: a season for one job. The office posts it, a student applies, the office
 * schedules an aptitude test and an interview and puts the student in the test by roll number;
 * the student sees both on the dashboard and downloads the test's .ics; the reminder arrives (in
 * capture mode: the portal's own record, nothing leaves the machine); the results move the
 * student on to the interview. Every page at 1280 and 390 px, axe-core clean.
 */

/** A moment at least `ms` ahead, on the minute (the form's precision), whose reminder is soon. */
function onTheMinute(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 60_000) * 60_000);
}

describe.skipIf(!hasChromium)("walk-through in chromium: a season for one job", () => {
  // A reminder one minute before any batch, so that it comes during the walk-through.
  const portal = useBrowserPortal({
    REMINDER_EVENING_AT: "",
    REMINDER_EARLY_MINUTES: "1",
    REMINDER_EARLY_BEFORE: "23:59",
  });

  it("posts, applies, schedules two rounds, shows them with their .ics, reminds and moves on", async () => {
    const walk = walkthrough("e2e-season");
    const student = await createStudent(portal.ctx, {
      approved: true,
      full_name: "Asha Rao",
      roll_number: "1XY22CS042",
    });
    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);
    await visible(admin.getByRole("heading", { name: "Admin dashboard" }));

    // The office posts the job, with a deadline reminder a day before.
    await admin.goto("/admin/jobs/new");
    await admin.getByLabel("Company").fill("Infosys");
    await admin.getByLabel("Job title").fill("Systems Engineer");
    await admin.getByLabel("Type").selectOption("placement");
    await admin
      .getByLabel("Apply by")
      .fill(toLocalInput(new Date(Date.now() + 5 * 86_400_000).toISOString()));
    await admin.getByLabel(/Deadline reminder: hours before the deadline/).fill("24");
    await admin.getByRole("button", { name: "Preview eligible students" }).click();
    await visible(admin.getByText(/Deadline reminder at .* to 1 student who has not applied/));
    await walk.check(admin, "job-form-with-nudge", { phone: true });
    await admin.getByRole("button", { name: "Post job" }).click();
    await visible(admin.getByText(/Deadline reminder queued for 1 student/));
    const jobUrl = new URL(admin.url()).pathname;

    // The student applies.
    const asStudent = await walk.newPage(portal.browser, portal.server.url);
    await logIn(asStudent, { email: student.email, password: student.password });
    await visible(asStudent.getByRole("heading", { name: "Welcome, Asha" }));
    await asStudent.goto("/student/jobs");
    await asStudent
      .getByRole("link", { name: /Systems Engineer/ })
      .first()
      .click();
    await asStudent.getByRole("button", { name: /^Apply/ }).click();
    await visible(asStudent.getByText(/Application sent/));
    const nudges = await portal.ctx.db
      .selectFrom("sms_messages")
      .select(["status", "error_message"])
      .where("kind", "=", "deadline_nudge")
      .execute();
    expect(nudges).toEqual([
      { status: "cancelled", error_message: "Cancelled: the student applied" },
    ]);

    // The office schedules an aptitude test (its reminder a minute before) and an interview.
    await admin.goto(`${jobUrl}/rounds`);
    await walk.check(admin, "rounds-empty", { phone: true });
    const test = onTheMinute(62_000);
    await admin.getByLabel("Name (such as Aptitude test)").fill("Aptitude test");
    await admin.getByLabel("Kind").selectOption("test");
    await admin.getByLabel("Date and time (India time)").fill(toLocalInput(test.toISOString()));
    await admin.getByLabel("Duration (minutes)").fill("60");
    await admin.getByLabel("Venue").fill("Seminar Hall 2");
    await admin.getByLabel("Instructions").fill("Bring your college ID.");
    await admin.getByRole("button", { name: "Add the round" }).click();
    await visible(admin.getByText("Aptitude test added. Put applicants in it below."));
    const testUrl = new URL(admin.url()).pathname;
    await admin.getByLabel(/Roll numbers/).fill("1xy22cs042");
    await admin.getByRole("button", { name: "Put them in…" }).click();
    await visible(admin.getByRole("heading", { name: "Put 1 student in Aptitude test?" }));
    await visible(admin.getByText(/will get an SMS now: “You are in Aptitude test for Infosys/));
    await walk.check(admin, "put-in-confirm", { phone: true });
    await admin.getByRole("button", { name: "Put 1 student in" }).click();
    await visible(admin.getByText(/1 student put in Aptitude test/));
    await walk.check(admin, "round-page", { phone: true });

    await admin.goto(`${jobUrl}/rounds`);
    const interview = new Date(test.getTime() + 2 * 86_400_000);
    await admin.getByLabel("Name (such as Aptitude test)").fill("Technical interview");
    await admin.getByLabel("Kind").selectOption("interview");
    await admin
      .getByLabel("Date and time (India time)")
      .fill(toLocalInput(interview.toISOString()));
    await admin.getByLabel("Duration (minutes)").fill("30");
    await admin.getByLabel("Meeting link (online rounds)").fill("https://meet.example.com/infosys");
    await admin.getByRole("button", { name: "Add the round" }).click();
    await visible(admin.getByText("Technical interview added. Put applicants in it below."));
    await admin.goto(`/admin/rounds?day=${toLocalInput(test.toISOString()).slice(0, 10)}`);
    await visible(admin.getByText(/1 student expected/));
    await walk.check(admin, "day-view", { phone: true });

    // The student sees the test on the dashboard and takes its .ics.
    await walk.visit(asStudent, "/student", "student-dashboard-rounds", { phone: true });
    await visible(asStudent.getByText("Aptitude test · Infosys – Systems Engineer"));
    const feed = await asStudent
      .getByRole("link", { name: "Subscribe to your rounds calendar (.ics)" })
      .getAttribute("href");
    expect(feed).toMatch(/^\/calendar\/\d+\/[\w-]{32}\/rounds\.ics$/);
    const [download] = await Promise.all([
      asStudent.waitForEvent("download"),
      asStudent.getByRole("link", { name: /^Add to calendar \(\.ics\): Aptitude test/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.ics$/);
    const text = readFileSync((await download.path())!, "utf8");
    const event = new ICAL.Event(
      new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent("vevent")!,
    );
    expect(event.summary).toBe("Aptitude test · Infosys – Systems Engineer");
    expect(event.location).toBe("Seminar Hall 2");
    expect(event.startDate.toJSDate().getTime()).toBe(test.getTime());
    await walk.visit(asStudent, "/student/applications", "student-applications-rounds", {
      phone: true,
    });

    // The reminder comes a minute before the test: captured, as every SMS without Twilio is.
    await waitFor(
      async () =>
        (
          await portal.ctx.db
            .selectFrom("sms_messages")
            .select("status")
            .where("kind", "=", "round_reminder")
            .executeTakeFirst()
        )?.status === "captured",
      150_000,
      "the reminder to be captured",
    );
    await admin.goto("/admin/sms?kind=round_reminder");
    await visible(admin.getByText(/Reminder: Aptitude test for Infosys/).first());
    await walk.check(admin, "sms-console-reminder", { phone: true });

    // Results: she passed; applying them puts her in the interview.
    await admin.goto(testUrl);
    await admin.getByRole("checkbox", { name: "Select Asha Rao" }).check();
    await admin.getByRole("button", { name: "Mark passed" }).click();
    await visible(admin.getByText("1 student marked passed."));
    await admin.getByRole("button", { name: "Apply the results…" }).click();
    await visible(admin.getByRole("heading", { name: "Apply the results of Aptitude test?" }));
    await admin.locator("select[name=next_slot]").selectOption({ index: 1 });
    await walk.check(admin, "results-confirm", { phone: true });
    await admin.getByRole("button", { name: "Apply the results" }).click();
    await visible(admin.getByText(/Results applied: 1 student put in the next round/));
    await walk.visit(asStudent, "/student", "student-dashboard-interview", { phone: true });
    await visible(asStudent.getByText("Technical interview · Infosys – Systems Engineer"));
    expect(walk.checked.filter((c) => c.widths.includes(390)).length).toBeGreaterThanOrEqual(10);
  }, 300_000);
});
