import { pruneOldRejections, pruneSpentResetCodes } from "./accounts/retention.ts";
import { pruneOldAuditEntries } from "./audit/retention.ts";
import type { AppContext } from "./context.ts";
import { lapseOffers } from "./offers/service.ts";
import { Dispatcher, type MaintenanceTask } from "./sms/dispatcher.ts";
import { createTransport } from "./sms/transport/index.ts";
import { pruneSpentPhoneChanges } from "./students/retention.ts";

/**
 * The retention of data that is not SMS (README, "What is kept, how long"), done by the SMS
 * dispatchers' maintenance: every running portal has at least one dispatcher, and they already
 * share their housekeeping safely. Composed here because the SMS library imports no feature.
 */
export const DATA_RETENTION: readonly MaintenanceTask[] = [
  { name: "spent password reset codes deleted", run: pruneSpentResetCodes },
  { name: "spent phone changes deleted", run: pruneSpentPhoneChanges },
  { name: "rejected registrations past their period deleted", run: pruneOldRejections },
  { name: "audit entries deleted (AUDIT_RETENTION_DAYS)", run: pruneOldAuditEntries },
  // Not retention, but housekeeping of the same kind: every page reads such offers as lapsed.
  { name: "offers past their answer time recorded as lapsed", run: lapseOffers },
];

/** The dispatcher a portal process runs (thread, worker, tests): the configured transport and
 * the portal's housekeeping. */
export function newDispatcher(ctx: AppContext, options: { workerId?: string } = {}): Dispatcher {
  return new Dispatcher(ctx, {
    ...options,
    transport: createTransport(ctx.config),
    maintenance: DATA_RETENTION,
  });
}
