import type { FastifyReply, FastifyRequest } from "fastify";
import { type Flash, type SessionUser, takeFlash } from "./auth.ts";
import { formatDateTime } from "./time.ts";

/**
 * Why SMS are not going out right now, as the composing module reads it once per admin page (the
 * dispatch state row and one indexed count): see `adminAlert` in web/server.ts and src/app.ts.
 */
export interface SmsSendingState {
  /** Twilio refused the credentials (any dispatcher saw it). */
  credentialsError: string | null;
  /** An admin paused all sending. */
  adminPause: { at: string; byEmail: string | null; reason: string | null } | null;
  /** Twilio's rate limit (429) paused every dispatcher until then. */
  rateLimitedUntil: string | null;
  /** Twilio did not answer several times in a row: nothing is sent until then (then one probe). */
  outageUntil: string | null;
  /** Messages that failed or were not delivered since `since` (24 hours ago). */
  recentFailures: { count: number; since: string };
  /**
   * Messages are due and no SMS dispatcher has been seen for `afterSeconds`
   * (SMS_STALLED_AFTER_SECONDS): nothing is sending them (decision 026).
   */
  stalled?: { afterSeconds: number } | null;
}

/** One line of the banner admins see on every page while sending is not live. */
export interface SmsNotice {
  text: string;
  /** A link after the text ("See them"). */
  link?: { href: string; label: string };
  /** Offers the Resume button (an admin's pause). */
  resume?: boolean;
}

/** What every page needs besides its own data. */
export interface PageContext {
  user: SessionUser | null;
  csrfToken: string;
  flash: Flash[];
  path: string;
  /** Shown on every admin page while SMS are not sent as usual (captured, disabled, paused). */
  smsNotices: SmsNotice[];
}

export function smsNoticesFor(
  config: { SMS_ENABLED: boolean; SMS_BACKEND: string },
  state: SmsSendingState | null,
): SmsNotice[] {
  const notices: SmsNotice[] = [];
  if (!config.SMS_ENABLED)
    notices.push({
      text: "SMS is disabled (SMS_ENABLED=false): messages are recorded as skipped and not sent.",
    });
  else if (config.SMS_BACKEND === "capture")
    notices.push({
      text: "SMS capture mode: messages are captured on this server and not sent to phones. Set the Twilio settings to send them.",
    });
  if (state?.stalled)
    notices.push({
      text: `SMS are not being sent: messages are waiting, but no SMS dispatcher has been seen for more than ${state.stalled.afterSeconds.toLocaleString("en-IN")} seconds. Start an SMS worker (npm run portal -- worker), or restart the portal if it sends its own SMS (SMS_DISPATCHER is not false). The messages stay queued and go out once a dispatcher runs.`,
    });
  if (state?.adminPause) {
    const { at, byEmail, reason } = state.adminPause;
    notices.push({
      text: `Sending paused by ${byEmail ?? "an admin"} since ${formatDateTime(at)}${reason ? ` (“${reason}”)` : ""}. Messages stay queued until sending is resumed.`,
      resume: true,
    });
  }
  if (state?.credentialsError)
    notices.push({
      text: `SMS sending is paused: Twilio refused the credentials (${state.credentialsError}). Messages stay queued; fix TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN and sending resumes by itself.`,
    });
  if (state?.rateLimitedUntil)
    notices.push({
      text: `Sending paused by Twilio's rate limit until ${formatDateTime(state.rateLimitedUntil)}; it resumes by itself.`,
    });
  if (state?.outageUntil)
    notices.push({
      text: `Twilio is not answering: sending is stopped until ${formatDateTime(state.outageUntil)}, then tried again with one message.`,
    });
  if (state && state.recentFailures.count > 0) {
    const n = state.recentFailures.count;
    notices.push({
      text: `${n.toLocaleString("en-IN")} SMS ${n === 1 ? "has" : "have"} failed or not been delivered in the last 24 hours.`,
      link: {
        href: `/admin/sms?status=failed_or_undelivered&since=${encodeURIComponent(state.recentFailures.since)}`,
        label: n === 1 ? "See it" : "See them",
      },
    });
  }
  return notices;
}

export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const config = request.server.ctx.config;
  return {
    user: request.user,
    csrfToken: reply.generateCsrf(),
    flash: takeFlash(request),
    path: request.url,
    smsNotices: request.user?.role === "admin" ? smsNoticesFor(config, request.smsAlert) : [],
  };
}
