import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "#test/support/database.ts";
import { MigrationFailedError, migrateToLatest } from "./migrate.ts";
import { migrations } from "./migrations/index.ts";

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await database.destroy();
});

describe("migrations", () => {
  it("bring the schema up to date and are a no-op the second time", async () => {
    expect(await migrateToLatest(database.db)).toEqual([]); // the template is migrated already
    const tables = await database.db.introspection.getTables();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["users", "students", "audit_log", "sms_messages"]),
    );
  });

  it("stop with an error naming the migration that failed, and apply nothing of it", async () => {
    const broken = {
      ...migrations,
      "2999-01-01-broken": {
        // biome-ignore lint/suspicious/noExplicitAny: any schema
        async up(db: Kysely<any>) {
          await db.schema.createTable("half_made").addColumn("id", "integer").execute();
          await sql`select * from no_such_table`.execute(db);
        },
      },
    };
    await expect(migrateToLatest(database.db, broken)).rejects.toThrowError(MigrationFailedError);
    await expect(migrateToLatest(database.db, broken)).rejects.toThrowError(
      /Migration "2999-01-01-broken" failed/,
    );
    const tables = await database.db.introspection.getTables();
    expect(tables.map((t) => t.name)).not.toContain("half_made");
  });

  it("`portal migrate` exits non-zero with a one-line reason when the database cannot be reached", async () => {
    const run = promisify(execFile)("npx", ["tsx", "src/cli/portal.ts", "migrate"], {
      env: {
        ...process.env,
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
        LOG_LEVEL: "silent",
      },
    });
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^portal: .+\n$/),
    });
  });
});
