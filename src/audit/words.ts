import type { ApplicationStatus } from "../db/schema.ts";
import { describePolicy, type PlacementPolicy } from "../placement/policy.ts";
import { STATUS_LABELS } from "../placement/stages.ts";
import { formatCgpa, plural } from "../web/format.ts";

/**
 * The audit log in words: each stored entry (an action code, a subject and JSON details, kept as
 * recorded) read as a sentence a person understands. Only the details stored at the time are
 * used, so an entry still reads well after its student, job or announcement is deleted.
 */

export interface AuditWords {
  /** "Approved student Asha Rao (1XY22CS001)". */
  summary: string;
  /** Secondary facts ("Reason: ...", "2 SMS alerts queued"), or "". */
  details: string;
}

type Details = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function status(v: unknown): string {
  return typeof v === "string" && v in STATUS_LABELS
    ? STATUS_LABELS[v as ApplicationStatus]
    : String(v);
}

/** "1XY22CS001 Asha Rao" (the stored subject) or the names in the details -> "Asha Rao (1XY22CS001)". */
function studentName(subject: string, d: Details): string {
  const name = str(d.name);
  const roll = str(d.rollNumber);
  if (name && roll) return `${name} (${roll})`;
  const [first, ...rest] = subject.split(" ");
  return rest.length > 0 && first && /^[A-Z0-9/-]+$/.test(first)
    ? `${rest.join(" ")} (${first})`
    : subject;
}

const FIELD_NAMES: Record<string, string> = {
  department: "department",
  semester: "semester",
  graduation_year: "graduation year",
  cgpa: "CGPA",
  active_backlogs: "active backlogs",
};

/** A student record's field as people name it: "cgpa" -> "CGPA". */
export function recordFieldName(field: string): string {
  return FIELD_NAMES[field] ?? field.replace(/_/g, " ");
}

function fieldValue(field: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "blank";
  if (field === "cgpa" && typeof value === "number") return formatCgpa(value);
  return String(value);
}

function changesInWords(changes: unknown): string {
  if (typeof changes !== "object" || changes === null) return "";
  return Object.entries(changes as Record<string, { from?: unknown; to?: unknown }>)
    .map(
      ([field, c]) =>
        `${recordFieldName(field)} ${fieldValue(field, c?.from)} → ${fieldValue(field, c?.to)}`,
    )
    .join(", ");
}

/** "+91******3210 → +91******4321": the masked numbers a change of number stored. */
function phoneChange(d: Details): string {
  return str(d.from) && str(d.to) ? `${d.from} → ${d.to}` : "";
}

function cancelled(n: number | undefined, what: string, beingChecked?: number): string {
  return [
    n ? `${plural(n, what, what)} not sent yet cancelled` : "",
    beingChecked
      ? `${beingChecked} may already have been sent and ${beingChecked === 1 ? "is" : "are"} being checked`
      : "",
  ]
    .filter(Boolean)
    .join("; ");
}

interface MovedApplication {
  student?: string;
  rollNumber?: string;
  job?: string;
  from?: string;
}

function applicationMoves(subject: string, d: Details): AuditWords {
  const to = status(d.to);
  const moved = Array.isArray(d.applications) ? (d.applications as MovedApplication[]) : [];
  const ids = Array.isArray(d.applicationIds) ? d.applicationIds.length : moved.length;
  const one = moved.length === 1 && ids === 1 ? moved[0] : undefined;
  if (one?.student && one.job)
    return {
      summary: `Moved ${one.student}'s application for ${one.job} from ${status(one.from)} to ${to}`,
      details: one.rollNumber ? `Roll number ${one.rollNumber}` : "",
    };
  if (moved.length > 0) {
    const jobs = [...new Set(moved.map((m) => m.job).filter(Boolean))];
    const names = moved.map((m) => `${m.student} (from ${status(m.from)})`);
    return {
      summary: `Moved ${plural(ids, "application")}${jobs.length === 1 ? ` for ${jobs[0]}` : ""} to ${to}`,
      details: `${names.join(", ")}${ids > moved.length ? ` and ${ids - moved.length} more` : ""}`,
    };
  }
  // An entry without names in its details: its subject says "3 applications to Shortlisted".
  return { summary: `Moved ${subject}`, details: "" };
}

