import { type Kysely, type RawBuilder, sql } from "kysely";
import type { AppContext } from "../context.ts";
import { type BatchLimits, daysBefore, inBatches, RETENTION_BATCHES } from "../db/retention.ts";
import type { DB, SmsStatus } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { maskPhone, maskPhoneNumbersIn } from "./phone.ts";

/** Statuses of a message still in the dispatcher's hands: never redacted. */
const NOT_DONE: SmsStatus[] = ["queued", "sending"];

/** A value for each row of an update by id (a CASE on id), the column's own for the others. */
function perRow(column: string, values: [number, string][]): RawBuilder<string> {
  if (values.length === 0) return sql<string>`${sql.ref(column)}`;
  const whens = values.map(([id, value]) => sql`when id = ${id} then ${value}`);
  return sql<string>`case ${sql.join(whens, sql` `)} else ${sql.ref(column)} end`;
}

/** The oldest done messages created before `cutoff` and not yet redacted, at most `rows`. */
export function redactionCandidates(db: Kysely<DB>, cutoff: string, rows: number) {
  return (
    db
      .selectFrom("sms_messages")
      .select(["id", "to_e164", "error_message"])
      // The partial index sms_messages_unredacted_idx: rows not yet redacted, oldest first.
      .where("redacted_at", "is", null)
      .where("created_at", "<", cutoff)
      .where("status", "not in", NOT_DONE)
      .orderBy("created_at")
      .orderBy("id")
      .limit(rows)
  );
}

/** What a redacted message's text says instead. */
export function redactedBody(days: number): string {
  return `[removed after ${days} days]`;
}

/**
 * SMS_RETENTION_DAYS after its creation, a message that is done (sent, delivered, failed,
 * cancelled, ...) loses its text (it may hold a name, a company, a reason) and its number (masked
 * as the SMS log masks numbers, as are numbers in Twilio's error text), and its attempts are
 * deleted. Kept: its kind, status, dates, Twilio SID, the student it was for, segments and
 * error code, which the console's history and counts use. Each batch is one transaction;
 * several dispatchers may run it at once: a row already redacted is not touched again.
 */
export async function redactOldMessages(
  ctx: Pick<AppContext, "db" | "clock" | "config">,
  limits: BatchLimits = RETENTION_BATCHES,
): Promise<{ redacted: number; attemptsDeleted: number }> {
  const days = ctx.config.SMS_RETENTION_DAYS;
  if (days === 0) return { redacted: 0, attemptsDeleted: 0 };
  let attemptsDeleted = 0;
  const redacted = await inBatches(limits, (rows) =>
    inTransaction(ctx.db, async (trx) => {
      const now = ctx.clock.now();
      const due = await redactionCandidates(trx, daysBefore(now, days), rows).execute();
      if (due.length === 0) return 0;
      const ids = due.map((row) => row.id);
      const changed = await trx
        .updateTable("sms_messages")
        .set({
          body: redactedBody(days),
          masked_body: null,
          secret_until: null,
          to_e164: perRow(
            "to_e164",
            due.map((row) => [row.id, maskPhone(row.to_e164)]),
          ),
          error_message: perRow(
            "error_message",
            due.flatMap((row) =>
              row.error_message === null ? [] : [[row.id, maskPhoneNumbersIn(row.error_message)]],
            ),
          ),
          redacted_at: now.toISOString(),
        })
        .where("id", "in", ids)
        // Another dispatcher's round may have redacted some since the read: those stay as they are.
        .where("redacted_at", "is", null)
        .executeTakeFirst();
      // The attempts of every message of the batch, whichever round redacted it.
      const deleted = await trx
        .deleteFrom("sms_attempts")
        .where("message_id", "in", ids)
        .executeTakeFirst();
      attemptsDeleted += Number(deleted.numDeletedRows);
      // The batch was full if the read was: a short read means nothing more is due.
      return due.length === rows ? rows : Number(changed.numUpdatedRows);
    }),
  );
  return { redacted, attemptsDeleted };
}
