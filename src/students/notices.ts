import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Student } from "../db/schema.ts";
import { PRIORITY_TRANSACTIONAL, type QueueResult, queueSms } from "../sms/outbox-api.ts";
import { renderCurrent } from "../sms/template-store.ts";
import { defineTemplate, firstName } from "../sms/templates.ts";

/**
 * The registration's SMS: approved, or not approved (with the reason). Each fits two segments in
 * the encoding it is sent in: the first name and the reason are cut with "..." as far as needed.
 * A roll number is not cut: registration allows only A-Z, 0-9, / and -, at most 20 of them.
 */

const ROLL_NUMBER = {
  about: "the roll number",
  sample: "1XY21CS001",
  longest: "1XY21CS001/ABCDEFGHI",
};

export const approvalSms = defineTemplate({
  id: "approval",
  title: "Registration approved",
  variables: {
    name: { about: "the student's first name", sample: "Asha", cut: true },
    roll_number: ROLL_NUMBER,
  },
  defaultText:
    "Dear {name}, your Placement Portal account ({roll_number}) has been approved. You can now log in and apply for jobs.",
  maxSegments: 2,
});

/** Said as the reason when the admin gave none: one registered text serves both cases. */
export const NO_REASON = "not stated";

export const rejectionSms = defineTemplate({
  id: "rejection",
  title: "Registration rejected",
  variables: {
    name: { about: "the student's first name", sample: "Asha", cut: true },
    roll_number: ROLL_NUMBER,
    reason: {
      about: `the admin's reason ("${NO_REASON}" when none was given)`,
      sample: "Fees not paid",
      cut: true,
    },
  },
  defaultText:
    "Dear {name}, your Placement Portal registration ({roll_number}) was not approved. Reason: {reason}. Please contact the placement office.",
  maxSegments: 2,
});

type RegistrationStudent = Pick<Student, "full_name" | "roll_number">;

export function approvalVars(student: RegistrationStudent) {
  return { name: firstName(student.full_name), roll_number: student.roll_number };
}

export function rejectionVars(student: RegistrationStudent, reason: string | undefined) {
  return { ...approvalVars(student), reason: reason?.trim() || NO_REASON };
}

/** The rejection as the student would get it now (the confirmation page shows it). */
export async function rejectionExample(
  db: Kysely<DB>,
  student: RegistrationStudent,
  reason: string | undefined,
): Promise<string> {
  return (await renderCurrent(db, rejectionSms, rejectionVars(student, reason))).body;
}

export type StudentForSms = Pick<
  Student,
  "id" | "full_name" | "roll_number" | "phone_e164" | "sms_opted_out_at"
>;

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog">;

export async function notifyStudentApproved(
  trx: Kysely<DB>,
  ctx: Ctx,
  student: StudentForSms,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "approval",
    dedupeKey: `approval:${student.id}`,
    reference: `student:${student.id}`,
    studentId: student.id,
    toE164: student.phone_e164,
    ...(await renderCurrent(trx, approvalSms, approvalVars(student))),
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: student.sms_opted_out_at !== null,
  });
}

export async function notifyStudentRejected(
  trx: Kysely<DB>,
  ctx: Ctx,
  student: StudentForSms,
  reason: string | undefined,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "rejection",
    dedupeKey: `rejection:${student.id}`,
    reference: `student:${student.id}`,
    studentId: student.id,
    toE164: student.phone_e164,
    ...(await renderCurrent(trx, rejectionSms, rejectionVars(student, reason))),
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: student.sms_opted_out_at !== null,
  });
}

/**
 * Registration answers the same for an email that has an account as for a new one, so that the
 * form does not tell who is registered; the account's owner is told by SMS instead (at most
 * `registration.notices_per_account` of them, registration-limits.ts). The text names the
 * account by its roll number only, and says nothing of who tried.
 */
export const registrationAttemptSms = defineTemplate({
  id: "registration_attempt",
  title: "Registration tried with an existing account's email",
  variables: { roll_number: ROLL_NUMBER },
  defaultText:
    "Placement Portal: someone tried to register again with the email of your account {roll_number}. If it was you, log in or use Forgot password.",
  maxSegments: 1,
});

/** Tells a student that a registration was tried with their account's email. */
export async function notifyRegistrationAttempt(
  trx: Kysely<DB>,
  ctx: Ctx,
  student: Pick<Student, "id" | "roll_number" | "phone_e164">,
  at: string,
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "registration_attempt",
    dedupeKey: `registration-attempt:${student.id}:${at}`,
    reference: `student:${student.id}`,
    studentId: student.id,
    toE164: student.phone_e164,
    ...(await renderCurrent(trx, registrationAttemptSms, { roll_number: student.roll_number })),
    priority: PRIORITY_TRANSACTIONAL,
  });
}
