import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { AppContext } from "../context.ts";
import { inTransaction } from "../db/transaction.ts";
import { resumeRow } from "./resume-store.ts";

/**
 * Reads the resumes that older versions kept as files (DATA_DIR/uploads, named by
 * `students.resume_path`) into the `resumes` table, once: each file is stored, its path cleared
 * in the same transaction, and the file removed after the commit. Runs at every start (see
 * app-context.ts) and costs one indexed read once nothing is left.
 *
 * Safe to run again, and from several processes at once: a path is cleared only while it still
 * names that file, and a row already in the table is kept. A file that is gone is logged and its
 * path cleared (the resume is lost; the student can upload it again). A machine whose DATA_DIR
 * has no uploads folder at all changes nothing: the files are on another machine, which imports
 * them when it starts.
 */

const UPLOADS = "uploads";

type Ctx = Pick<AppContext, "db" | "config" | "log" | "clock">;

export interface ResumeImport {
  imported: number;
  missing: number;
  /** Paths left alone: this machine has no uploads folder. */
  left: number;
}

export async function importFileResumes(ctx: Ctx): Promise<ResumeImport> {
  const rows = await ctx.db
    .selectFrom("students")
    .select(["id", "resume_path"])
    .where("resume_path", "is not", null)
    .orderBy("id")
    .execute();
  const result: ResumeImport = { imported: 0, missing: 0, left: 0 };
  if (rows.length === 0) return result;
  const base = resolve(ctx.config.DATA_DIR, UPLOADS);
  if (!existsSync(base)) {
    ctx.log.warn(
      { students: rows.length, uploads: base },
      "resumes still kept as files elsewhere: no uploads folder here, so they are left for the machine that has them to import",
    );
    return { ...result, left: rows.length };
  }
  for (const { id, resume_path: path } of rows) {
    if (!path) continue;
    const full = resolve(ctx.config.DATA_DIR, path);
    // The path comes from our own rows, but never read outside the uploads folder.
    const inside = full.startsWith(`${base}/`);
    const data = inside ? await readFile(full).catch(() => null) : null;
    const now = ctx.clock.now().toISOString();
    const cleared = await inTransaction(ctx.db, async (trx) => {
      const update = await trx
        .updateTable("students")
        .set({ resume_path: null, resume_bytes: null })
        .where("id", "=", id)
        .where("resume_path", "=", path)
        .executeTakeFirst();
      // Another process imported it meanwhile: nothing to do.
      if (Number(update.numUpdatedRows) !== 1) return false;
      // A resume already in the table (uploaded since) is newer than the file: it stays.
      if (data)
        await trx
          .insertInto("resumes")
          .values(resumeRow(id, data, now))
          .onConflict((oc) => oc.column("student_id").doNothing())
          .execute();
      return true;
    });
    if (!cleared) continue;
    if (data) {
      result.imported += 1;
      await rm(full, { force: true });
    } else {
      result.missing += 1;
      ctx.log.warn(
        { studentId: id, path },
        inside
          ? "resume file missing: the student has no resume until they upload one again"
          : "resume path outside the uploads folder: cleared, nothing read",
      );
    }
  }
  ctx.log.info(
    { imported: result.imported, missing: result.missing },
    "resume files imported into the database",
  );
  return result;
}
