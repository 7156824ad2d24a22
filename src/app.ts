import type { FastifyInstance } from "fastify";
import { LOGIN_LIMITS } from "./accounts/login-limits.ts";
import { resetCodeSms } from "./accounts/notices.ts";
import { RESET_LIMITS } from "./accounts/password-reset.ts";
import {
  adminAccountRoutes,
  ownPasswordRoutes,
  passwordResetRoutes,
} from "./accounts/password-routes.tsx";
import { accountRoutes } from "./accounts/routes.tsx";
import { findSessionUser } from "./accounts/service.ts";
import { announcementSms } from "./announcements/notices.ts";
import { announcementRoutes } from "./announcements/routes.tsx";
import { adminApplicationRoutes } from "./applications/admin-routes.tsx";
import { decisionCorrectedSms, statusUpdateSms } from "./applications/notices.ts";
import { studentApplicationRoutes } from "./applications/student-routes.tsx";
import { auditRoutes } from "./audit/routes.tsx";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { adminDashboardRoutes, studentDashboardRoutes } from "./dashboard/routes.tsx";
import { adminJobRoutes } from "./jobs/admin-routes.tsx";
import { deadlineNudgeSms, jobPostedSms } from "./jobs/notices.ts";
import { studentJobRoutes } from "./jobs/student-routes.tsx";
import { limitRoutes } from "./limits/routes.tsx";
import { adminOfferRoutes } from "./offers/admin-routes.tsx";
import { OFFER_TEMPLATES } from "./offers/notices.ts";
import { studentOfferRoutes } from "./offers/student-routes.tsx";
import { healthRoutes } from "./ops/health-routes.ts";
import { adminPolicyRoutes } from "./policies/routes.tsx";
import { seasonReportRoutes } from "./reports/routes.tsx";
import { adminRoundRoutes } from "./rounds/admin-routes.tsx";
import { calendarFeedKey } from "./rounds/calendar.ts";
import { calendarFeedRoutes } from "./rounds/calendar-routes.ts";
import { ROUND_TEMPLATES } from "./rounds/notices.ts";
import { studentRoundRoutes } from "./rounds/student-routes.tsx";
import { cachedLiveness, smsHealth } from "./sms/heartbeat.ts";
import { readSendingState } from "./sms/outbox.ts";
import { type SmsTemplate, testSms } from "./sms/templates.ts";
import { twilioWebhookRoutes } from "./sms/webhook-routes.ts";
import { smsActionRoutes } from "./sms-console/action-routes.tsx";
import { smsAdminRoutes } from "./sms-console/admin-routes.tsx";
import { smsTemplateRoutes } from "./sms-console/template-routes.tsx";
import { adminStudentListRoutes } from "./students/list-routes.tsx";
import {
  approvalSms,
  phoneCodeSms,
  phoneCorrectedSms,
  phoneRegisteredSms,
  phoneReplacedSms,
  registrationAttemptSms,
  rejectionSms,
} from "./students/notices.ts";
import { PHONE_CODE_REQUESTS } from "./students/phone-change.ts";
import { adminStudentRecordRoutes } from "./students/record-routes.tsx";
import { registrationLimits } from "./students/registration-limits.ts";
import { registrationRoutes } from "./students/registration-routes.tsx";
import { adminSemesterRoutes } from "./students/semester-routes.tsx";
import { studentRoutes } from "./students/student-routes.tsx";
import { adminVerificationRoutes } from "./students/verification-routes.tsx";
import type { LimitSetting } from "./web/limits.ts";
import { createWebServer } from "./web/server.ts";

/** Every SMS text the portal sends, each declared by its feature: the templates page edits them. */
export const SMS_TEMPLATES: readonly SmsTemplate[] = [
  approvalSms,
  rejectionSms,
  phoneCodeSms,
  phoneReplacedSms,
  phoneCorrectedSms,
  phoneRegisteredSms,
  registrationAttemptSms,
  statusUpdateSms,
  decisionCorrectedSms,
  jobPostedSms,
  deadlineNudgeSms,
  announcementSms,
  ...ROUND_TEMPLATES,
  ...OFFER_TEMPLATES,
  resetCodeSms,
  testSms,
];

