import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { postAnnouncement } from "#src/announcements/service.ts";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import {
  headerHeight,
  logIn,
  PHONE,
  type StepOptions,
  smallTapTargets,
  walkthrough,
} from "./support/walk.ts";

/**
 * Every page a student sees, logged out and in, at 1280 and 390 px (issue 21): axe-core clean
 * with its target-size rule, no sideways scroll, every tap target at least 24 × 24 px, and on a
 * phone a header of one line (at most 64 px; it was three lines, 150 px) whose menu opens without
 * JavaScript. The job list finds by words, type, location and package, sorted, and 50 jobs fit a
 * phone in a sensible height (50 cards were 8,200 px).
 */

/** At 390 px: a one-line header, and no tap target under 24 px. */
const phone: StepOptions = {
  phone: true,
  async onPhone(page) {
    expect(await headerHeight(page), `${page.url()}: header at 390 px`).toBeLessThanOrEqual(64);
    expect(await smallTapTargets(page), `${page.url()}: small tap targets`).toEqual([]);
  },
};

describe.skipIf(!hasChromium)(
  "walk-through in chromium: every student page, at 1280 and 390 px",
  () => {
    const portal = useBrowserPortal();

    it("checks every page, the phone's menu, and the job search", async () => {
      const walk = walkthrough("e2e-student-pages");
      const staff = await createAdmin(portal.ctx, "jobs-admin@college.test");
      const asha = await createStudent(portal.ctx, {
        approved: true,
        full_name: "Asha Rao",
        department: "CSE",
        cgpa: 8.2,
      });
      const day = 24 * 3600_000;
      const companies = ["Infosys", "Wipro", "Bosch", "Tata Elxsi", "Mindtree", "Siemens"];
      const locations = ["Bengaluru", "Pune", "Mysuru", "Hyderabad"];
      const types = ["placement", "internship", "drive"] as const;
      const jobIds: number[] = [];
      for (let i = 0; i < 56; i++) {
        const { id } = await postJob(
          portal.ctx,
          {
            company: companies[i % companies.length]!,
            title: i % 3 === 1 ? "Summer Trainee" : "Graduate Engineer Trainee",
            type: types[i % 3]!,
            location: locations[i % locations.length]!,
            package_range: `${3 + (i % 10)}-${8 + (i % 12)} LPA`,
            description: i === 0 ? "Embedded C on automotive ECUs, six months in Bengaluru." : "",
            departments: i % 7 === 3 ? ["ECE"] : [],
            apply_by: new Date(Date.now() + (2 + i) * day).toISOString(),
          },
          staff,
        );
        jobIds.push(id);
      }
      await applyToJob(portal.ctx, asha.id, jobIds[0]!);
      await postAnnouncement(portal.ctx, staff, {
        title: "Pre-placement talk on Monday",
        message: "Bosch presents at 10 am in the seminar hall. Bring your resume.",
        send_sms: false,
        submission_id: null,
      });

      const page = await walk.newPage(portal.browser, portal.server.url);

      // Logged out: one line at 390 px without a menu.
      await walk.visit(page, "/login", "login", phone);
      await walk.visit(page, "/register", "register", phone);
      await walk.visit(page, "/password/forgot", "password-forgot", phone);
      await page.getByLabel("Email").fill(asha.email);
      await page.getByRole("button", { name: "Send me a code" }).click();
      await page.waitForURL(/\/password\/reset$/);
      await walk.check(page, "password-reset-code", phone);

      await logIn(page, asha);
      await visible(page.getByRole("heading", { name: /Welcome, Asha/ }));
      await visible(page.getByRole("heading", { name: "Announcements" }));
      await visible(page.getByText("Pre-placement talk on Monday"));
      await walk.check(page, "dashboard", phone);

      // The job list: 50 of the 56 jobs, one or two lines each.
      await walk.visit(page, "/student/jobs", "jobs", phone);
      expect(await page.locator(".job-row").count()).toBe(50);
      await page.setViewportSize(PHONE);
      const listHeight = await page.evaluate(() =>
        [...document.querySelectorAll(".job-rows")].reduce(
          (sum, list) => sum + list.getBoundingClientRect().height,
          0,
        ),
      );
      // 50 cards measured 8,200 px; one or two lines each stay under 80 px a job.
      expect(listHeight, "the job list's height at 390 px").toBeLessThan(50 * 80);
      await page.setViewportSize({ width: 1280, height: 800 });

      // Searching by the type's word, then filtering and sorting, all kept in the URL and the pages.
      await page.getByRole("searchbox", { name: "Search jobs" }).fill("internship");
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL(/q=internship/);
      await visible(page.getByText(/^19 jobs matching “internship”\.$/));
      await walk.check(page, "jobs-search-internship", phone);
      await page.getByRole("searchbox", { name: "Search jobs" }).fill("");
      await page.locator("select[name=type]").selectOption("internship");
      await page.locator("select[name=location]").selectOption("Pune");
      await page.locator("select[name=package]").selectOption("8");
      await page.locator("select[name=sort]").selectOption("package");
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL(/sort=package/);
      expect(new URL(page.url()).search).toBe(
        "?q=&type=internship&location=Pune&package=8&sort=package",
      );
      const facts = await page.locator(".job-row .hint").allTextContents();
      expect(facts.length).toBeGreaterThan(0);
      for (const line of facts) expect(line).toMatch(/^Internship · Pune · /);
      await walk.check(page, "jobs-filtered", phone);
      await walk.visit(page, "/student/jobs?page=2", "jobs-page-2", phone);

      await page.goto("/student/jobs");
      await page.getByRole("link", { name: "Infosys – Graduate Engineer Trainee" }).first().click();
      await walk.check(page, "job", phone);
      await walk.visit(page, "/student/applications", "applications", phone);
      await walk.visit(page, "/student/profile", "profile", phone);
      await walk.visit(page, "/student/password", "password-change", phone);
      await walk.visit(page, "/student/phone", "phone-change", phone);

      // The phone's menu: closed, the header is one line; open, every link is there and works.
      await page.setViewportSize(PHONE);
      await page.goto("/student");
      const menu = page.locator("summary", { hasText: "Menu" });
      await visible(menu);
      await menu.click();
      for (const name of ["Dashboard", "Jobs", "My applications", "My profile", "Change password"])
        await visible(page.getByRole("link", { name, exact: true }));
      await visible(page.getByRole("button", { name: "Log out" }));
      await walk.check(page, "menu-open-390");
      expect(await smallTapTargets(page)).toEqual([]);
      await page.getByRole("link", { name: "My applications", exact: true }).click();
      await visible(page.getByRole("heading", { name: "My applications" }));
      await page.locator("summary", { hasText: "Menu" }).click();
      await page.getByRole("button", { name: "Log out" }).click();
      await visible(page.getByText("You have been logged out."));
      await page.setViewportSize({ width: 1280, height: 800 });

      // The admin's header is one line on a phone too.
      const admin = await walk.newPage(portal.browser, portal.server.url);
      await logIn(admin, E2E_ADMIN);
      await visible(admin.getByRole("heading", { name: "Admin dashboard" }));
      await walk.check(admin, "admin-dashboard", {
        phone: true,
        async onPhone(p: Page) {
          expect(await headerHeight(p), "admin header at 390 px").toBeLessThanOrEqual(64);
        },
      });
      expect(walk.checked.filter((c) => c.widths.includes(390)).length).toBeGreaterThanOrEqual(16);
    });
  },
);
