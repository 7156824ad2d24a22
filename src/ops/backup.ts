import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { delimiter, dirname, join } from "node:path";
import SQLite from "better-sqlite3";
import type { Config } from "../config.ts";
import { isPostgresUrl, sqlitePath } from "../db/database.ts";

/**
 * `portal backup` and `portal restore`. SQLite: SQLite's online backup API, which copies one
 * consistent snapshot while the portal goes on writing, and a restore that refuses a database in
 * use. PostgreSQL: pg_dump in its custom format; restoring one is pg_restore's work (README).
 */

export class BackupError extends Error {
  override name = "BackupError";
}

/** 2026-12-03T08-50-07Z: sorts by time, and is a valid file name everywhere. */
function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replaceAll(":", "-");
}

function megabytes(path: string): string {
  return `${(statSync(path).size / 1024 / 1024).toFixed(1)} MB`;
}

/** The portal's database in a file: intact, and with the portal's migrations table. */
function checkPortalDatabase(path: string): { students: number; messages: number } {
  let copy: SQLite.Database | undefined;
  try {
    copy = new SQLite(path, { fileMustExist: true });
    const check = copy.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new BackupError(`${path} is damaged: ${String(check)}`);
    const count = (table: string) =>
      (copy!.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    count("kysely_migration");
    return { students: count("students"), messages: count("sms_messages") };
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(
      `${path} is not a Placement Portal database: ${error instanceof Error ? error.message : error}`,
    );
  } finally {
    copy?.close();
  }
}

function removeWithSidecars(path: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"])
    rmSync(`${path}${suffix}`, { force: true });
}

function refuseExisting(path: string): void {
  if (existsSync(path)) throw new BackupError(`${path} exists already: give another --to`);
}

async function backupSqlite(config: Config, to: string | undefined, now: Date): Promise<string> {
  const source = sqlitePath(config.DATABASE_URL);
  if (!existsSync(source)) throw new BackupError(`there is no SQLite database at ${source}`);
  const target = to ?? join(config.DATA_DIR, "backups", `portal-${stamp(now)}.db`);
  refuseExisting(target);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  // Written under another name first: a file with the backup's name is always a whole backup.
  const partial = `${target}.partial`;
  removeWithSidecars(partial);
  const database = new SQLite(source, { fileMustExist: true, timeout: 5000 });
  try {
    // All pages in one step, inside one read transaction: a snapshot of one instant, which WAL
    // lets the portal's writers go on past. (Copied in steps, every write by another connection
    // would restart the copy, and a busy portal could keep it from ever finishing.)
    await database.backup(partial, { progress: () => 0x7fffffff });
  } catch (error) {
    removeWithSidecars(partial);
    throw error;
  } finally {
    database.close();
  }
  const { students, messages } = checkPortalDatabase(partial);
  // It holds password hashes and phone numbers: readable by the portal's user only.
  chmodSync(partial, 0o600);
  renameSync(partial, target);
  return `Backup written: ${target} (${megabytes(target)}, ${students} students, ${messages} SMS messages, integrity ok)`;
}

/** A program on PATH, or undefined. */
function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, program);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/** The URL without its password (which goes to PGPASSWORD: never on a command line `ps` shows). */
function splitPassword(url: string): { url: string; password: string | undefined } {
  const parsed = new URL(url);
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.password = "";
  return { url: parsed.toString(), password };
}

async function backupPostgres(config: Config, to: string | undefined, now: Date): Promise<string> {
  const target = to ?? join(config.DATA_DIR, "backups", `portal-${stamp(now)}.dump`);
  const { url, password } = splitPassword(config.DATABASE_URL);
  const pgDump = onPath("pg_dump");
  if (!pgDump)
    throw new BackupError(
      `pg_dump is not on PATH. Install the PostgreSQL client (apt-get install postgresql-client), or run where it is: pg_dump --format=custom --file=${target} '${url}'`,
    );
  refuseExisting(target);
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(pgDump, ["--format=custom", `--file=${partial}`, `--dbname=${url}`], {
        env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
        stdio: ["ignore", "inherit", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.once("error", reject);
      child.once("exit", (code) => resolve({ code, stderr }));
    },
  );
  if (code !== 0) {
    rmSync(partial, { force: true });
    throw new BackupError(`pg_dump failed (exit ${code}): ${stderr.trim()}`);
  }
  chmodSync(partial, 0o600);
  renameSync(partial, target);
  return `Backup written: ${target} (${megabytes(target)}, pg_dump custom format; restore it with pg_restore)`;
}

export async function backupDatabase(
  config: Config,
  options: { to?: string; now?: Date } = {},
): Promise<string> {
  const now = options.now ?? new Date();
  return isPostgresUrl(config.DATABASE_URL)
    ? backupPostgres(config, options.to, now)
    : backupSqlite(config, options.to, now);
}

/** Throws unless no other connection has the SQLite file open (WAL: every connection locks it). */
function refuseInUse(path: string): void {
  const database = new SQLite(path, { fileMustExist: true, timeout: 0 });
  try {
    // An exclusive lock that another process's open connection, even an idle one, prevents.
    database.pragma("locking_mode = EXCLUSIVE");
    database.exec("begin exclusive");
    database.exec("commit");
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith("SQLITE_BUSY"))
      throw new BackupError(
        `${path} is in use: stop the portal (portal serve and every portal worker) first`,
      );
    throw error;
  } finally {
    // The last connection closing folds the WAL into the file and removes it.
    database.close();
  }
}

/**
 * Puts a backup in the place of the portal's SQLite database, the portal stopped. The database it
 * replaces is kept beside it (`portal.db.before-restore-<time>`), so a restore can be undone.
 */
export async function restoreDatabase(
  config: Config,
  options: { from: string; now?: Date },
): Promise<string> {
  if (isPostgresUrl(config.DATABASE_URL)) {
    const { url } = splitPassword(config.DATABASE_URL);
    throw new BackupError(
      `restore a PostgreSQL dump with pg_restore, the portal stopped: pg_restore --clean --if-exists --no-owner --dbname='${url}' ${options.from}`,
    );
  }
  const { from } = options;
  if (!existsSync(from)) throw new BackupError(`there is no backup at ${from}`);
  const target = sqlitePath(config.DATABASE_URL);
  // Checked on a copy: opening the backup itself could change it (a WAL to fold in).
  const incoming = `${target}.restoring`;
  removeWithSidecars(incoming);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(from, incoming);
  let kept: string | undefined;
  try {
    const { students, messages } = checkPortalDatabase(incoming);
    if (existsSync(target)) {
      refuseInUse(target);
      kept = `${target}.before-restore-${stamp(options.now ?? new Date())}`;
      for (const suffix of ["", "-wal", "-shm"])
        if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${kept}${suffix}`);
    }
    renameSync(incoming, target);
    return (
      `Restored ${target} from ${from} (${students} students, ${messages} SMS messages)` +
      (kept ? `; the database it replaced is kept as ${kept}` : "")
    );
  } finally {
    removeWithSidecars(incoming);
  }
}
