import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createStudent } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * The browser walk-through of the SMS console, as a placement officer uses it: an announcement
 * aimed at one department (previewed, posted, seen only by that department), a job's alerts held
 * by pausing all sending and then cancelled from the job's page, and a failed message explained
 * in plain words and resent from its page. Every wait is a condition, never a fixed sleep.
 */

const PASSWORD = "correct horse battery"; // studentInput's

/** A week from now as a datetime-local value, in India Standard Time. */
function inAWeek(): string {
  return new Date(Date.now() + 7 * 24 * 3600 * 1000 + 330 * 60 * 1000).toISOString().slice(0, 16);
}

describe.skipIf(!hasChromium)("walk-through in chromium: the SMS console", () => {
  const portal = useBrowserPortal({
    // The server's own dispatcher looks for new rows often: the captures show up quickly.
    SMS_POLL_MS: "200",
  });

  /** The console's listed messages (rows of the table), read from the page. */
  async function listedRows(page: Page): Promise<{ id: number; status: string; to: string }[]> {
    return page.locator("tr[data-sms]").evaluateAll((rows) =>
      rows.map((row) => {
        const cells = [...row.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "");
        // With the selection column (queued rows shown) every cell is one further along.
        const offset = row.querySelector("td:first-child a") ? 0 : 1;
        return {
          id: Number((row as HTMLElement).dataset.sms),
          status: row.querySelector(".status")?.textContent?.trim() ?? "",
          to: cells[3 + offset] ?? "",
        };
      }),
    );
  }

  /** Reloads `page` until `check` holds (each reload a fresh read of the server's database). */
  async function reloadUntil(page: Page, check: () => Promise<boolean>, what: string) {
    await expect
      .poll(
        async () => {
          if (await check()) return true;
          await page.reload();
          return check();
        },
        { message: what, timeout: 15_000, interval: 250 },
      )
      .toBe(true);
  }

  it("aims an announcement, holds and cancels a job's alerts, explains and resends a failure", async () => {
    const walk = walkthrough("e2e-sms-console");
    const phone = { phone: true };

    // Two CSE students and two ECE students, approved (each approval SMS is captured).
    const asha = await createStudent(portal.ctx, { approved: true, full_name: "Asha Rao" });
    const karthik = await createStudent(portal.ctx, { approved: true, full_name: "Karthik Bhat" });
    const nisha = await createStudent(portal.ctx, {
      approved: true,
      full_name: "Nisha Kulkarni",
      department: "ECE",
    });
    const rohan = await createStudent(portal.ctx, {
      approved: true,
      full_name: "Rohan Das",
      department: "ECE",
    });
    const cse = [asha, karthik];

    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);
    await visible(admin.getByRole("heading", { name: "Admin dashboard" }));

    // 1. An announcement to CSE only: the preview counts the audience and the SMS before posting.
    await admin.getByRole("link", { name: "Announcements", exact: true }).click();
    await visible(admin.getByRole("heading", { name: "Announcements" }));
    await admin.getByLabel("Title").fill("CSE pre-placement talk");
    await admin
      .getByLabel("Message")
      .fill("Pre-placement talk for CSE on Friday at 10 in the seminar hall.");
    // Ticking CSE is the audience (issue 21: no separate switch to set).
    await admin.getByRole("checkbox", { name: "CSE", exact: true }).check();
    await admin.getByRole("checkbox", { name: /Also send it as an SMS/ }).check();
    await admin.getByRole("button", { name: "Preview audience" }).click();
    const preview = admin.locator("#announcement-preview");
    await visible(preview);
    await expect
      .poll(() => preview.textContent())
      .toMatch(
        /2 approved students are in the audience; 2 can get the SMS \(0 opted out\): 2 messages × 1 segment \(GSM-7\) = 2 segments/,
      );
    expect(await preview.textContent()).toContain("CSE");
    // The form keeps what was typed and chosen.
    expect(await admin.getByRole("checkbox", { name: "CSE", exact: true }).isChecked()).toBe(true);
    expect(await admin.getByRole("checkbox", { name: "ECE", exact: true }).isChecked()).toBe(false);
    await walk.check(admin, "announcement-preview", phone);
    await admin.getByRole("button", { name: "Post announcement" }).click();
    await visible(
      admin.getByText("Announcement posted for 2 students; 2 SMS queued (2 segments)."),
    );
    await walk.check(admin, "announcement-posted");

    // The console, narrowed to announcements, then to this one: exactly the CSE students' SMS.
    await admin.getByRole("link", { name: "SMS", exact: true }).click();
    await visible(admin.getByRole("heading", { name: "SMS", exact: true }));
    await admin.getByLabel("Kind").selectOption({ label: "Announcement" });
    await admin.getByRole("button", { name: "Filter" }).click();
    await visible(admin.locator(".active-filters").getByText("Kind: Announcement"));
    await admin.getByRole("link", { name: "Announcement: CSE pre-placement talk" }).first().click();
    await visible(
      admin.locator(".active-filters").getByText("Announcement: CSE pre-placement talk"),
    );
    await reloadUntil(
      admin,
      async () => {
        const rows = await listedRows(admin);
        return rows.length === 2 && rows.every((r) => r.status === "Captured (not sent)");
      },
      "both announcement SMS captured",
    );
    expect((await listedRows(admin)).map((r) => r.to).sort()).toEqual(
      cse.map((s) => s.phone).sort(),
    );
    await visible(admin.getByText("2 messages", { exact: true }));
    await walk.check(admin, "console-announcement");

    // A CSE student sees it on the dashboard; an ECE student does not.
    const student = await walk.newPage(portal.browser, portal.server.url);
    await logIn(student, { email: asha.email, password: PASSWORD });
    await visible(student.getByRole("heading", { name: "Welcome, Asha" }));
    await visible(student.getByRole("heading", { name: "CSE pre-placement talk" }));
    await walk.check(student, "cse-student-sees-it", phone);
    await student.getByRole("button", { name: "Log out" }).click();
    await visible(student.getByText("You have been logged out."));
    await logIn(student, { email: nisha.email, password: PASSWORD });
    await visible(student.getByRole("heading", { name: "Welcome, Nisha" }));
    await visible(student.getByText("No announcements."));
    expect(await student.getByText("CSE pre-placement talk").count()).toBe(0);

    // 2. Pause all sending; the banner says who paused it and offers Resume.
    await admin.getByRole("link", { name: "SMS", exact: true }).click();
    await admin.getByLabel("Reason (optional)").fill("Checking the Bosch alert text");
    await admin.getByRole("button", { name: "Pause all sending" }).click();
    await visible(admin.getByText(/^Sending paused: no SMS is sent until you resume it/));
    const pausedBanner = admin
      .locator(".banner")
      .filter({ hasText: `Sending paused by ${E2E_ADMIN.email} since` });
    await visible(pausedBanner);
    await visible(pausedBanner.getByText(/“Checking the Bosch alert text”/));
    await visible(pausedBanner.getByRole("button", { name: "Resume sending" }));
    // Paused, the console no longer offers to pause.
    expect(await admin.getByRole("button", { name: "Pause all sending" }).count()).toBe(0);

    // A job for CSE and ECE: its 4 alerts stay queued while sending is paused.
    await admin.getByRole("link", { name: "Jobs", exact: true }).click();
    await admin.getByRole("link", { name: "Post a job" }).click();
    await admin.getByLabel("Company").fill("Bosch");
    await admin.getByLabel("Job title").fill("Graduate Engineer Trainee");
    await admin.getByLabel("Type").selectOption("placement");
    await admin.getByLabel("Location").fill("Bengaluru");
    await admin.getByLabel("Package").fill("7-8 LPA");
    await admin.getByLabel("Description").fill("Embedded systems for automotive ECUs.");
    await admin.getByLabel("Apply by").fill(inAWeek());
    await admin.getByRole("checkbox", { name: "CSE", exact: true }).check();
    await admin.getByRole("checkbox", { name: "ECE", exact: true }).check();
    // The alert is a conscious choice (issue 21): unticked until ticked.
    await admin.getByRole("checkbox", { name: /Send a "new opportunity" SMS/ }).check();
    await admin.getByRole("button", { name: "Post job" }).click();
    await visible(admin.getByText("Job posted; 4 SMS alerts queued."));
    await visible(admin.getByRole("heading", { name: "Bosch – Graduate Engineer Trainee" }));
    const jobUrl = new URL(admin.url()).pathname;
    const alerts = admin.locator("section#alerts");
    await visible(alerts.getByText("4 recipients"));
    await visible(alerts.getByRole("link", { name: "4 still queued" }));
    await visible(alerts.getByRole("button", { name: "Cancel the 4 queued alerts…" }));
    await walk.check(admin, "job-alerts-queued", phone);

    // One of them from the console's list: tick it, Cancel selected, confirm.
    await alerts.getByRole("link", { name: "4 recipients" }).click();
    await visible(admin.getByText("Job alert of Bosch – Graduate Engineer Trainee"));
    const queuedRows = await listedRows(admin);
    expect(queuedRows.map((r) => r.status)).toEqual(["Queued", "Queued", "Queued", "Queued"]);
    const first = queuedRows[0]!;
    await admin.getByRole("checkbox", { name: `Select message ${first.id}` }).check();
    await admin.getByRole("button", { name: "Cancel selected" }).click();
    await visible(admin.getByRole("heading", { name: "Cancel 1 queued SMS?" }));
    await visible(admin.getByText(/^1 queued message of 1 selected message is not sent\./));
    const confirmOne = admin.getByRole("button", { name: "Cancel 1 SMS", exact: true });
    expect(await confirmOne.getAttribute("class")).toContain("danger");
    await walk.check(admin, "cancel-selected-confirm", phone);
    await confirmOne.click();
    await visible(admin.getByText("1 SMS cancelled."));
    await visible(admin.locator(`tr[data-sms="${first.id}"] .status`, { hasText: "Cancelled" }));

    // The rest from the job's page: "Cancel the 3 queued alerts…", confirmed.
    await admin
      .getByRole("link", { name: "Job: Bosch – Graduate Engineer Trainee" })
      .first()
      .click();
    expect(new URL(admin.url()).pathname).toBe(jobUrl);
    await visible(alerts.getByRole("link", { name: "3 still queued" }));
    await visible(alerts.getByRole("link", { name: "1 cancelled" }));
    await alerts.getByRole("button", { name: "Cancel the 3 queued alerts…" }).click();
    await visible(admin.getByRole("heading", { name: "Cancel 3 queued SMS?" }));
    await visible(admin.getByText(/^3 queued messages of the alerts of job #\d+ are not sent\./));
    await walk.check(admin, "cancel-job-alerts-confirm", phone);
    // Cancel on the confirmation page changes nothing.
    await admin.getByRole("link", { name: "Keep them queued", exact: true }).click();
    await visible(alerts.getByRole("link", { name: "3 still queued" }));
    await alerts.getByRole("button", { name: "Cancel the 3 queued alerts…" }).click();
    await admin.getByRole("button", { name: "Cancel 3 SMS", exact: true }).click();
    await visible(admin.getByText("3 SMS cancelled."));
    expect(new URL(admin.url()).pathname).toBe(jobUrl);
    await visible(alerts.getByRole("link", { name: "4 cancelled" }));
    expect(await alerts.getByText("still queued").count()).toBe(0);
    expect(await alerts.getByRole("button", { name: /Cancel the/ }).count()).toBe(0);
    await walk.check(admin, "job-alerts-cancelled", phone);

    // Resume from the banner: the banner goes, and the console offers Pause again.
    await pausedBanner.getByRole("button", { name: "Resume sending" }).click();
    await visible(admin.getByText("Sending resumed: queued SMS go out now."));
    expect(new URL(admin.url()).pathname).toBe(jobUrl);
    expect(await admin.locator(".banner").filter({ hasText: "Sending paused by" }).count()).toBe(0);
    const cancelled = await portal.ctx.db
      .selectFrom("sms_messages")
      .select(["status", "error_message"])
      .where("kind", "=", "job_posted")
      .execute();
    expect(cancelled).toHaveLength(4);
    expect(cancelled.every((m) => m.status === "cancelled")).toBe(true);
    expect(cancelled.every((m) => m.error_message === `Cancelled by ${E2E_ADMIN.email}`)).toBe(
      true,
    );

    // 3. A status SMS to Nisha that Twilio refused (21211), as the dispatcher records one: the
    // claim (sending, attempt 1) and the outcome write (failed) that the attempts trigger copies.
    const failedAt = new Date().toISOString();
    const failedId = await portal.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto("sms_messages")
        .values({
          kind: "status_update",
          priority: 0,
          dedupe_key: `e2e-failed:${nisha.id}`,
          student_id: nisha.id,
          to_e164: nisha.phone,
          body: "Dear Nisha, your status for Bosch - Graduate Engineer Trainee has been updated to 'Shortlisted'.",
          encoding: "GSM-7",
          segments: 1,
          status: "sending",
          attempts: 1,
          next_attempt_at: failedAt,
          lease_owner: "e2e-test",
          lease_until: new Date(Date.now() + 60_000).toISOString(),
          created_at: failedAt,
          updated_at: failedAt,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await trx
        .updateTable("sms_messages")
        .set({
          status: "failed",
          lease_owner: null,
          lease_until: null,
          error_code: 21211,
          error_message: `The 'To' number ${nisha.phone} is not a valid phone number.`,
          attempt_started_at: failedAt,
          attempt_outcome: "failed",
          updated_at: new Date().toISOString(),
        })
        .where("id", "=", row.id)
        .execute();
      return row.id;
    });

    // The banner on any admin page counts it and links to it.
    await admin.getByRole("link", { name: "Dashboard", exact: true }).click();
    const failureBanner = admin
      .locator(".banner")
      .filter({ hasText: "1 SMS has failed or not been delivered in the last 24 hours." });
    await visible(failureBanner);
    await failureBanner.getByRole("link", { name: "See it" }).click();
    await visible(admin.getByText("Status: Failed or not delivered"));
    expect((await listedRows(admin)).map((r) => r.id)).toEqual([failedId]);
    await admin.locator(`tr[data-sms="${failedId}"] td a`).first().click();

    // Its page explains the error in plain words and offers Resend.
    await visible(admin.getByRole("heading", { name: `SMS ${failedId}` }));
    const error = admin.locator("dd.sms-error");
    await visible(error.getByText("Not a valid mobile number"));
    await visible(error.getByText("(Twilio error 21211)"));
    await visible(error.getByText("What to do: Correct the student's phone number, then resend."));
    await visible(admin.getByRole("cell", { name: "Not a valid mobile number (21211)" }));
    await walk.check(admin, "message-failed", phone);
    await admin.getByRole("button", { name: "Resend", exact: true }).click();

    // The new message's page says whose resend it is, then shows it captured.
    await visible(admin.getByText(/^Resent: message #\d+ queued\.$/));
    const resentId = Number(/\/admin\/sms\/(\d+)$/.exec(admin.url())?.[1]);
    expect(resentId).toBeGreaterThan(failedId);
    await visible(admin.getByRole("heading", { name: `SMS ${resentId}` }));
    await visible(admin.getByRole("link", { name: `SMS ${failedId}`, exact: true }));
    await reloadUntil(
      admin,
      async () =>
        (await admin.locator("dd .status", { hasText: "Captured (not sent)" }).count()) === 1,
      "the resend captured",
    );
    await visible(admin.getByRole("cell", { name: "Captured on this server (not sent)" }));
    await walk.check(admin, "message-resent", phone);

    // The original now links its resend; the student's page lists both.
    await admin.getByRole("link", { name: `SMS ${failedId}`, exact: true }).click();
    await visible(admin.getByRole("link", { name: `SMS ${resentId}`, exact: true }));
    await visible(admin.getByText("(Captured (not sent))"));
    await admin.getByRole("link", { name: "Nisha Kulkarni (" }).click();
    const history = admin.locator("section[aria-labelledby=student-sms]");
    await visible(history.getByRole("heading", { name: "SMS to this student" }));
    // Newest first: the resend, the failure, the cancelled job alert, the approval.
    expect(await history.locator("tbody .status").allTextContents()).toEqual([
      "Captured (not sent)",
      "Failed",
      "Cancelled",
      "Captured (not sent)",
    ]);
    await walk.check(admin, "student-sms-history", phone);

    // 4. The console unfiltered: counts per status and two charts with bars.
    await admin.getByRole("link", { name: "SMS", exact: true }).click();
    await visible(admin.getByRole("heading", { name: "SMS", exact: true }));
    await expect.poll(() => admin.locator("figure.sms-chart svg[role=img]").count()).toBe(2);
    // 4 approvals, 2 announcement SMS and the resend captured; 4 alerts cancelled; 1 failed.
    const counts = admin.getByRole("list", { name: "Messages per status, for these filters" });
    for (const figure of [
      "7 Captured (not sent)",
      "4 Cancelled",
      "1 Failed",
      "1 Failed or not delivered",
    ])
      await visible(counts.getByRole("link", { name: figure, exact: true }));
    expect(await admin.locator("figure.sms-chart svg rect").count()).toBeGreaterThan(2);
    await walk.check(admin, "console-charts", phone);

    // The SMS texts, from the console's link.
    await admin.getByRole("link", { name: "SMS texts and DLT ids" }).click();
    await visible(admin.getByRole("heading", { name: "SMS templates" }));
    await walk.check(admin, "templates", phone);
    await admin.getByRole("link", { name: "Announcement", exact: true }).click();
    await visible(admin.getByRole("heading", { name: "SMS template: Announcement" }));
    await visible(admin.getByText("Version 1 (current): Default text (never edited)"));
    await walk.check(admin, "template-announcement", phone);

    // Nothing else was sent: the ECE students' only SMS are their approvals (and Nisha's two).
    const rohanSms = await portal.ctx.db
      .selectFrom("sms_messages")
      .select("kind")
      .where("student_id", "=", rohan.id)
      .where("kind", "!=", "job_posted")
      .execute();
    expect(rohanSms).toEqual([{ kind: "approval" }]);
    expect(walk.checked.length).toBeGreaterThanOrEqual(12);
  });
});
