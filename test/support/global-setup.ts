import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { buildPortal } from "#tools/build.ts";

declare module "vitest" {
  export interface ProvidedContext {
    sqliteTemplate: string;
    postgresUrl: string;
    postgresTemplate: string;
    portalBundle: string;
    postgresTestPrefix: string;
  }
}

/**
 * Migrates one template database per run; every test then gets its own copy (a file copy on
 * SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so tests never see each other's rows.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "portal-test-"));
  // The portal as `npm start` runs it, for the tests that start it as a process. Beside
  // node_modules, so that the bundle's imports of packages resolve.
  mkdirSync(join("node_modules", ".cache"), { recursive: true });
  const buildDir = mkdtempSync(join("node_modules", ".cache", "portal-test-build-"));
  project.provide("portalBundle", resolve(await buildPortal(resolve(buildDir))));
  const sqliteTemplate = join(dir, "template.db");
  const sqlite = openDatabase(`file:${sqliteTemplate}`);
  await migrateToLatest(sqlite.db);
  await sqlite.destroy();
  project.provide("sqliteTemplate", sqliteTemplate);

  const postgresUrl = process.env.PORTAL_TEST_POSTGRES_URL ?? "";
  const postgresTemplate = `portal_template_${process.pid}`;
  project.provide("postgresUrl", postgresUrl);
  project.provide("postgresTemplate", postgresTemplate);
  const postgresTestPrefix = `portal_test_${process.pid}_`;
  project.provide("postgresTestPrefix", postgresTestPrefix);
  if (postgresUrl) {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${postgresTemplate}`);
    await admin.query(`create database ${postgresTemplate}`);
    await admin.end();
    const url = new URL(postgresUrl);
    url.pathname = `/${postgresTemplate}`;
    const database = openDatabase(url.toString(), { poolSize: 1 });
    await migrateToLatest(database.db);
    await database.destroy();
  }

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
    if (postgresUrl) {
      const admin = new pg.Client({ connectionString: postgresUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${postgresTemplate} with (force)`);
      // The copies a test worker made ahead, or had not dropped yet when it ended.
      const left = await admin.query<{ datname: string }>(
        "select datname from pg_database where starts_with(datname, $1)",
        [postgresTestPrefix],
      );
      for (const { datname } of left.rows)
        await admin.query(`drop database if exists ${datname} with (force)`);
      await admin.end();
    }
  };
}
