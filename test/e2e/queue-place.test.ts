import { describe, expect, it } from "vitest";
import { createStudent } from "#test/support/app.ts";
import { hasChromium, visible } from "#test/support/browser.ts";
import { E2E_ADMIN, useBrowserPortal } from "./support/portal.ts";
import { logIn, walkthrough } from "./support/walk.ts";

/**
 * The verification queue keeps its place: a department's queue, sorted and on its second page,
 * comes back as it was after a bulk rejection's Cancel (the reason still typed, the rows still
 * ticked), after the rejection itself, and a student's page opened from it goes on to the next
 * student of that department.
 */

describe.skipIf(!hasChromium)("walk-through in chromium: the queue keeps its place", () => {
  const portal = useBrowserPortal();

  it("comes back to the same filter, sort and page through Cancel and a bulk rejection", async () => {
    const walk = walkthrough("e2e-queue-place");
    // The ECE student waits longest: the whole college's "next" would be them.
    await createStudent(portal.ctx, { full_name: "Esha Electronics", department: "ECE" });
    const cse = [];
    for (let i = 1; i <= 27; i++)
      cse.push(
        await createStudent(portal.ctx, {
          full_name: `Cse Student ${String(i).padStart(2, "0")}`,
          department: "CSE",
        }),
      );

    const admin = await walk.newPage(portal.browser, portal.server.url);
    await logIn(admin, E2E_ADMIN);
    await visible(admin.getByRole("heading", { name: "Admin dashboard" }));

    // The CSE queue, by name, second page: the last two names.
    await admin.goto("/admin/students?status=pending");
    await admin.getByLabel("Department").first().selectOption("CSE");
    await admin.getByRole("button", { name: "Filter" }).click();
    await admin.waitForLoadState("load");
    await admin.getByRole("link", { name: "Name" }).click();
    await admin.waitForLoadState("load");
    await admin.getByRole("link", { name: "Next →" }).click();
    await visible(admin.getByText("Page 2 of 2"));
    const place = admin.url();
    expect(new URL(place).search).toBe("?status=pending&department=CSE&sort=name&dir=asc&page=2");
    await walk.check(admin, "queue-cse-page-2", { phone: true });

    // Tick both, type a reason, ask to reject, then Cancel: the same page, reason and ticks.
    await admin.getByRole("checkbox", { name: "Select Cse Student 26" }).check();
    await admin.getByRole("checkbox", { name: "Select Cse Student 27" }).check();
    await admin.getByLabel("Reason (optional, sent to each student)").fill("Marks card missing");
    await admin.getByRole("button", { name: "Reject selected…" }).click();
    await visible(admin.getByRole("heading", { name: "Reject 2 registrations?" }));
    await walk.check(admin, "queue-bulk-reject-confirm", { phone: true });
    await admin.getByRole("link", { name: "Cancel" }).click();
    await visible(admin.getByText("Page 2 of 2"));
    expect(admin.url().startsWith(place)).toBe(true);
    expect(await admin.getByLabel("Reason (optional, sent to each student)").inputValue()).toBe(
      "Marks card missing",
    );
    expect(await admin.getByRole("checkbox", { name: "Select Cse Student 26" }).isChecked()).toBe(
      true,
    );
    expect(await admin.getByRole("checkbox", { name: "Select Cse Student 27" }).isChecked()).toBe(
      true,
    );
    await walk.check(admin, "queue-after-cancel", { phone: true });

    // Reject for real: 25 left, one page, so the last page of the same filter and sort.
    await admin.getByRole("button", { name: "Reject selected…" }).click();
    await admin.getByRole("button", { name: "Reject 2 registrations", exact: true }).click();
    await visible(admin.getByText("Rejected 2 registrations"));
    expect(new URL(admin.url()).search).toBe("?status=pending&department=CSE&sort=name&dir=asc");
    await visible(admin.getByRole("link", { name: "Cse Student 01" }));
    expect(await admin.getByRole("link", { name: "Esha Electronics" }).count()).toBe(0);
    await walk.check(admin, "queue-after-bulk-reject", { phone: true });

    // A student opened from this queue: Approve goes on to the next CSE student, not to Esha.
    await admin.getByRole("link", { name: "Cse Student 01" }).click();
    await visible(admin.getByRole("heading", { name: "Cse Student 01" }));
    await admin.getByRole("button", { name: "Approve", exact: true }).click();
    await visible(admin.getByRole("heading", { name: "Cse Student 02" }));
    await visible(admin.getByText("Next pending: Cse Student 02."));
    await walk.check(admin, "queue-next-of-department", { phone: true });
    await admin.getByRole("link", { name: "Back to the verification queue" }).click();
    await visible(admin.getByRole("link", { name: "Cse Student 03" }));
    expect(new URL(admin.url()).search).toBe("?status=pending&department=CSE&sort=name&dir=asc");
    expect(cse).toHaveLength(27);

    // The audit log, filtered by what: the two rejections, with the filter kept and the export.
    await admin.goto("/admin/audit");
    await admin.getByLabel("What").selectOption({ label: "Registration rejected" });
    await admin.getByLabel("Subject contains").fill("Cse Student 2");
    await admin.getByRole("button", { name: "Filter" }).click();
    await visible(admin.getByText("2 matching entries"));
    await visible(admin.getByText(/Rejected the registration of Cse Student 26/));
    expect(await admin.getByText(/Approved student/).count()).toBe(0);
    expect(await admin.getByLabel("What").inputValue()).toBe("student.reject");
    expect(
      await admin.getByRole("link", { name: "Export these as CSV" }).getAttribute("href"),
    ).toBe("/admin/audit.csv?what=student.reject&q=Cse+Student+2");
    await walk.check(admin, "audit-filtered", { phone: true });
  });
});