/** A placement policy as an entry stored it, in its page's sentences; null if it is not one. */
function policyLines(v: unknown): string[] | null {
  if (typeof v !== "object" || v === null || !Array.isArray((v as PlacementPolicy).tiers))
    return null;
  try {
    return describePolicy(v as PlacementPolicy);
  } catch {
    return null;
  }
}

/** A policy entry: the year, and what it said before and after (only the sentences that changed). */
function policyChange(verb: string, subject: string, d: Details): AuditWords {
  const year = num(d.graduationYear);
  const from = policyLines(d.from);
  const to = policyLines(d.to);
  const summary = `${verb} the placement policy ${year ? `of the ${year} batch` : `(${subject})`}`;
  if (from && to) {
    const changed = to.flatMap((line, i) => (line === from[i] ? [] : [`“${from[i]}” → “${line}”`]));
    return { summary, details: changed.join(" ") };
  }
  if (to) return { summary, details: to.join(" ") };
  return { summary, details: from ? `It said: ${from.join(" ")}` : "" };
}

/** Any action this file does not know yet: its code in words, the subject, the details listed. */
function fallback(action: string, subject: string, d: Details): AuditWords {
  const words = action.replace(/[._]/g, " ");
  return {
    summary: `${words.charAt(0).toUpperCase()}${words.slice(1)}: ${subject}`,
    details: Object.entries(d)
      .filter(([k, v]) => v !== null && v !== undefined && v !== "" && !/Id$|Ids$/.test(k))
      .map(
        ([k, v]) =>
          `${k.replace(/([A-Z])/g, " $1").toLowerCase()}: ${typeof v === "string" ? v : JSON.stringify(v)}`,
      )
      .join("; "),
  };
}

