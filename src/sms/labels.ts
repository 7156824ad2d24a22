import type { AppContext } from "../context.ts";
import { formatDateTime } from "../web/time.ts";
import { quietUntil } from "./quiet-hours.ts";

/**
 * The kinds and statuses of SMS in words, wherever a page shows a message (the SMS console, a
 * student's page); the stored codes stay as they are.
 */
const KIND_LABELS: Record<string, string> = {
  approval: "Approval",
  rejection: "Registration rejected",
  status_update: "Status update",
  application_corrected: "Decision corrected",
  job_posted: "Job alert",
  custom: "Announcement",
  test: "Test message",
  password_reset: "Password reset code",
  phone_code: "Phone confirmation code",
  phone_change: "Phone number changed",
  registration_attempt: "Registration with an existing email",
  round_scheduled: "Round scheduled",
  round_reminder: "Round reminder",
  round_changed: "Round moved or cancelled",
  deadline_nudge: "Deadline reminder",
  offer: "Offer",
};

const STATUS_LABELS: Record<string, string> = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  delivered: "Delivered",
  undelivered: "Not delivered",
  failed: "Failed",
  skipped: "Skipped",
  captured: "Captured (not sent)",
  cancelled: "Cancelled",
  unknown: "Outcome unknown: may have been sent",
};

/** A code nobody gave words to, readable anyway: "status_update" -> "Status update". */
export function codeInWords(code: string): string {
  const text = code.replace(/_/g, " ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

export function smsKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? codeInWords(kind);
}

export function smsStatusLabel(status: string): string {
  return STATUS_LABELS[status] ?? codeInWords(status);
}

/**
 * After a cancel, the messages it could not record as cancelled because their last attempt may
 * have reached Twilio (decision 027): " 3 may already have been sent and are being checked."
 */
export function beingCheckedNote(n: number): string {
  if (n === 0) return "";
  return ` ${n.toLocaleString("en-IN")} may already have been sent and ${n === 1 ? "is" : "are"} being checked (cancelled if not).`;
}

/**
 * After queueing quiet messages (decision 032) inside quiet hours: " They wait for the end of quiet
 * hours (7 Dec 2026, 9:00 am)." Empty when none were queued or the hour is not quiet.
 */
export function heldByQuietHoursNote(ctx: Pick<AppContext, "clock" | "config">, queued: number) {
  const until = queued === 0 ? null : quietUntil(ctx.clock.now(), ctx.config.SMS_QUIET_HOURS);
  return until
    ? ` They wait for the end of quiet hours (${formatDateTime(until.toISOString())}).`
    : "";
}
