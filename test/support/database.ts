import { randomBytes } from "node:crypto";
import { copyFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { type Database, openDatabase } from "#src/db/database.ts";

export type TestDatabase = Database & { url: string };

export function testDialect(): "sqlite" | "postgres" {
  return process.env.TEST_DB === "postgres" ? "postgres" : "sqlite";
}

/**
 * A fresh, migrated database of the pass's kind, removed again by `destroy()`. With `empty`, no
 * migration has run on it (for testing the migrations themselves).
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `portal_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  if (testDialect() === "sqlite") {
    const path = join(tmpdir(), `${name}.db`);
    if (!options.empty) copyFileSync(inject("sqliteTemplate"), path);
    const url = `file:${path}`;
    const database = openDatabase(url);
    return {
      ...database,
      url,
      async destroy() {
        await database.destroy();
        for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
      },
    };
  }
  const adminUrl = inject("postgresUrl");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(
    `create database ${name}${options.empty ? "" : ` template ${inject("postgresTemplate")}`}`,
  );
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = openDatabase(url.toString(), { poolSize: 5 });
  return {
    ...database,
    url: url.toString(),
    async destroy() {
      await database.destroy();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
