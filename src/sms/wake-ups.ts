import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import { hasNotifications, notify } from "../db/dialect.ts";
import { NotificationListener } from "../db/notification-listener.ts";
import type { DB } from "../db/schema.ts";

/**
 * Wake-ups across processes (decision 028). On PostgreSQL, whatever makes a message due now (a new
 * message, a resend, the end of an admin's pause) notifies the `sms_queued` channel in its own
 * transaction, and every dispatcher, in any process on any machine, listens on it and looks at the
 * outbox at once instead of at its next poll. SMS_POLL_MS stays the safety net: a notification
 * missed while a listener reconnects is made up by a wake when it is back, and by the poll.
 * SQLite: nothing here does anything; a process's own commits still wake its own dispatcher
 * (`signalQueued`).
 */

export const SMS_QUEUED_CHANNEL = "sms_queued";

/** Transactions that have notified already: PostgreSQL sends one anyway, so spare the round trips. */
const notifiedTransactions = new WeakSet<Kysely<DB>>();

/**
 * Tells every dispatcher that a message is due now, as part of `db`'s transaction (sent when it
 * commits, dropped if it rolls back). Call it after writing the row; once per transaction costs a
 * statement, further calls in the same one cost nothing.
 */
export async function announceDue(db: Kysely<DB>, ctx: Pick<AppContext, "dialect">): Promise<void> {
  if (!hasNotifications(ctx.dialect)) return;
  if (db.isTransaction) {
    if (notifiedTransactions.has(db)) return;
    notifiedTransactions.add(db);
  }
  await notify(db, ctx.dialect, SMS_QUEUED_CHANNEL);
}

/**
 * The `application_name` of a dispatcher's listening connection in pg_stat_activity (PostgreSQL
 * keeps 63 bytes of it).
 */
export function listenerApplicationName(workerId: string): string {
  return `portal sms wake-ups ${workerId}`.slice(0, 63);
}

/**
 * Starts listening for `announceDue` on PostgreSQL, calling `wake` for each notification and each
 * time the listening connection is in place (at start and after a reconnection: what was notified
 * before was missed). Returns null on SQLite.
 */
export function listenForDueMessages(
  ctx: Pick<AppContext, "dialect" | "config" | "smsLog">,
  workerId: string,
  wake: () => void,
): NotificationListener | null {
  if (!hasNotifications(ctx.dialect)) return null;
  let lost = false;
  const listener = new NotificationListener({
    url: ctx.config.DATABASE_URL,
    channel: SMS_QUEUED_CHANNEL,
    applicationName: listenerApplicationName(workerId),
    onNotification: wake,
    onListening() {
      if (lost)
        ctx.smsLog.info({ worker: workerId }, "listening for new messages again; looking now");
      lost = false;
      wake();
    },
    onConnectionLost(error, retryInMs) {
      // Once per outage: a database away for a minute would otherwise fill the log.
      if (!lost)
        ctx.smsLog.warn(
          { worker: workerId, reason: error.message, retryInMs },
          "the connection that listens for new messages was lost; reconnecting (until then, each poll finds them)",
        );
      lost = true;
    },
  });
  listener.start();
  return listener;
}
