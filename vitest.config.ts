import { existsSync } from "node:fs";
import pg from "pg";
import { defineConfig, type ViteUserConfig } from "vitest/config";

/**
 * Every database test runs twice: once on SQLite and once on PostgreSQL (TEST_DATABASE_URL, by
 * default the local server). Without a reachable PostgreSQL that pass is skipped with a notice;
 * with REQUIRE_POSTGRES=1 (CI) it is an error instead.
 */
const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function postgresReachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

export default defineConfig(async (): Promise<ViteUserConfig> => {
  // Decided once, by the main process; the test workers load this file again and inherit its answer.
  const decided = process.env.PORTAL_TEST_POSTGRES_URL;
  if (decided !== undefined) return projects(decided !== "");
  const problem = await postgresReachable(postgresUrl);
  const withPostgres = problem === null;
  if (!withPostgres) {
    if (process.env.REQUIRE_POSTGRES === "1") {
      throw new Error(
        `REQUIRE_POSTGRES=1 but PostgreSQL at ${postgresUrl} is not reachable: ${problem}`,
      );
    }
    console.warn(
      `\n  NOTICE: PostgreSQL at ${postgresUrl} is not reachable (${problem});` +
        " the PostgreSQL pass is SKIPPED. Set TEST_DATABASE_URL to run it.\n",
    );
  }
  if (!existsSync(chromiumPath)) {
    console.warn(
      `\n  NOTICE: no chromium at ${chromiumPath}; the browser tests are SKIPPED.` +
        " Install it with: apt-get install -y --no-install-recommends chromium\n",
    );
  }
  // Read by the global setup, which runs in this process.
  process.env.PORTAL_TEST_POSTGRES_URL = withPostgres ? postgresUrl : "";
  return projects(withPostgres);
});

function projects(withPostgres: boolean): ViteUserConfig {
  const databaseTests = ["src/**/*.test.{ts,tsx}", "test/**/*.test.ts", "tools/**/*.test.ts"];
  const notDatabaseTests = ["**/*.unit.test.ts", "test/e2e/**", "**/node_modules/**"];
  return {
    test: {
      globalSetup: ["./test/support/global-setup.ts"],
      setupFiles: ["./test/support/setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: "forks" as const,
      // Most tests wait on timers and sockets, not the CPU: three at once on two cores.
      maxWorkers: 3,
      projects: [
        {
          extends: true as const,
          test: { name: "unit", include: ["src/**/*.unit.test.ts", "tools/**/*.unit.test.ts"] },
        },
        {
          extends: true as const,
          test: {
            name: "sqlite",
            include: databaseTests,
            exclude: notDatabaseTests,
            env: { TEST_DB: "sqlite" },
          },
        },
        ...(withPostgres
          ? [
              {
                extends: true as const,
                test: {
                  name: "postgres",
                  include: databaseTests,
                  exclude: notDatabaseTests,
                  env: { TEST_DB: "postgres" },
                },
              },
            ]
          : []),
        {
          extends: true as const,
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            env: { TEST_DB: "sqlite", CHROMIUM_PATH: chromiumPath },
            testTimeout: 120_000,
          },
        },
      ],
    },
  };
}
