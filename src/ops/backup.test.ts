// @both-databases: backup is SQLite's online backup or pg_dump.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, testLogger } from "#test/support/app.ts";
import { createTestDatabase, testDialect } from "#test/support/database.ts";
import {
  CookieJar,
  csrfToken,
  httpRequest,
  killGroup,
  type PortalProcess,
  portalCommand,
  spawnPortal,
} from "#test/support/process.ts";
import { waitFor } from "#test/support/sms.ts";
import { buildContext } from "../app-context.ts";
import { loadConfig } from "../config.ts";
import type { AppContext } from "../context.ts";
import { type Database, openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrate.ts";

const run = promisify(execFile);
const portal = (args: string[], env: Record<string, string>) =>
  run(process.execPath, portalCommand(...args), {
    env: { ...process.env, LOG_LEVEL: "silent", ...env },
  });

let dir: string;
let serve: PortalProcess | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "portal-backup-"));
});
afterEach(() => {
  if (serve) killGroup(serve.pid);
  serve = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** What a backup must hold, counted the same way in the original and in the copy. */
async function counts(database: Pick<Database, "db">) {
  const n = async (table: "students" | "sms_messages") =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const approved = Number(
    (
      await database.db
        .selectFrom("students")
        .where("approved_at", "is not", null)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const approvals = Number(
    (
      await database.db
        .selectFrom("sms_messages")
        .where("kind", "=", "approval")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );
  return {
    students: await n("students"),
    messages: await n("sms_messages"),
    audit: Number(
      (
        await database.db
          .selectFrom("audit_log")
          .where("action", "=", "test.write")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    ),
    approved,
    approvals,
  };
}

/**
 * Writes until stopped, as a busy portal does: pairs of audit rows, each pair in one transaction
 * (so a copy of one instant holds an even number), and now and then a student approved with the
 * approval SMS queued in the same transaction.
 */
function keepWriting(ctx: AppContext) {
  let stopped = false;
  let transactions = 0;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      await ctx.db.transaction().execute(async (trx) => {
        for (const half of ["a", "b"])
          await trx
            .insertInto("audit_log")
            .values({
              actor_user_id: null,
              actor_email: "writer@college.test",
              action: "test.write",
              subject: `${i}${half}`,
              details: "{}",
              at: new Date().toISOString(),
            })
            .execute();
      });
      transactions += 1;
      if (i % 50 === 0) await createStudent(ctx, { approved: true });
      // Let the child process's output and exit through.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    get transactions() {
      return transactions;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

async function seed(ctx: AppContext) {
  await createAdmin(ctx, "tpo@college.test", "tpo-password-1");
  for (let i = 0; i < 10; i++) await createStudent(ctx, { approved: true });
  for (let i = 0; i < 3; i++) await createStudent(ctx);
}

const hasProgram = (name: string) =>
  (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, name)));

describe.runIf(testDialect() === "sqlite")("portal backup and restore on SQLite", () => {
  it("backs up a live database while writes go on, and the restored copy has every row and opens in the portal", async () => {
    const url = `file:${join(dir, "portal.db")}`;
    const env = { DATABASE_URL: url, DATA_DIR: dir, LOG_DIR: join(dir, "logs") };
    const database = openDatabase(url);
    await migrateToLatest(database.db);
    const ctx = buildContext(loadConfig(env, {}), database, { log: testLogger() });
    await seed(ctx);
    const before = await counts(database);

    const writer = keepWriting(ctx);
    await waitFor(() => writer.transactions > 20, 10_000, "writes to start");
    const backup = join(dir, "backups", "nightly.db");
    const started = writer.transactions;
    const { stdout } = await portal(["backup", "--to", backup], env);
    const during = writer.transactions - started;
    // Writes after the copy, to tell the copy from the database as it is now.
    await waitFor(() => writer.transactions > started + during + 5, 10_000, "more writes");
    await writer.stop();
    expect(stdout).toMatch(
      new RegExp(
        `^Backup written: ${backup} \\(\\d+\\.\\d MB, \\d+ students, \\d+ SMS messages, integrity ok\\)\\n$`,
      ),
    );
    expect(during).toBeGreaterThan(0); // the portal's writes went on while it copied
    expect(statSync(backup).mode & 0o777).toBe(0o600);

    // The copy is of one instant: every row from before, pairs whole, each approval with its SMS.
    const copy = openDatabase(`file:${backup}`);
    const copied = await counts(copy);
    await copy.destroy();
    expect(copied.students).toBeGreaterThanOrEqual(before.students);
    expect(copied.messages).toBeGreaterThanOrEqual(before.messages);
    expect(copied.audit).toBeGreaterThan(before.audit);
    expect((copied.audit - before.audit) % 2).toBe(0);
    expect(copied.approvals).toBe(copied.approved);
    const now = await counts(database);
    expect(now.audit).toBeGreaterThan(copied.audit); // and writes went on after it

    // Restore refuses while the database is open (here by this test, as by a running portal).
    await expect(portal(["restore", "--from", backup], env)).rejects.toMatchObject({
      code: 1,
      stderr: `portal: ${join(dir, "portal.db")} is in use: stop the portal (portal serve and every portal worker) first\n`,
    });
    await database.destroy();
    const restored = await portal(["restore", "--from", backup], env);
    expect(restored.stdout).toMatch(
      new RegExp(
        `^Restored ${join(dir, "portal.db")} from ${backup} \\(${copied.students} students, ${copied.messages} SMS messages\\); the database it replaced is kept as ${join(dir, "portal.db")}\\.before-restore-\\S+\\n$`,
      ),
    );
    const back = openDatabase(url);
    expect(await counts(back)).toEqual(copied);
    await back.destroy();

    // The portal runs on it: nothing to migrate, and the admin from before logs in.
    expect((await portal(["migrate"], env)).stdout).toBe("The database is up to date.\n");
    serve = spawnPortal(["serve"], { ...env, PORT: "0", LOG_LEVEL: "warn" });
    const running = serve;
    const base = await waitFor(
      () => /open (http:\/\/\S+)/.exec(running.output())?.[1],
      30_000,
      "the portal to listen",
    );
    expect(running.output()).not.toContain("First admin created");
    const jar = new CookieJar();
    const form = jar.take(await httpRequest(`${base}/login`));
    const login = await httpRequest(`${base}/login`, {
      cookie: jar.header,
      form: { _csrf: csrfToken(form.body), email: "tpo@college.test", password: "tpo-password-1" },
    });
    expect([login.status, login.location]).toEqual([303, "/admin"]);
    process.kill(running.pid, "SIGTERM");
    await running.exited;
    serve = undefined;
  }, 120_000);

  it("refuses to overwrite a file, and to restore something that is not a portal database", async () => {
    const url = `file:${join(dir, "portal.db")}`;
    const env = { DATABASE_URL: url, DATA_DIR: dir, LOG_DIR: join(dir, "logs") };
    await expect(portal(["backup"], env)).rejects.toMatchObject({
      stderr: `portal: there is no SQLite database at ${join(dir, "portal.db")}\n`,
    });
    await portal(["migrate"], env);
    const { stdout } = await portal(["backup"], env);
    const written = /^Backup written: (\S+) /.exec(stdout)![1]!;
    expect(written).toMatch(
      new RegExp(
        `^${join(dir, "backups")}/portal-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.db$`,
      ),
    );
    await expect(portal(["backup", "--to", written], env)).rejects.toMatchObject({
      stderr: `portal: ${written} exists already: give another --to\n`,
    });
    writeFileSync(join(dir, "notes.txt"), "not a database\n");
    await expect(portal(["restore", "--from", join(dir, "notes.txt")], env)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("is not a Placement Portal database"),
    });
    await expect(portal(["restore"], env)).rejects.toMatchObject({
      stderr: "portal: restore needs --from PATH (a file written by portal backup)\n",
    });
  }, 60_000);
});

const withPgTools = hasProgram("pg_dump") && hasProgram("pg_restore");
if (testDialect() === "postgres" && !withPgTools)
  console.warn(
    "\n  NOTICE: pg_dump or pg_restore is not on PATH; the PostgreSQL backup test is SKIPPED.\n",
  );

describe.runIf(testDialect() === "postgres" && withPgTools)("portal backup on PostgreSQL", () => {
  it("writes a pg_dump custom-format dump of a live database that pg_restore brings back whole into a fresh database", async () => {
    const database = await createTestDatabase();
    const fresh = `portal_restored_${process.pid}_${Date.now()}`;
    const freshUrl = new URL(database.url);
    freshUrl.pathname = `/${fresh}`;
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const env = { DATABASE_URL: database.url, DATA_DIR: dir, LOG_DIR: join(dir, "logs") };
      const ctx = buildContext(loadConfig(env, {}), database, { log: testLogger() });
      await seed(ctx);
      const before = await counts(database);
      const writer = keepWriting(ctx);
      await waitFor(() => writer.transactions > 20, 10_000, "writes to start");
      const dump = join(dir, "portal.dump");
      const { stdout } = await portal(["backup", "--to", dump], env);
      await writer.stop();
      expect(stdout).toMatch(
        /^Backup written: .*portal\.dump \(.* MB, pg_dump custom format; restore it with pg_restore\)\n$/,
      );

      // The README's restore: into a fresh database, then the portal on it.
      await admin.query(`create database ${fresh}`);
      await run("pg_restore", ["--no-owner", `--dbname=${freshUrl}`, dump]);
      const restored = openDatabase(freshUrl.toString(), { poolSize: 1 });
      const copied = await counts(restored);
      await restored.destroy();
      expect(copied.students).toBeGreaterThanOrEqual(before.students);
      expect(copied.messages).toBeGreaterThanOrEqual(before.messages);
      expect(copied.audit).toBeGreaterThan(before.audit);
      expect((copied.audit - before.audit) % 2).toBe(0);
      expect(copied.approvals).toBe(copied.approved);
      expect((await portal(["migrate"], { DATABASE_URL: freshUrl.toString() })).stdout).toBe(
        "The database is up to date.\n",
      );
    } finally {
      await admin.query(`drop database if exists ${fresh} with (force)`);
      await admin.end();
      await database.destroy();
    }
  }, 120_000);
});