/**
 * Every abuse limit the office may change, each declared by its feature beside the code that
 * takes it: the limits page lists them. The registrations per address default to
 * REGISTRATIONS_PER_ADDRESS_PER_HOUR.
 */
export function limitSettings(config: Config): readonly LimitSetting[] {
  return [
    ...Object.values(LOGIN_LIMITS),
    ...Object.values(RESET_LIMITS),
    ...Object.values(registrationLimits(config)),
    PHONE_CODE_REQUESTS,
  ];
}

export interface AppOptions {
  /** At least 32 characters; the session cookie key is derived from it. */
  sessionSecret: string;
}

/**
 * The portal's web app: the shared web kit (web/server.ts), told how to find the signed-in user
 * and what to warn admins about, then every feature's routes. The one module that knows them all.
 */
export async function buildApp(ctx: AppContext, options: AppOptions): Promise<FastifyInstance> {
  // Whether a dispatcher is alive and messages are due: read at most once a second per process.
  const liveness = cachedLiveness(ctx);
  const calendarKey = calendarFeedKey(options.sessionSecret);
  const app = await createWebServer(ctx, {
    sessionSecret: options.sessionSecret,
    loadUser: (userId, sessionVersion) => findSessionUser(ctx, userId, sessionVersion),
    // Pauses (an admin's, refused credentials, Twilio's rate limit, an open circuit), the last
    // day's failures, and a stall (due messages, no dispatcher seen).
    adminAlert: async () => {
      const [state, live] = await Promise.all([readSendingState(ctx), liveness()]);
      const paused = state.adminPause !== null || state.credentialsError !== null;
      const stalled = smsHealth(paused, live) === "stalled";
      return {
        ...state,
        stalled: stalled ? { afterSeconds: ctx.config.SMS_STALLED_AFTER_SECONDS } : null,
      };
    },
  });
  await app.register(healthRoutes, { liveness });
  await app.register(accountRoutes);
  await app.register(passwordResetRoutes);
  await app.register(ownPasswordRoutes, { prefix: "/student", role: "student" });
  await app.register(ownPasswordRoutes, { prefix: "/admin", role: "admin" });
  await app.register(adminAccountRoutes, { prefix: "/admin" });
  await app.register(registrationRoutes);
  await app.register(studentRoutes, { prefix: "/student" });
  await app.register(studentDashboardRoutes, { prefix: "/student", calendarKey });
  await app.register(studentJobRoutes, { prefix: "/student" });
  await app.register(studentApplicationRoutes, { prefix: "/student" });
  await app.register(studentRoundRoutes, { prefix: "/student" });
  await app.register(studentOfferRoutes, { prefix: "/student" });
  await app.register(calendarFeedRoutes, { key: calendarKey });
  await app.register(adminDashboardRoutes, { prefix: "/admin" });
  await app.register(adminJobRoutes, { prefix: "/admin" });
  await app.register(adminApplicationRoutes, { prefix: "/admin" });
  await app.register(adminRoundRoutes, { prefix: "/admin" });
  await app.register(adminOfferRoutes, { prefix: "/admin" });
  await app.register(announcementRoutes, { prefix: "/admin" });
  await app.register(adminStudentListRoutes, { prefix: "/admin" });
  await app.register(adminStudentRecordRoutes, { prefix: "/admin" });
  await app.register(adminVerificationRoutes, { prefix: "/admin" });
  await app.register(adminSemesterRoutes, { prefix: "/admin" });
  await app.register(auditRoutes, { prefix: "/admin" });
  await app.register(seasonReportRoutes, { prefix: "/admin" });
  await app.register(limitRoutes, { prefix: "/admin", settings: limitSettings(ctx.config) });
  await app.register(adminPolicyRoutes, { prefix: "/admin" });
  await app.register(smsAdminRoutes, { prefix: "/admin" });
  await app.register(smsActionRoutes, { prefix: "/admin" });
  await app.register(smsTemplateRoutes, { prefix: "/admin", templates: SMS_TEMPLATES });
  await app.register(twilioWebhookRoutes);
  return app;
}
