import type { ApplicationStatus } from "../db/schema.ts";

/**
 * The application's stages: Applied -> Shortlisted -> Interview -> Selected, Rejected at any point
 * before a decision, and Withdrawn by the student before a decision.
 */
export const TRANSITIONS: Record<ApplicationStatus, readonly ApplicationStatus[]> = {
  applied: ["shortlisted", "rejected", "withdrawn"],
  shortlisted: ["interview", "rejected", "withdrawn"],
  interview: ["selected", "rejected", "withdrawn"],
  selected: [],
  rejected: [],
  withdrawn: [],
};

export const STATUS_LABELS = {
  applied: "Applied",
  shortlisted: "Shortlisted",
  interview: "Interview",
  selected: "Selected",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
} as const satisfies Record<ApplicationStatus, string>;

/** The statuses an admin sets (withdrawing is the student's own act). */
export const ADMIN_TARGETS = ["shortlisted", "interview", "selected", "rejected"] as const;
export type AdminTarget = (typeof ADMIN_TARGETS)[number];

/** Null when allowed, else why not, in words for the person who asked. */
export function transitionProblem(from: ApplicationStatus, to: ApplicationStatus): string | null {
  if (from === to) return `already ${STATUS_LABELS[to]}`;
  if (TRANSITIONS[from].includes(to)) return null;
  if (TRANSITIONS[from].length === 0) return `${STATUS_LABELS[from]} is final`;
  return `cannot go from ${STATUS_LABELS[from]} to ${STATUS_LABELS[to]}`;
}
