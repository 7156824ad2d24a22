import type { Kysely, Transaction } from "kysely";
import { isTransientConflict } from "./dialect.ts";
import type { DB } from "./schema.ts";

/** How many times a unit of work runs before a deadlock or serialization failure is let through. */
export const TRANSACTION_ATTEMPTS = 5;

/**
 * Runs `work` in one transaction, and runs the whole of it again when PostgreSQL aborted it to
 * break a deadlock or a serialization conflict (nothing of it was written). Safe because a unit
 * re-reads what it changes and every SMS it queues has a dedupe key; `work` must keep its effects
 * inside the transaction (or in what it returns), as it may run more than once. The retries wait
 * a few random milliseconds, longer each time, so the two sides of a deadlock do not meet again.
 */
export async function inTransaction<T>(
  db: Kysely<DB>,
  work: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (!isTransientConflict(error) || attempt >= TRANSACTION_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
