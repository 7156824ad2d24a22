import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium } from "#test/support/browser.ts";
import { DESKTOP, expectNoAxeViolations, sidewaysScroll } from "./support/walk.ts";

describe.skipIf(!hasChromium)("the walk-throughs' page check", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("fails on an axe-core violation, naming the rule and the element", async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.setContent(
      '<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Form</h1>' +
        '<input id="nameless" name="x"><p style="color:#bbb;background:#fff">faint</p></main></body></html>',
    );
    const error = await expectNoAxeViolations(page).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/\] label: .*\n\s+at #nameless/);
    expect(error?.message).toContain("color-contrast");

    await page.setContent(
      '<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Fine</h1>' +
        '<label for="n">Name</label><input id="n" name="n"></main></body></html>',
    );
    await expectNoAxeViolations(page);
    await page.close();
  });

  it("measures sideways scroll", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 800 } });
    await page.setContent('<div style="width:500px">wide</div>');
    expect(await sidewaysScroll(page)).toBeGreaterThan(0);
    await page.setContent("<div>narrow</div>");
    expect(await sidewaysScroll(page)).toBe(0);
    await page.close();
  });
});
