import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = existsSync(chromiumPath);

/** Debian's chromium, headless, with nothing that reaches for the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * Saves a full-page screenshot under test-results/<folder>/NN-name.png, for a person to look at
 * (no test reads them). Encoding them is most of a walk-through's time, so they are taken only
 * with SCREENSHOTS=1.
 */
export function screenshotter(folder: string) {
  const dir = join("test-results", folder);
  const wanted = process.env.SCREENSHOTS === "1";
  if (wanted) mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (page: Page, name: string) => {
    n += 1;
    if (!wanted) return;
    await page.screenshot({
      path: join(dir, `${String(n).padStart(2, "0")}-${name}.png`),
      fullPage: true,
    });
  };
}

/** Waits for exactly one matching element to be visible; fails with the locator in the message. */
export async function visible(locator: Locator, timeout = 10_000): Promise<void> {
  await locator.waitFor({ state: "visible", timeout });
}
