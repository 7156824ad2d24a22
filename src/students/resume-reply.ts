import type { FastifyReply } from "fastify";
import type { Kysely } from "kysely";
import type { DB } from "../db/schema.ts";
import { HttpError } from "../web/auth.ts";
import { readResume } from "./resume-store.ts";

/**
 * Sends a stored resume to the one who may see it (the student on their own page, an admin on
 * the student's); never cached by shared caches.
 */
export async function sendResume(
  reply: FastifyReply,
  db: Kysely<DB>,
  student: { id: number; roll_number: string },
) {
  const resume = await readResume(db, student.id);
  if (!resume) throw new HttpError(404, "No resume has been uploaded.");
  return reply
    .type("application/pdf")
    .header("Cache-Control", "private, no-store")
    .header("ETag", `"${resume.sha256}"`)
    .header(
      "Content-Disposition",
      `inline; filename="resume-${student.roll_number.replace(/[^A-Z0-9-]/gi, "")}.pdf"`,
    )
    .send(resume.content);
}
