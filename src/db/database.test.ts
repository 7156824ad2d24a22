// @both-databases: connection loss and the 503 differ per driver.
import Fastify from "fastify";
import { sql } from "kysely";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createTestDatabase, type TestDatabase, testDialect } from "#test/support/database.ts";
import { waitFor } from "#test/support/sms.ts";
import { installErrorHandlers } from "../web/errors.tsx";
import { isConnectionError } from "./dialect.ts";

let database: TestDatabase | undefined;

afterEach(async () => {
  await database?.destroy();
  database = undefined;
});

/** Ends every connection to the test database from the server side, as a restart would. */
async function terminateBackends(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: inject("postgresUrl") });
  await admin.connect();
  try {
    const result = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [name],
    );
    return result.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe("a lost database connection", () => {
  it.skipIf(testDialect() !== "postgres")(
    "fails the query that was running and crashes nothing; the next query reconnects",
    async () => {
      database = await createTestDatabase();
      const db = database.db;
      const running = db
        .transaction()
        .execute(async (trx) => sql`select pg_sleep(10)`.execute(trx));
      running.catch(() => {});
      const name = new URL(database.url).pathname.slice(1);
      await waitFor(async () => {
        const rows = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where datname = ${name} and query like '%pg_sleep%' and pid <> pg_backend_pid()`.execute(
          db,
        );
        return rows.rows[0]!.n > 0;
      });
      expect(await terminateBackends(database.url)).toBeGreaterThan(0);
      const error = await running.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isConnectionError(error)).toBe(true);
      // The process is still here (an unhandled 'error' event would have ended this test run),
      // and the pool opens a fresh connection.
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(rows[0]!.one).toBe(1);
    },
  );
});

describe("isConnectionError", () => {
  it.each([
    [{ code: "57P01", message: "terminating connection due to administrator command" }, true],
    [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5432" }, true],
    [new Error("Connection terminated unexpectedly"), true],
    [{ code: "SQLITE_BUSY", message: "database is locked" }, true],
    [{ code: "23505", message: "duplicate key value violates unique constraint" }, false],
    [new Error("syntax error at or near"), false],
    [null, false],
  ])("%o: %s", (error, expected) => {
    expect(isConnectionError(error)).toBe(expected);
  });
});

describe("a page while the database is away", () => {
  it("answers 503 with a page that says so, and a Retry-After", async () => {
    const app = Fastify();
    installErrorHandlers(app);
    app.get("/needs-database", async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
        code: "ECONNREFUSED",
      });
    });
    app.decorateReply("html", function (this: import("fastify").FastifyReply, page: JSX.Element) {
      return this.type("text/html; charset=utf-8").send(page);
    });
    const response = await app.inject({ method: "GET", url: "/needs-database" });
    expect(response.statusCode).toBe(503);
    expect(response.headers["retry-after"]).toBe("5");
    expect(response.body).toContain("cannot reach its database");
    await app.close();
  });
});
