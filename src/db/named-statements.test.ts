// @both-databases: PostgreSQL keeps the page reads prepared; SQLite has its own statement cache.
import { sql } from "kysely";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "#test/support/database.ts";
import { type Database, openDatabase } from "./database.ts";
import { type ParamOf, preparedRead } from "./prepared.ts";

let database: TestDatabase;
/** One connection, so that what the reads left prepared on it can be seen. */
let single: Database;
beforeEach(async () => {
  database = await createTestDatabase();
  single = openDatabase(database.url, { poolSize: 1 });
});
afterEach(async () => {
  await single.destroy();
  await database.destroy();
});

const limitSetting = preparedRead((db, param: ParamOf<{ name: string }>) =>
  db.selectFrom("limit_settings").selectAll().where("name", "=", param("name")),
);

describe("preparedRead on PostgreSQL", () => {
  it("runs as a named statement, prepared once on each connection", async () => {
    if (database.dialect !== "postgres") return;
    await limitSetting(single.db, { name: "nothing" });
    await limitSetting(single.db, { name: "still nothing" });
    const kept = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements`.execute(single.db);
    const ours = kept.rows.filter((r) => r.statement.includes('"limit_settings"'));
    expect(ours).toHaveLength(1);
    expect(ours[0]!.name).toMatch(/^portal_[0-9a-f]{16}_\d+$/);
  });

  it("still answers after another process changes the table under it", async () => {
    if (database.dialect !== "postgres") return;
    expect(await limitSetting(single.db, { name: "k" })).toEqual([]);
    // A migration run by another process: `select *` now returns one more column, which the plan
    // PostgreSQL keeps for the prepared statement cannot (SQLSTATE 0A000).
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query("alter table limit_settings add column note text");
    } finally {
      await other.end();
    }
    expect(await limitSetting(single.db, { name: "k" })).toEqual([]);
    // And inside a transaction, where a failed statement aborts it, the next run is fresh.
    await single.db.transaction().execute(async (trx) => {
      expect(await limitSetting(trx, { name: "k" })).toEqual([]);
    });
  });
});
