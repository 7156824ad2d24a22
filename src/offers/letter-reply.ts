import type { FastifyReply } from "fastify";
import type { Kysely } from "kysely";
import type { DB } from "../db/schema.ts";
import { HttpError } from "../web/auth.ts";
import { offerLetter } from "./service.ts";

/**
 * Sends an offer's letter to one who may see it: the office, or (with `studentId`) the student
 * the offer is for; another student's offer reads as no letter at all. Never cached by shared
 * caches.
 */
export async function sendOfferLetter(
  reply: FastifyReply,
  db: Kysely<DB>,
  offerId: number,
  studentId?: number,
) {
  const letter = await offerLetter({ db }, offerId, studentId);
  if (!letter) throw new HttpError(404, "There is no letter for this offer yet.");
  return reply
    .type("application/pdf")
    .header("Cache-Control", "private, no-store")
    .header("Content-Disposition", `inline; filename="offer-${offerId}.pdf"`)
    .send(letter.content);
}
