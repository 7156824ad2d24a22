import type { PassThrough } from "node:stream";
import { ZipFile } from "yazl";
import type { AppContext } from "../context.ts";
import {
  type ApplicantFilters,
  applicantsCsvText,
  applicantsWithResumes,
  type BundledApplicant,
} from "./service.ts";

/**
 * A job's resume bundle: one zip of the resumes of the applicants a filter matches (the page's
 * status, Selected by default), each `<roll number> <full name>.pdf`, and `applicants.csv`, the
 * applicants CSV of the same students with a column naming each one's file ("No resume" without
 * one). Streamed: the resumes are read from the database a part at a time (service.ts,
 * `applicantsWithResumes`) and each is handed to the zip only when the client has taken what came
 * before, so neither the zip nor the resumes are ever in memory whole. What is kept until the end
 * is the CSV's rows (no bytes of any resume), as the CSV is the last file of the zip.
 */

/** The name of the CSV inside the bundle. */
export const BUNDLE_CSV_NAME = "applicants.csv";

/** The longest file name (without its extension) a bundle gives, in characters. */
const MAX_NAME_LENGTH = 100;

/**
 * `text` as a file name every system keeps as it is: no path separators or characters Windows
 * refuses (`<>:"/\|?*`), no control or invisible formatting characters (a right-to-left override
 * could make "fdp.exe" read as "exe.pdf"), one space between words, no leading dots (hidden on
 * Linux and macOS) nor trailing dots and spaces (dropped by Windows), at most 100 characters;
 * "resume" when nothing is left.
 */
export function safeFileName(text: string, maxLength = MAX_NAME_LENGTH): string {
  const cleaned = text
    .normalize("NFC")
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, " ")
    .replace(/[<>:"/\\|?*]+/g, "-")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^[.\s]+/, "");
  // Cut by characters, not UTF-16 units, so no surrogate pair is split.
  const cut = [...cleaned]
    .slice(0, maxLength)
    .join("")
    .replace(/[.\s]+$/, "");
  // A name Windows keeps for a device (CON, NUL, COM1…) is no file name there.
  const reserved = /^(con|prn|aux|nul|com\d|lpt\d)$/i.test(cut);
  return cut === "" ? "resume" : reserved ? `_${cut}` : cut;
}

/**
 * File names for one bundle: `<roll number> <full name>.pdf`, made safe, each different from the
 * others without regard to case (Windows and macOS do not tell "A.pdf" from "a.pdf"): a second
 * "1XY22CS001 Asha Rao.pdf" becomes "1XY22CS001 Asha Rao (2).pdf".
 */
export class BundleNames {
  private readonly used = new Set([BUNDLE_CSV_NAME]);

  take(rollNumber: string, fullName: string): string {
    const stem = safeFileName(`${rollNumber} ${fullName}`);
    for (let n = 1; ; n++) {
      const name = n === 1 ? `${stem}.pdf` : `${stem} (${n}).pdf`;
      if (!this.used.has(name.toLowerCase())) {
        this.used.add(name.toLowerCase());
        return name;
      }
    }
  }
}

/**
 * Whether `out` has taken what was written to it: at once when its buffer is below its mark, else
 * when it drains; false when it was closed first (the client went away: the download was
 * abandoned, and nothing more is read).
 */
function flushed(out: PassThrough): Promise<boolean> {
  if (out.destroyed) return Promise.resolve(false);
  if (!out.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (ok: boolean) => () => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      resolve(ok);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    out.on("drain", onDrain);
    out.on("close", onClose);
  });
}

/** The bundle's CSV rows, in the applicants CSV's order: best CGPA first, then as they applied. */
function byCgpa(a: BundledApplicant, b: BundledApplicant): number {
  return b.cgpa - a.cgpa || a.id - b.id;
}

/**
 * The bundle of `jobId`'s applicants that `filters` match, as a stream of zip bytes to send. It is
 * written as it is read: a failure part-way destroys the stream with the error (the download ends
 * short and the error is logged by whoever sends it).
 */
export function resumeBundle(
  ctx: AppContext,
  jobId: number,
  filters: Omit<ApplicantFilters, "page">,
): PassThrough {
  const zip = new ZipFile();
  const out = zip.outputStream as PassThrough;
  zip.on("error", (error: Error) => out.destroy(error));
  async function write() {
    const names = new BundleNames();
    const listed: (BundledApplicant & { file: string | null })[] = [];
    for await (const part of applicantsWithResumes(ctx, jobId, filters)) {
      for (const applicant of part) {
        const { resume } = applicant;
        const file = resume ? names.take(applicant.roll_number, applicant.full_name) : null;
        // A PDF is compressed already: stored as it is, with its size and checksum up front.
        if (resume && file)
          zip.addBuffer(resume.content, file, {
            compress: false,
            mtime: new Date(resume.uploaded_at),
          });
        listed.push({ ...applicant, resume: null, file });
        if (!(await flushed(out))) return;
      }
    }
    const csv = applicantsCsvText(ctx, listed.sort(byCgpa), {
      columns: ["Resume file"],
      cells: (r) => [r.file ?? "No resume"],
    });
    zip.addBuffer(Buffer.from(csv, "utf8"), BUNDLE_CSV_NAME, { mtime: ctx.clock.now() });
    zip.end();
  }
  write().catch((error: unknown) => out.destroy(error as Error));
  return out;
}
