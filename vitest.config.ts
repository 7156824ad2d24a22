import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { defineConfig, type ViteUserConfig } from "vitest/config";

/**
 * Every database test runs on SQLite; a file marked `// @both-databases: <why>` runs on PostgreSQL
 * too (TEST_DATABASE_URL, by default the local server): the files whose SQL, triggers, claims,
 * locking, search, migrations or concurrency differ between the two (docs/testing.md). Without a
 * reachable PostgreSQL that pass is skipped with a notice; with REQUIRE_POSTGRES=1 (CI) it is an
 * error instead. The fault drills are a project of their own, run by `npm run test:drills`.
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

/** The test files that carry the `@both-databases` marker. */
function bothDatabaseTests(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "node_modules" ? [] : walk(path);
      return /\.test\.tsx?$/.test(entry.name) && BOTH.test(readFileSync(path, "utf8"))
        ? [path]
        : [];
    });
  return ["src", "test", "tools"].flatMap(walk);
}
const BOTH = /^\/\/ @both-databases: \S/m;

const DRILLS = "test/drills.test.ts";

function projects(withPostgres: boolean): ViteUserConfig {
  const databaseTests = ["src/**/*.test.{ts,tsx}", "test/**/*.test.ts", "tools/**/*.test.ts"];
  const notDatabaseTests = ["**/*.unit.test.ts", "test/e2e/**", "**/node_modules/**", DRILLS];
  const drills = process.env.PORTAL_TEST_DRILLS === "1";
  return {
    test: {
      globalSetup: ["./test/support/global-setup.ts"],
      setupFiles: ["./test/support/setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: "forks" as const,
      // One test file per core: more workers than cores made timing-sensitive tests miss
      // their deadlines when the machine was busy (docs/testing.md).
      maxWorkers: 2,
      // A worker imports the portal's modules once for all its files, not once per file. Tests
      // share no state through them: each builds its own app on its own database.
      isolate: false,
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
                  include: bothDatabaseTests(),
                  exclude: notDatabaseTests,
                  env: { TEST_DB: "postgres" },
                },
              },
            ]
          : []),
        ...(drills
          ? [
              {
                extends: true as const,
                test: { name: "drills", include: [DRILLS], env: { TEST_DB: "sqlite" } },
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
