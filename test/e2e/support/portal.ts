import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { buildContext } from "#src/app-context.ts";
import { loadConfig } from "#src/config.ts";
import type { AppContext } from "#src/context.ts";
import { type Database, openDatabase } from "#src/db/database.ts";
import { testLogger } from "#test/support/app.ts";
import { launchChromium } from "#test/support/browser.ts";
import { type ServerProcess, startServerProcess } from "#test/support/server.ts";

/** The first admin of every walk-through's portal. */
export const E2E_ADMIN = { email: "tpo@college.test", password: "admin-e2e-password" } as const;

export interface BrowserPortal {
  /** The `portal serve` process, as `npm start` runs it. */
  readonly server: ServerProcess;
  readonly browser: Browser;
  /** The services on the server's own database file: how a walk-through makes its data. */
  readonly ctx: AppContext;
}

/**
 * A walk-through's portal, for the enclosing describe: before its tests a `portal serve` process
 * (with E2E_ADMIN as its first admin, and `env` on top), Debian's chromium, and the services on
 * the server's database; after them, all closed.
 */
export function useBrowserPortal(env: Record<string, string> = {}): BrowserPortal {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let database: Database | undefined;
  let ctx: AppContext | undefined;
  beforeAll(async () => {
    server = await startServerProcess({
      ADMIN_EMAIL: E2E_ADMIN.email,
      ADMIN_PASSWORD: E2E_ADMIN.password,
      ...env,
    });
    browser = await launchChromium();
    const url = `file:${join(server.dataDir, "portal.db")}`;
    database = openDatabase(url);
    ctx = buildContext(
      loadConfig({ NODE_ENV: "test", DATABASE_URL: url, DATA_DIR: server.dataDir }, {}),
      database,
      { log: testLogger() },
    );
  });
  afterAll(async () => {
    await browser?.close();
    await database?.destroy();
    await server?.stop();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the walk-through's ${what} is not started yet`);
    return value;
  };
  return {
    get server() {
      return ready(server, "server");
    },
    get browser() {
      return ready(browser, "browser");
    },
    get ctx() {
      return ready(ctx, "database");
    },
  };
}
