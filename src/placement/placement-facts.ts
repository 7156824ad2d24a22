import { type Kysely, sql } from "kysely";
import type { DB } from "../db/schema.ts";

const IDS_PER_STATEMENT = 5000;

/**
 * Rewrites what the placement policy reads of these students (`students.accepted_offers`,
 * `best_offer_lpa`, `accepted_ppos`) from their offers, one UPDATE per 5,000 students. Call it in
 * the transaction of every offer write, after the student rows are locked (`lockStudents`), so two
 * writes for one student never count from the same old rows. `reneged_at` is not counted: it is
 * set once, by the decline of an accepted offer, and stays.
 */
export async function refreshPlacementFacts(trx: Kysely<DB>, studentIds: readonly number[]) {
  const ids = [...new Set(studentIds)];
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
    const accepted = (eb: Kysely<DB>) =>
      eb
        .selectFrom("offers")
        .where("offers.student_id", "=", sql.ref<number>("students.id"))
        .where("offers.status", "=", "accepted");
    await trx
      .updateTable("students")
      .set({
        accepted_offers: sql<number>`(${accepted(trx).select((eb) => eb.fn.countAll<number>().as("n"))})`,
        best_offer_lpa: sql<
          number | null
        >`(${accepted(trx).select((eb) => eb.fn.max("offers.ctc_lpa").as("m"))})`,
        accepted_ppos: sql<number>`(${accepted(trx)
          .where("offers.source", "=", "ppo")
          .select((eb) => eb.fn.countAll<number>().as("n"))})`,
      })
      .where("students.id", "in", chunk)
      .execute();
  }
}