export function auditInWords(entry: {
  action: string;
  subject: string;
  details: Details;
}): AuditWords {
  const { action, subject, details: d } = entry;
  switch (action) {
    case "student.approve":
      return { summary: `Approved student ${studentName(subject, d)}`, details: "" };
    case "student.reject":
      return {
        summary: `Rejected the registration of ${studentName(subject, d)}`,
        details: str(d.reason) ? `Reason: ${d.reason}` : "No reason given",
      };
    case "student.update_academics":
      return {
        summary: `Corrected the academic record of ${studentName(subject, d)}`,
        details: changesInWords(d.changes),
      };
    case "student.phone_change_requested":
      return {
        summary: `${studentName(subject, d)} asked to change their mobile number`,
        details: [
          phoneChange(d),
          d.sms === "skipped" ? "code not sent (SMS is disabled)" : "code sent to the new number",
        ]
          .filter(Boolean)
          .join("; "),
      };
    case "student.phone_changed":
      return {
        summary: `${studentName(subject, d)} changed their mobile number (confirmed by SMS code)`,
        details: [phoneChange(d), "the old number was told by SMS"].filter(Boolean).join("; "),
      };
    case "student.phone_corrected":
      return {
        summary: `Changed the mobile number of ${studentName(subject, d)}`,
        details: [phoneChange(d), "both numbers were told by SMS"].filter(Boolean).join("; "),
      };
    case "student.advance_semester":
      return {
        summary: `Moved ${plural(num(d.moved) ?? 0, "student")} of the ${subject} to the next semester`,
        details: "",
      };
    case "job.post":
      return {
        summary: `Posted the job ${subject}`,
        details:
          d.sms === false ? "No SMS alerts" : `${plural(num(d.alerts) ?? 0, "SMS alert")} queued`,
      };
    case "job.edit":
      return {
        summary: `Edited the job ${subject}`,
        details: num(d.alertsRewritten)
          ? `${plural(num(d.alertsRewritten)!, "alert SMS", "alert SMS")} not sent yet now carry the new text`
          : "",
      };
    case "job.close":
      return {
        summary: `Closed applications for ${subject}`,
        details: cancelled(num(d.alertsCancelled), "alert SMS", num(d.alertsBeingChecked)),
      };
    case "job.reopen":
      return { summary: `Reopened applications for ${subject}`, details: "" };
    case "job.delete":
      return {
        summary: `Deleted the job ${subject}`,
        details: cancelled(num(d.alertsCancelled), "alert SMS", num(d.alertsBeingChecked)),
      };
    case "round.add":
      return {
        summary: `Scheduled the round ${subject}`,
        details: [
          str(d.startsAt) ? `from ${d.startsAt} IST` : "",
          num(d.batches) ? plural(num(d.batches)!, "batch", "batches") : "",
        ]
          .filter(Boolean)
          .join(", "),
      };
    case "round.edit":
      return {
        summary: `Changed the round ${subject}`,
        details: [
          str(d.from) && str(d.to) ? `moved from ${d.from} to ${d.to} IST` : "",
          str(d.venue) !== undefined ? `venue: ${d.venue}` : "",
          num(d.told) ? `${plural(num(d.told)!, "student")} told by SMS` : "",
        ]
          .filter(Boolean)
          .join("; "),
      };
    case "round.cancel":
      return {
        summary: `Cancelled the round ${subject}`,
        details: num(d.told) ? `${plural(num(d.told)!, "student")} told by SMS` : "",
      };
    case "round.add_batch":
      return {
        summary: `Added a batch to the round ${subject}`,
        details: str(d.startsAt) ? `at ${d.startsAt} IST` : "",
      };
    case "round.members_add":
      return {
        summary: `Put ${plural(num(d.added) ?? 0, "student")} in the round ${subject}`,
        details: [
          str(d.at) ? `batch of ${d.at} IST` : "",
          Array.isArray(d.students) ? d.students.join(", ") : "",
        ]
          .filter(Boolean)
          .join(": "),
      };
    case "round.members_remove":
      return {
        summary: `Took ${plural(num(d.removed) ?? 0, "student")} out of the round ${subject}`,
        details: "",
      };
    case "round.mark":
      return {
        summary: `Marked ${plural(num(d.students) ?? 0, "student")} ${String(d.mark ?? "").toLowerCase()} in the round ${subject}`,
        details: "",
      };
    case "round.results":
      return {
        summary: `Applied the results of the round ${subject}`,
        details: `${plural(num(d.movedOn) ?? 0, "student")} put in the next round, ${plural(num(d.closed) ?? 0, "application")} rejected`,
      };
    case "student.placement_opt_out":
      return { summary: `Opted ${studentName(subject, d)} out of placement`, details: "" };
    case "student.placement_opt_in":
      return {
        summary: `Took ${studentName(subject, d)} back into placement`,
        details: "",
      };
    case "offer.make":
      return {
        summary: `Recorded ${plural(num(d.offers) ?? 0, d.source === "ppo" ? "pre-placement offer" : d.source === "off_campus" ? "off-campus offer" : "offer")} from ${subject}`,
        details: [
          str(d.role) ?? "",
          num(d.ctcLpa) !== undefined ? `${num(d.ctcLpa)} LPA` : "",
          str(d.answerBy) ? `answer by ${d.answerBy}` : "",
          Array.isArray(d.students) ? d.students.join(", ") : "",
        ]
          .filter(Boolean)
          .join("; "),
      };
    case "offer.accept":
      return {
        summary: `Accepted the offer ${subject}`,
        details: [
          num(d.ctcLpa) !== undefined ? `${num(d.ctcLpa)} LPA` : "",
          Array.isArray(d.released) && d.released.length > 0
            ? `gave up ${plural(d.released.length, "earlier offer")}`
            : "",
        ]
          .filter(Boolean)
          .join("; "),
      };
    case "offer.decline":
      return {
        summary: `Declined the offer ${subject}`,
        details: d.afterAccepting === true ? "after accepting it" : "",
      };
    case "offer.withdraw":
      return {
        summary: `Withdrew the offer ${subject}`,
        details: str(d.reason) ? `Reason: ${d.reason}` : "",
      };
    case "offer.letter":
      return { summary: `Stored the offer letter of ${subject}`, details: "" };
    case "announcement.post":
      return {
        summary: `Posted the announcement “${subject}”`,
        details: [
          num(d.sms) ? `Sent by SMS to ${plural(num(d.sms)!, "student")}` : "No SMS",
          // An entry without an audience was for every approved student.
          str(d.audience)
            ? `for ${str(d.audience)}${num(d.recipients) !== undefined ? ` (${plural(num(d.recipients)!, "student")})` : ""}`
            : "",
        ]
          .filter(Boolean)
          .join(", "),
      };
    case "announcement.delete":
      return {
        summary: `Deleted the announcement “${subject}”`,
        details: cancelled(num(d.smsCancelled), "SMS", num(d.smsBeingChecked)),
      };
    case "application.status":
      return applicationMoves(subject, d);
    case "application.correct":
      return {
        summary: `Corrected ${str(d.student) && str(d.job) ? `${d.student}'s application for ${d.job}` : subject}: ${status(d.from)} back to ${status(d.to)}`,
        details: [
          str(d.reason) ? `Reason: ${d.reason}` : "No reason given",
          str(d.rollNumber) ? `Roll number ${d.rollNumber}` : "",
          d.sms === "queued" ? "SMS queued" : str(d.sms) ? `No SMS (${d.sms})` : "",
        ]
          .filter(Boolean)
          .join("; "),
      };
    case "sms.resend":
      return {
        summary: `Resent SMS #${num(d.messageId) ?? subject.replace(/^SMS #/, "")}`,
        details: num(d.newMessageId)
          ? `Queued again as message #${d.newMessageId}${d.status === "skipped" ? " (recorded as skipped: SMS is disabled)" : ""}`
          : "",
      };
    case "sms.cancel": {
      const reference = str(d.reference);
      const [what, id] = reference?.split(":") ?? [];
      const of = reference
        ? what === "job"
          ? ` (alerts of job #${id})`
          : ` (announcement #${id})`
        : num(d.selected)
          ? ` of ${plural(num(d.selected)!, "selected message")}`
          : "";
      return {
        summary: `Cancelled ${plural(num(d.cancelled) ?? 0, "queued SMS", "queued SMS")}${of}`,
        details: [
          num(d.beingChecked)
            ? `${plural(num(d.beingChecked)!, "message")} that may already have been sent checked first`
            : "",
          num(d.alreadyGone)
            ? `${plural(num(d.alreadyGone)!, "message")} already sent left as they were`
            : "",
        ]
          .filter(Boolean)
          .join("; "),
      };
    }
    case "sms.pause":
      return {
        summary: "Paused all SMS sending",
        details: str(d.reason) ? `Reason: ${d.reason}` : "No reason given",
      };
    case "sms.resume":
      return {
        summary: "Resumed SMS sending",
        details: str(d.pausedBy) ? `Paused by ${d.pausedBy}` : "",
      };
    case "sms_template.edit":
      return {
        summary: `Edited the SMS template “${subject}”`,
        details: [
          num(d.from) && num(d.to) ? `Version ${d.from} → version ${d.to}` : "",
          str(d.dltTemplateId) ? `DLT template id ${d.dltTemplateId}` : "",
        ]
          .filter(Boolean)
          .join(", "),
      };
    case "sms_dlt.edit":
      return {
        summary: "Changed the sender's DLT registration for SMS",
        details: changesInWords({
          "DLT entity id": d.entityId,
          "sender id": d.header,
        }),
      };
    case "limit.edit":
      return {
        summary: `Changed the limit “${subject}”`,
        details: `${str(d.from) ?? "?"} → ${str(d.to) ?? "?"}${d.isDefault === true ? " (the default)" : ""}`,
      };
    case "placement_policy.set":
      return policyChange("Set", subject, d);
    case "placement_policy.edit":
      return policyChange("Changed", subject, d);
    case "placement_policy.remove":
      return policyChange("Removed", subject, d);
    case "registration.existing_email":
      return {
        summary: `Someone registered with the email of the account ${subject}`,
        details: [
          str(d.address) ? `From ${d.address}` : "",
          d.sent === true
            ? "The owner was told by SMS"
            : `No SMS${str(d.reason) ? `: ${d.reason}` : ""}`,
        ]
          .filter(Boolean)
          .join("; "),
      };
    default:
      return fallback(action, subject, d);
  }
}

