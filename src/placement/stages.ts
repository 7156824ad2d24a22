import type { ApplicationStatus } from "../db/schema.ts";

/**
 * The application's stages: Applied -> Shortlisted -> Interview -> Selected, Selected straight from
 * any stage before a decision (a company's final list), Rejected at any point before a decision,
 * and Withdrawn by the student before a decision. Withdrawing is reversible: until the job's
 * deadline the student may apply again (Withdrawn -> Applied, the same row). A decision (Selected,
 * Rejected) is not a step forward from anywhere: only a correction moves it back, to the stage it
 * was in before (`correctDecision` in applications/service.ts).
 */
export const TRANSITIONS: Record<ApplicationStatus, readonly ApplicationStatus[]> = {
  applied: ["shortlisted", "selected", "rejected", "withdrawn"],
  shortlisted: ["interview", "selected", "rejected", "withdrawn"],
  interview: ["selected", "rejected", "withdrawn"],
  selected: [],
  rejected: [],
  withdrawn: ["applied"],
};

export const STATUS_LABELS = {
  applied: "Applied",
  shortlisted: "Shortlisted",
  interview: "Interview",
  selected: "Selected",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
} as const satisfies Record<ApplicationStatus, string>;

/** The decisions: each asks first, one row or many, and only a correction undoes it. */
export const DECISIONS = ["selected", "rejected"] as const;
export type Decision = (typeof DECISIONS)[number];

export function isDecision(status: ApplicationStatus): status is Decision {
  return (DECISIONS as readonly string[]).includes(status);
}

/** A move that undid a decision (a correction: Selected or Rejected back to the stage before). */
export function isCorrection(move: {
  from_status: ApplicationStatus | null;
  to_status: ApplicationStatus;
}): move is { from_status: Decision; to_status: ApplicationStatus } {
  return move.from_status !== null && isDecision(move.from_status) && !isDecision(move.to_status);
}

/** The statuses an admin sets (withdrawing and applying again are the student's own acts). */
export const ADMIN_TARGETS = ["shortlisted", "interview", "selected", "rejected"] as const;
export type AdminTarget = (typeof ADMIN_TARGETS)[number];

export function isAdminTarget(status: ApplicationStatus): status is AdminTarget {
  return (ADMIN_TARGETS as readonly string[]).includes(status);
}

/** Who makes a move: the student withdraws and applies again, the admin does every other. */
export function moverOf(to: ApplicationStatus): "admin" | "student" {
  return isAdminTarget(to) ? "admin" : "student";
}

/**
 * Null when `by` may move an application from `from` to `to`, else why not, in words for the
 * person who asked. The deadline (for applying again) is the caller's to check: it needs the job.
 */
export function transitionProblem(
  from: ApplicationStatus,
  to: ApplicationStatus,
  by: "admin" | "student" = moverOf(to),
): string | null {
  if (from === to) return `already ${STATUS_LABELS[to]}`;
  if (TRANSITIONS[from].length === 0) return `${STATUS_LABELS[from]} is final`;
  if (!TRANSITIONS[from].includes(to))
    return `cannot go from ${STATUS_LABELS[from]} to ${STATUS_LABELS[to]}`;
  if (moverOf(to) !== by)
    return by === "admin"
      ? `only the student can move it to ${STATUS_LABELS[to]}`
      : `only the placement office can move it to ${STATUS_LABELS[to]}`;
  return null;
}
