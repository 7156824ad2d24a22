// @both-databases: compiled statements per database.
import type { Kysely, KyselyPlugin } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "#test/support/database.ts";
import { type ParamOf, preparedRead } from "./prepared.ts";
import type { DB } from "./schema.ts";

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await database.destroy();
});

async function addUser(db: Kysely<DB>, email: string, role: "admin" | "student") {
  const row = await db
    .insertInto("users")
    .values({ email, password_hash: "x", role, created_at: new Date().toISOString() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

describe("preparedRead", () => {
  it("gives each call's own values, beside the query's constants, and the rows Kysely would", async () => {
    const db = database.db;
    const ids = [
      await addUser(db, "a@college.test", "admin"),
      await addUser(db, "b@college.test", "student"),
      await addUser(db, "c@college.test", "student"),
    ];
    let builds = 0;
    const usersOfRole = preparedRead(
      (db, param: ParamOf<{ minId: number; role: "admin" | "student"; limit: number }>) => {
        builds++;
        return db
          .selectFrom("users")
          .select(["id", "email"])
          .where("id", ">=", param("minId"))
          .where("role", "=", param("role"))
          .where("email", "like", "%@college.test")
          .orderBy("id")
          .limit(param("limit"));
      },
    );
    expect(await usersOfRole(db, { minId: ids[0]!, role: "student", limit: 10 })).toEqual([
      { id: ids[1], email: "b@college.test" },
      { id: ids[2], email: "c@college.test" },
    ]);
    expect(await usersOfRole(db, { minId: ids[2]!, role: "student", limit: 10 })).toEqual([
      { id: ids[2], email: "c@college.test" },
    ]);
    expect(await usersOfRole(db, { minId: ids[0]!, role: "student", limit: 1 })).toEqual([
      { id: ids[1], email: "b@college.test" },
    ]);
    expect(await usersOfRole(db, { minId: ids[0]!, role: "admin", limit: 10 })).toEqual([
      { id: ids[0], email: "a@college.test" },
    ]);
    // Concurrent calls each get their own values.
    const many = await Promise.all(
      ids.map((minId) => usersOfRole(db, { minId, role: "student", limit: 10 })),
    );
    expect(many.map((rows) => rows.length)).toEqual([2, 2, 1]);
    // Built and compiled once for this database, whatever the calls.
    expect(builds).toBe(1);
  });

  it("compiles once per database: another database (or a transaction) gets its own", async () => {
    const other = await createTestDatabase();
    try {
      await addUser(database.db, "here@college.test", "admin");
      let builds = 0;
      const emails = preparedRead((db) => {
        builds++;
        return db.selectFrom("users").select("email").orderBy("id");
      });
      expect(await emails(database.db, {})).toEqual([{ email: "here@college.test" }]);
      expect(await emails(other.db, {})).toEqual([]);
      await database.db.transaction().execute(async (trx) => {
        await addUser(trx, "inside@college.test", "admin");
        // The transaction's own connection sees its own uncommitted row.
        expect((await emails(trx, {})).map((r) => r.email)).toContain("inside@college.test");
      });
      expect(builds).toBe(3);
      await emails(database.db, {});
      expect(builds).toBe(3);
    } finally {
      await other.destroy();
    }
  });

  it("passes the results through the database's plugins, as any query does", async () => {
    await addUser(database.db, "plugin@college.test", "admin");
    const upper: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => ({
        ...args.result,
        rows: args.result.rows.map((row) => ({
          ...row,
          email: String((row as { email: string }).email).toUpperCase(),
        })),
      }),
    };
    const emails = preparedRead((db) => db.selectFrom("users").select("email"));
    expect(await emails(database.db.withPlugin(upper), {})).toEqual([
      { email: "PLUGIN@COLLEGE.TEST" },
    ]);
  });
});
