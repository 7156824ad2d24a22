import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testDialect } from "#test/support/database.ts";

const run = promisify(execFile);

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await database.destroy();
});

// SQLite only: PostgreSQL's transactions wait for row locks on their own.
describe.runIf(testDialect() === "sqlite")("several processes on one SQLite file", () => {
  it("commit every read-then-write transaction: each waits for the write lock, none fails busy", async () => {
    await sql`create table contention (id integer primary key, seen integer not null)`.execute(
      database.db,
    );
    await sql`create table contenders (pid integer not null)`.execute(database.db);
    // Both start when both are ready, and contend for two seconds.
    const results = await Promise.all(
      [1, 2].map(() =>
        run(process.execPath, [
          "--import",
          "tsx",
          "test/support/sqlite-contender.ts",
          database.url,
          "2",
          "2000",
        ]).then(
          ({ stdout }) =>
            JSON.parse(stdout) as { committed: number; errors: Record<string, number> },
        ),
      ),
    );
    expect(results.map((r) => r.errors)).toEqual([{}, {}]);
    const { n } = await sql<{ n: number }>`select count(*) as n from contention`
      .execute(database.db)
      .then((r) => r.rows[0]!);
    expect(n).toBe(results[0]!.committed + results[1]!.committed);
    expect(Math.min(...results.map((r) => r.committed))).toBeGreaterThan(100);
  }, 60_000);
});
