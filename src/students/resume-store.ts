import { randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileTypeFromBuffer } from "file-type";

import type { UploadedFile } from "../web/forms.ts";

export type { UploadedFile };

export function isUploadedFile(value: unknown): value is UploadedFile {
  return (
    typeof value === "object" && value !== null && Buffer.isBuffer((value as UploadedFile).data)
  );
}

/** A browser sends an empty part when no file was chosen. */
export function chosenFile(value: unknown): UploadedFile | null {
  return isUploadedFile(value) && (value.data.length > 0 || value.filename !== "") ? value : null;
}

/** The reason a resume is refused, or null. Checked by content: a renamed .exe is not a PDF. */
export async function resumeProblem(file: UploadedFile, maxBytes: number): Promise<string | null> {
  const limit = `${Math.round(maxBytes / 1024 / 1024) || 1} MB`;
  if (file.truncated || file.data.length > maxBytes) return `The resume must be at most ${limit}.`;
  if (file.data.length === 0) return "The resume file is empty.";
  const type = await fileTypeFromBuffer(file.data);
  if (type?.mime !== "application/pdf") return "The resume must be a PDF file.";
  return null;
}

const UPLOADS = "uploads";

/** Stores a resume under DATA_DIR/uploads with a random name; returns the path to keep in the row. */
export async function saveResume(dataDir: string, data: Buffer): Promise<string> {
  await mkdir(join(dataDir, UPLOADS), { recursive: true });
  const relative = `${UPLOADS}/${randomUUID()}.pdf`;
  await writeFile(join(dataDir, relative), data, { flag: "wx" });
  return relative;
}

export function resumeFilePath(dataDir: string, relative: string): string {
  const base = resolve(dataDir, UPLOADS);
  const full = resolve(dataDir, relative);
  // The path comes from our own rows, but never let it leave the uploads folder.
  if (!full.startsWith(`${base}/`)) throw new Error("resume path outside the uploads folder");
  return full;
}

export async function deleteResume(dataDir: string, relative: string | null): Promise<void> {
  if (relative) await rm(resumeFilePath(dataDir, relative), { force: true });
}
