import type { Migration } from "kysely";
import * as foundation from "./2026-11-25-foundation.ts";
import * as jobsApplications from "./2026-11-25-jobs-applications.ts";
import * as smsCancelled from "./2026-11-26a-sms-cancelled.ts";
import * as smsResilience from "./2026-11-26b-sms-resilience.ts";
import * as accounts from "./2026-12-02a-accounts.ts";
import * as smsAttempts from "./2026-12-02b-sms-attempts.ts";
import * as smsSteering from "./2026-12-02c-sms-steering.ts";
import * as announcementAudience from "./2026-12-02d-announcement-audience.ts";
import * as smsTemplates from "./2026-12-02e-sms-templates.ts";
import * as resumesInDatabase from "./2026-12-03a-resumes-in-database.ts";
import * as dashboardCounters from "./2026-12-03b-dashboard-counters.ts";
import * as adminPageIndexes from "./2026-12-03c-admin-page-indexes.ts";
import * as jobsVersion from "./2026-12-03d-jobs-version.ts";
import * as dashboardCompanySummary from "./2026-12-03e-dashboard-company-summary.ts";
import * as studentSearchIndex from "./2026-12-03f-student-search-index.ts";
import * as adminListIndex from "./2026-12-03g-admin-list-index.ts";
import * as smsHourlyCounts from "./2026-12-03h-sms-hourly-counts.ts";
import * as phoneChanges from "./2026-12-06b-phone-changes.ts";
import * as secretSmsBodies from "./2026-12-06c-secret-sms-bodies.ts";
import * as limitSettings from "./2026-12-06d-limit-settings.ts";
import * as summarySharesInKeyOrder from "./2026-12-06e-summary-shares-in-key-order.ts";
import * as keptNamesAndRejections from "./2026-12-06h-kept-names-and-rejections.ts";
import * as counterRowsInKeyOrder from "./2026-12-07a-counter-rows-in-key-order.ts";
import * as smsCountDeltas from "./2026-12-07b-sms-count-deltas.ts";
import * as sendBudget from "./2026-12-07c-send-budget.ts";
import * as dispatcherHeartbeats from "./2026-12-07d-dispatcher-heartbeats.ts";
import * as smsOutcomeUnknown from "./2026-12-07e-sms-outcome-unknown.ts";
import * as retention from "./2026-12-07g-retention.ts";
import * as groupMovesWithoutAJoin from "./2026-12-07h-group-moves-without-a-join.ts";
import * as counterLocksBesideForeignKeys from "./2026-12-07i-counter-locks-beside-foreign-keys.ts";
import * as smsDueWindows from "./2026-12-08a-sms-due-windows.ts";
import * as rounds from "./2026-12-08b-rounds.ts";
import * as offersAndPolicy from "./2026-12-09a-offers-and-policy.ts";
import * as oneLiveOutsideOffer from "./2026-12-10b-one-live-outside-offer.ts";
import * as seasonReportIndexes from "./2026-12-11a-season-report-indexes.ts";

/** Every migration, by name. Names sort in the order they run: date first. */
export const migrations: Record<string, Migration> = {
  "2026-11-25-foundation": foundation,
  "2026-11-25-jobs-applications": jobsApplications,
  "2026-11-26a-sms-cancelled": smsCancelled,
  "2026-11-26b-sms-resilience": smsResilience,
  "2026-12-02a-accounts": accounts,
  "2026-12-02b-sms-attempts": smsAttempts,
  "2026-12-02c-sms-steering": smsSteering,
  "2026-12-02d-announcement-audience": announcementAudience,
  "2026-12-02e-sms-templates": smsTemplates,
  "2026-12-03a-resumes-in-database": resumesInDatabase,
  "2026-12-03b-dashboard-counters": dashboardCounters,
  "2026-12-03c-admin-page-indexes": adminPageIndexes,
  "2026-12-03d-jobs-version": jobsVersion,
  "2026-12-03e-dashboard-company-summary": dashboardCompanySummary,
  "2026-12-03f-student-search-index": studentSearchIndex,
  "2026-12-03g-admin-list-index": adminListIndex,
  "2026-12-03h-sms-hourly-counts": smsHourlyCounts,
  "2026-12-06b-phone-changes": phoneChanges,
  "2026-12-06c-secret-sms-bodies": secretSmsBodies,
  "2026-12-06d-limit-settings": limitSettings,
  "2026-12-06e-summary-shares-in-key-order": summarySharesInKeyOrder,
  "2026-12-06h-kept-names-and-rejections": keptNamesAndRejections,
  "2026-12-07a-counter-rows-in-key-order": counterRowsInKeyOrder,
  "2026-12-07b-sms-count-deltas": smsCountDeltas,
  "2026-12-07g-retention": retention,
  "2026-12-07e-sms-outcome-unknown": smsOutcomeUnknown,
  "2026-12-07d-dispatcher-heartbeats": dispatcherHeartbeats,
  "2026-12-07c-send-budget": sendBudget,
  "2026-12-07h-group-moves-without-a-join": groupMovesWithoutAJoin,
  "2026-12-07i-counter-locks-beside-foreign-keys": counterLocksBesideForeignKeys,
  "2026-12-08a-sms-due-windows": smsDueWindows,
  "2026-12-08b-rounds": rounds,
  "2026-12-09a-offers-and-policy": offersAndPolicy,
  "2026-12-10b-one-live-outside-offer": oneLiveOutsideOffer,
  "2026-12-11a-season-report-indexes": seasonReportIndexes,
};
