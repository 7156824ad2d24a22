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
  if (testDialect() === "sqlite") {
    const path = join(tmpdir(), `portal_test_${process.pid}_${randomBytes(4).toString("hex")}.db`);
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
  const name = options.empty ? await createPostgres(true) : await takeCopy();
  const url = new URL(inject("postgresUrl"));
  url.pathname = `/${name}`;
  const database = openDatabase(url.toString(), { poolSize: 5 });
  return {
    ...database,
    url: url.toString(),
    async destroy() {
      await database.destroy();
      dropLater(name);
    },
  };
}

/*
 * On PostgreSQL a copy of the template takes about 80 ms to create and 120 ms to drop, around
 * every test. So a test worker keeps the next copy made ahead (tests wait on timers and sockets
 * most of the time, and the server makes it meanwhile) and drops used ones without waiting. The
 * names start with the run's prefix: the global teardown drops whatever a worker left.
 */
let maintenance: Promise<pg.Client> | undefined;
let ahead: Promise<string> | undefined;

function maintenanceClient(): Promise<pg.Client> {
  maintenance ??= (async () => {
    const client = new pg.Client({ connectionString: inject("postgresUrl") });
    client.on("error", () => {
      maintenance = undefined;
    });
    await client.connect();
    return client;
  })();
  maintenance.catch(() => {
    maintenance = undefined;
  });
  return maintenance;
}

async function createPostgres(empty: boolean): Promise<string> {
  const name = `${inject("postgresTestPrefix")}${process.pid}_${randomBytes(4).toString("hex")}`;
  const client = await maintenanceClient();
  await client.query(
    `create database ${name}${empty ? "" : ` template ${inject("postgresTemplate")}`}`,
  );
  return name;
}

function takeCopy(): Promise<string> {
  const next = ahead ?? createPostgres(false);
  ahead = createPostgres(false);
  ahead.catch(() => {
    ahead = undefined;
  });
  return next;
}

function dropLater(name: string): void {
  maintenanceClient()
    .then((client) => client.query(`drop database if exists ${name} with (force)`))
    .catch(() => {}); // left for the global teardown
}