/**
 * The kinds of action the audit log's "What" filter offers, each as the page's entries read
 * ("Approved student …" is "Student approved"). An action missing here is still listed in the log
 * and found by its subject; add it here to filter by it.
 */
export const AUDIT_ACTION_KINDS: readonly { action: string; label: string }[] = [
  { action: "student.approve", label: "Student approved" },
  { action: "student.reject", label: "Registration rejected" },
  { action: "student.update_academics", label: "Academic record corrected" },
  { action: "student.phone_corrected", label: "Mobile number changed by the office" },
  { action: "student.phone_change_requested", label: "Mobile number change asked by a student" },
  { action: "student.phone_changed", label: "Mobile number changed by a student" },
  { action: "student.advance_semester", label: "Batch moved to the next semester" },
  { action: "registration.existing_email", label: "Registration with an existing email" },
  { action: "job.post", label: "Job posted" },
  { action: "job.edit", label: "Job edited" },
  { action: "job.close", label: "Job closed" },
  { action: "job.reopen", label: "Job reopened" },
  { action: "job.delete", label: "Job deleted" },
  { action: "application.status", label: "Application moved" },
  { action: "application.correct", label: "Decision corrected" },
  { action: "round.add", label: "Round scheduled" },
  { action: "round.edit", label: "Round changed" },
  { action: "round.cancel", label: "Round cancelled" },
  { action: "round.add_batch", label: "Round batch added" },
  { action: "round.members_add", label: "Students put in a round" },
  { action: "round.members_remove", label: "Students taken out of a round" },
  { action: "round.mark", label: "Round attendance or result marked" },
  { action: "round.results", label: "Round results applied" },
  { action: "student.placement_opt_out", label: "Student opted out of placement" },
  { action: "student.placement_opt_in", label: "Student back in placement" },
  { action: "offer.make", label: "Offers recorded" },
  { action: "offer.accept", label: "Offer accepted" },
  { action: "offer.decline", label: "Offer declined" },
  { action: "offer.withdraw", label: "Offer withdrawn" },
  { action: "offer.letter", label: "Offer letter stored" },
  { action: "announcement.post", label: "Announcement posted" },
  { action: "announcement.delete", label: "Announcement deleted" },
  { action: "sms.resend", label: "SMS resent" },
  { action: "sms.cancel", label: "Queued SMS cancelled" },
  { action: "sms.pause", label: "SMS sending paused" },
  { action: "sms.resume", label: "SMS sending resumed" },
  { action: "sms_template.edit", label: "SMS template edited" },
  { action: "sms_dlt.edit", label: "DLT registration changed" },
  { action: "limit.edit", label: "Limit changed" },
  { action: "placement_policy.set", label: "Placement policy set" },
  { action: "placement_policy.edit", label: "Placement policy changed" },
  { action: "placement_policy.remove", label: "Placement policy removed" },
  { action: "admin.added", label: "Admin added" },
  { action: "admin.password_set", label: "Admin's password set" },
  { action: "password.changed", label: "Password changed" },
  { action: "password_reset.requested", label: "Password reset asked" },
  { action: "password_reset.used", label: "Password reset used" },
];
