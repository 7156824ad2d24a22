import type { FastifyReply, FastifyRequest } from "fastify";
import { type Flash, type SessionUser, takeFlash } from "./auth.ts";

/** What every page needs besides its own data. */
export interface PageContext {
  user: SessionUser | null;
  csrfToken: string;
  flash: Flash[];
  path: string;
  /** Shown on every admin page while SMS are captured locally instead of sent. */
  smsNotice: string | null;
}

export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const config = request.server.ctx.config;
  const smsNotice = request.smsAlert
    ? `SMS sending is paused: Twilio refused the credentials (${request.smsAlert}). Messages stay queued; fix TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN and sending resumes by itself.`
    : !config.SMS_ENABLED
      ? "SMS is disabled (SMS_ENABLED=false): messages are recorded as skipped and not sent."
      : config.SMS_BACKEND === "capture"
        ? "SMS capture mode: messages are captured on this server and not sent to phones. Set the Twilio settings to send them."
        : null;
  return {
    user: request.user,
    csrfToken: reply.generateCsrf(),
    flash: takeFlash(request),
    path: request.url,
    smsNotice,
  };
}
