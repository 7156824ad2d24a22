import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Student } from "../db/schema.ts";
import {
  PRIORITY_TRANSACTIONAL,
  PRIORITY_URGENT,
  type QueueResult,
  queueSms,
} from "../sms/outbox-api.ts";
import { renderCurrent, renderVersion } from "../sms/template-store.ts";
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

/**
 * The text puts its own full stop after the reason (DLT templates are matched exactly), so the
 * reason's own closing punctuation goes: "…marks card. Please contact", never "card.. Please".
 */
export function rejectionVars(student: RegistrationStudent, reason: string | undefined) {
  const said = reason?.trim().replace(/[\s.!?。]+$/u, "");
  return { ...approvalVars(student), reason: said || NO_REASON };
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

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

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
 * A change of mobile number (issue 20). The code goes to the new number; the old number is told
 * once the change is made, so a student whose account was taken over learns it on the phone they
 * still hold. Each text names the account by roll number and the other number only by its last 4
 * digits (enough to recognise one's own, not to call it). "Contact the placement office": the
 * office may write its phone number into these texts on the templates page (DLT wants it fixed
 * text anyway).
 */

export const phoneCodeSms = defineTemplate({
  id: "phone_code",
  title: "Code confirming a new mobile number",
  variables: {
    code: { about: "the one-time code", sample: "482913" },
    minutes: { about: "how many minutes the code lasts", sample: "10", longest: "999" },
  },
  defaultText:
    "Placement Portal: {code} is your code to confirm this mobile number. It expires in {minutes} minutes. Did not ask for it? Ignore this SMS.",
  maxSegments: 1,
});

export function phoneCodeVars(code: string, minutes: number) {
  return { code, minutes: String(minutes) };
}

const NUMBER_ENDING = {
  about: "the last 4 digits of the other number",
  sample: "4321",
};

export const phoneReplacedSms = defineTemplate({
  id: "phone_replaced",
  title: "Mobile number changed by the student (to the old number)",
  variables: { roll_number: ROLL_NUMBER, ending: NUMBER_ENDING },
  defaultText:
    "Placement Portal: the mobile number of account {roll_number} was changed to a number ending {ending}. SMS no longer come here. Not you? Contact the placement office at once.",
  maxSegments: 2,
});

export const phoneCorrectedSms = defineTemplate({
  id: "phone_corrected",
  title: "Mobile number changed by the placement office (to the old number)",
  variables: { roll_number: ROLL_NUMBER, ending: NUMBER_ENDING },
  defaultText:
    "Placement Portal: the placement office changed the mobile number of account {roll_number} to a number ending {ending}. SMS no longer come here. Not expected? Contact the placement office.",
  maxSegments: 2,
});

export const phoneRegisteredSms = defineTemplate({
  id: "phone_registered",
  title: "Mobile number set by the placement office (to the new number)",
  variables: { roll_number: ROLL_NUMBER },
  defaultText:
    "Placement Portal: this number is now registered for account {roll_number}. Placement SMS will come here. Not yours? Contact the placement office.",
  maxSegments: 2,
});

/** "+919876543210" -> "3210": how the texts name the other number. */
export function numberEnding(e164: string): string {
  return e164.slice(-4);
}

type PhoneStudent = Pick<Student, "id" | "roll_number">;

/** The code to the number being confirmed; sent even when the student turned SMS off. */
export async function queuePhoneCode(
  trx: Kysely<DB>,
  ctx: Ctx,
  change: { id: number; studentId: number; toE164: string; code: string; minutes: number },
): Promise<QueueResult> {
  return queueSms(trx, ctx, {
    kind: "phone_code",
    dedupeKey: `phone-code:${change.id}`,
    reference: `phone-change:${change.id}`,
    studentId: change.studentId,
    toE164: change.toE164,
    ...(await renderCurrent(trx, phoneCodeSms, phoneCodeVars(change.code, change.minutes))),
    // Before every other message: the student is waiting at the form.
    priority: PRIORITY_URGENT,
    // Admins never see the code; the row loses it, or is not sent, once it has expired.
    secret: {
      text: change.code,
      until: new Date(ctx.clock.now().getTime() + change.minutes * 60_000),
    },
  });
}

/** What the stored code SMS says once the code is used: the code itself is not kept. */
export async function forgetPhoneCode(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock">,
  changeId: number,
  minutes: number,
): Promise<void> {
  const reference = `phone-change:${changeId}`;
  const sms = await trx
    .selectFrom("sms_messages")
    .select("template_version")
    .where("reference", "=", reference)
    .where("kind", "=", "phone_code")
    .executeTakeFirst();
  if (!sms) return;
  const body = await renderVersion(
    trx,
    phoneCodeSms,
    sms.template_version,
    phoneCodeVars("(used)", minutes),
  );
  await trx
    .updateTable("sms_messages")
    .set({ body, updated_at: ctx.clock.now().toISOString() })
    .where("reference", "=", reference)
    .where("kind", "=", "phone_code")
    .execute();
}

/**
 * The number changed: the old number is told (by whom, and the new number's last digits), and,
 * when the office set it, the new number too. `key` tells this change apart from any other of the
 * student's (the pending change's id, or the time of the office's correction).
 */
export async function notifyPhoneChanged(
  trx: Kysely<DB>,
  ctx: Ctx,
  student: PhoneStudent,
  change: { from: string; to: string; by: "student" | "office"; key: string },
): Promise<void> {
  const template = change.by === "student" ? phoneReplacedSms : phoneCorrectedSms;
  const common = {
    kind: "phone_change" as const,
    reference: `student:${student.id}`,
    studentId: student.id,
    priority: PRIORITY_URGENT,
  };
  await queueSms(trx, ctx, {
    ...common,
    dedupeKey: `phone-changed:${change.key}:old`,
    toE164: change.from,
    ...(await renderCurrent(trx, template, {
      roll_number: student.roll_number,
      ending: numberEnding(change.to),
    })),
  });
  if (change.by === "office")
    await queueSms(trx, ctx, {
      ...common,
      dedupeKey: `phone-changed:${change.key}:new`,
      toE164: change.to,
      ...(await renderCurrent(trx, phoneRegisteredSms, { roll_number: student.roll_number })),
    });
}

/** The two SMS an office's change of number sends, as they would read now (its confirmation page). */
export async function officePhoneChangeExamples(
  db: Kysely<DB>,
  student: Pick<Student, "roll_number">,
  to: string,
): Promise<{ toOld: string; toNew: string }> {
  const [toOld, toNew] = await Promise.all([
    renderCurrent(db, phoneCorrectedSms, {
      roll_number: student.roll_number,
      ending: numberEnding(to),
    }),
    renderCurrent(db, phoneRegisteredSms, { roll_number: student.roll_number }),
  ]);
  return { toOld: toOld.body, toNew: toNew.body };
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
