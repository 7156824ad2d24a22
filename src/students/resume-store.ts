import { createHash } from "node:crypto";
import type { ExpressionBuilder, Kysely } from "kysely";

import type { DB, Timestamp } from "../db/schema.ts";
import { chosenUpload, type UploadedFile } from "../web/forms.ts";

export type { UploadedFile };

/**
 * Resumes live in the database (`resumes`, one row per student), not under DATA_DIR: every web
 * process on every machine reads the same bytes, and a resume is written, replaced and deleted in
 * the same transaction as the student row it belongs to (the row goes with the student by
 * cascade). Files kept by older versions are read in once at start-up (resume-import.ts).
 */

export function isUploadedFile(value: unknown): value is UploadedFile {
  return (
    typeof value === "object" && value !== null && Buffer.isBuffer((value as UploadedFile).data)
  );
}

/** A browser sends an empty part when no file was chosen. */
export function chosenFile(value: unknown): UploadedFile | null {
  return chosenUpload(value);
}

/** The reason a resume is refused, or null. Checked by content: a renamed .exe is not a PDF. */
export async function resumeProblem(file: UploadedFile, maxBytes: number): Promise<string | null> {
  const limit = `${Math.round(maxBytes / 1024 / 1024) || 1} MB`;
  if (file.truncated || file.data.length > maxBytes) return `The resume must be at most ${limit}.`;
  if (file.data.length === 0) return "The resume file is empty.";
  // Loaded on the first upload only: a worker (which imports this module for the start-up import)
  // never checks an upload, and the module is large.
  const { fileTypeFromBuffer } = await import("file-type");
  const type = await fileTypeFromBuffer(file.data);
  if (type?.mime !== "application/pdf") return "The resume must be a PDF file.";
  return null;
}

export function sha256Hex(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The `resumes` row for `data`. */
export function resumeRow(studentId: number, data: Buffer, uploadedAt: Timestamp) {
  return {
    student_id: studentId,
    content: data,
    size: data.length,
    sha256: sha256Hex(data),
    uploaded_at: uploadedAt,
  };
}

/**
 * Stores `data` as the student's resume, replacing the one before. Call it with the transaction
 * that writes the student row, so the two commit or fail together.
 */
export async function putResume(
  db: Kysely<DB>,
  studentId: number,
  data: Buffer,
  uploadedAt: Timestamp,
): Promise<void> {
  const row = resumeRow(studentId, data, uploadedAt);
  await db
    .insertInto("resumes")
    .values(row)
    .onConflict((oc) =>
      oc.column("student_id").doUpdateSet({
        content: row.content,
        size: row.size,
        sha256: row.sha256,
        uploaded_at: row.uploaded_at,
      }),
    )
    .execute();
}

/** The student's resume with its bytes, or undefined when none was uploaded. */
export function readResume(db: Kysely<DB>, studentId: number) {
  return db
    .selectFrom("resumes")
    .select(["content", "size", "sha256", "uploaded_at"])
    .where("student_id", "=", studentId)
    .executeTakeFirst();
}

/**
 * The size of the student's resume, null without one: a column for any query over `students`
 * (`.select(resumeSize)`), so lists show a resume link without reading the bytes.
 */
export function resumeSize(eb: ExpressionBuilder<DB, "students">) {
  return eb
    .selectFrom("resumes")
    .select("resumes.size")
    .whereRef("resumes.student_id", "=", "students.id")
    .as("resume_size");
}
