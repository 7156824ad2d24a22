import { createRequire } from "node:module";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";
import { screenshotter } from "#test/support/browser.ts";

/**
 * The browser walk-throughs' one step: look at the page the way a person would and check it the
 * way a tool does. Each step screenshots at the desktop width, runs axe-core and fails on any
 * violation; a `phone` step does the same again at a phone's width, asserting no sideways scroll.
 * New steps are one line: `await walk.visit(page, "/somewhere", "name")` or, after a click,
 * `await walk.check(page, "name")`.
 */

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

const axe = createRequire(import.meta.url)("axe-core") as { source: string };

interface AxeNode {
  target: unknown[];
  html: string;
  failureSummary?: string;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** The violations in words a developer can act on: rule, impact, what, and where. */
export function describeViolations(url: string, violations: AxeViolation[]): string {
  const lines = [`axe-core: ${violations.length} violation(s) on ${url}`];
  for (const v of violations) {
    lines.push(`- [${v.impact ?? "?"}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const node of v.nodes.slice(0, 10)) {
      lines.push(`    at ${node.target.join(" ")}: ${node.html.slice(0, 160)}`);
      if (node.failureSummary)
        lines.push(`      ${node.failureSummary.replace(/\s*\n\s*/g, " | ").slice(0, 300)}`);
    }
    if (v.nodes.length > 10) lines.push(`    ... and ${v.nodes.length - 10} more`);
  }
  return lines.join("\n");
}

/**
 * Runs axe-core over the page (every rule it runs by default, and `target-size`: WCAG 2.2's 24 px
 * tap targets, off by default in axe 4.x); throws listing any violation.
 */
export async function expectNoAxeViolations(page: Page): Promise<void> {
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.evaluate(axe.source);
  const violations = (await page.evaluate(async () => {
    const run = (
      window as unknown as {
        axe: { run(options: object): Promise<{ violations: unknown[] }> };
      }
    ).axe;
    return (await run.run({ rules: { "target-size": { enabled: true } } })).violations;
  })) as AxeViolation[];
  if (violations.length > 0) {
    const message = describeViolations(page.url(), violations);
    console.warn(message);
    if (process.env.AXE_COLLECT !== "1") throw new Error(message);
  }
}

/** How far the page scrolls sideways beyond the window: 0 when it fits. */
export async function sidewaysScroll(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

export interface StepOptions {
  /** Also at 390 px: screenshot, axe, and `scrollWidth <= 390` (no sideways scroll). */
  phone?: boolean;
  /** More checks of the page at 390 px (with `phone`), after axe's. */
  onPhone?: (page: Page) => Promise<void>;
}

export interface Walk {
  /** A browser context at the desktop width (what `check` expects to start from). */
  newPage(browser: Browser, baseURL: string): Promise<Page>;
  /** Goes to `url` and checks the page (see `check`). */
  visit(page: Page, url: string, name: string, options?: StepOptions): Promise<void>;
  /** Checks the page shown now: screenshot, axe, and with `phone` the same at 390 px. */
  check(page: Page, name: string, options?: StepOptions): Promise<void>;
  /** The pages checked so far, with the widths they were checked at. */
  readonly checked: { name: string; url: string; widths: number[] }[];
}

/** Steps whose screenshots go to test-results/<folder>/NN-name[-390].png. */
export function walkthrough(folder: string): Walk {
  const shot = screenshotter(folder);
  const contexts: BrowserContext[] = [];
  const checked: Walk["checked"] = [];
  const walk: Walk = {
    checked,
    async newPage(browser, baseURL) {
      const context = await browser.newContext({ baseURL, viewport: DESKTOP });
      contexts.push(context);
      return context.newPage();
    },
    async check(page, name, options = {}) {
      await page.waitForLoadState("load");
      const widths: number[] = [page.viewportSize()?.width ?? DESKTOP.width];
      await shot(page, name);
      expect(await sidewaysScroll(page), `${name} at ${widths[0]} px scrolls sideways`).toBe(0);
      await expectNoAxeViolations(page);
      if (options.phone) {
        const before = page.viewportSize() ?? DESKTOP;
        await page.setViewportSize(PHONE);
        try {
          await shot(page, `${name}-${PHONE.width}`);
          const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
          expect(scrollWidth, `${name} at ${PHONE.width} px scrolls sideways`).toBeLessThanOrEqual(
            PHONE.width,
          );
          await expectNoAxeViolations(page);
          await options.onPhone?.(page);
          widths.push(PHONE.width);
        } finally {
          await page.setViewportSize(before);
        }
      }
      checked.push({ name, url: page.url(), widths });
    },
    async visit(page, url, name, options) {
      await page.goto(url);
      await walk.check(page, name, options);
    },
  };
  return walk;
}

/** Fills and sends the login form; the caller waits for what should follow (a page, an error). */
export async function logIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** The height of the page's header (the brand and the menu), in CSS pixels. */
export async function headerHeight(page: Page): Promise<number> {
  return page.evaluate(
    () => document.querySelector("body > header")?.getBoundingClientRect().height ?? 0,
  );
}

/**
 * The tap targets shown smaller than 24 × 24 px, without axe's spacing exception (issue 21):
 * buttons, checkboxes, radios, selects, a menu's summary, and the links of the header, the
 * pagination and the job lists. Links in the text are left to axe's target-size rule. Each as
 * "what "name": width × height".
 */
export async function smallTapTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const small: string[] = [];
    const targets = document.querySelectorAll<HTMLElement>(
      [
        "button",
        "summary",
        "select",
        "input[type=checkbox]",
        "input[type=radio]",
        "input[type=submit]",
        "header a[href]",
        ".pagination a[href]",
        ".job-rows a[href]",
      ].join(", "),
    );
    for (const el of targets) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue; // not shown
      if (box.width < 23.5 || box.height < 23.5) {
        const name =
          (el.textContent ?? "").trim().slice(0, 40) || el.getAttribute("name") || el.tagName;
        small.push(
          `${el.tagName.toLowerCase()} "${name}": ${box.width.toFixed(1)} × ${box.height.toFixed(1)}`,
        );
      }
    }
    return small;
  });
}
