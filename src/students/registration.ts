import { z } from "zod";
import { hashPassword, MIN_PASSWORD_LENGTH, PASSWORDS_MATCH } from "../accounts/password.ts";
import { forgetRejection } from "../accounts/rejected-registrations.ts";
import { normaliseEmail } from "../accounts/service.ts";
import { recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { isUniqueViolation } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { checkedForm, textField, wholeNumberField } from "../web/forms.ts";
import { takeLimit } from "../web/limits.ts";
import { academicFields, phoneField, type ServiceResult, skillsField } from "./form-fields.ts";
import { notifyRegistrationAttempt } from "./notices.ts";
import type { RegistrationLimits } from "./registration-limits.ts";
import { chosenFile, putResume, resumeProblem, type UploadedFile } from "./resume-store.ts";

/** At registration a semester is required: jobs may be limited to semesters (see placement/eligibility.ts). */
const requiredSemester = wholeNumberField({ label: "your current semester", min: 1, max: 10 });

export function registrationSchema(region: string, now: Date) {
  return checkedForm(
    z.object({
      full_name: textField({ label: "your full name", max: 100, min: 2 }),
      roll_number: textField({ label: "your roll number (USN)", max: 20, min: 3 })
        .transform((v) => v.toUpperCase().replace(/\s+/g, ""))
        .refine((v) => /^[A-Z0-9/-]+$/.test(v), {
          message: "A roll number has only letters, digits, / and -.",
        }),
      email: z
        .string({ message: "Enter your email address." })
        .trim()
        .pipe(z.email({ message: "Enter a valid email address." }))
        .transform(normaliseEmail),
      password: z
        .string({ message: "Choose a password." })
        .min(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
        .max(200, { message: "Use at most 200 characters." }),
      password_confirm: z.string({ message: "Repeat the password." }),
      phone: phoneField(region),
      ...academicFields(now),
      semester: requiredSemester,
      skills: skillsField,
    }),
    PASSWORDS_MATCH,
  );
}

export type RegistrationInput = z.output<ReturnType<typeof registrationSchema>>;

/** The uploaded resume checked, to store with the student row; `data` null when none was chosen. */
export async function checkResume(
  ctx: AppContext,
  upload: unknown,
  options: { pending?: boolean } = {},
): Promise<{ data: Buffer | null } | { error: string }> {
  const file: UploadedFile | null = chosenFile(upload);
  if (!file) return { data: null };
  const problem = await resumeProblem(file, ctx.config.RESUME_MAX_BYTES);
  if (problem) return { error: problem };
  if (
    options.pending &&
    (await pendingResumeBytes(ctx)) + file.data.length > ctx.config.PENDING_RESUMES_MAX_BYTES
  )
    return { error: PENDING_RESUMES_FULL };
  return { data: file.data };
}

export const PENDING_RESUMES_FULL =
  "The placement office cannot take more resumes until it has checked the waiting registrations. Register without a resume now and add it from your profile once you are approved.";

/**
 * The space used by the resumes of registrations waiting for approval: anonymous uploads, capped
 * by PENDING_RESUMES_MAX_BYTES. (Two registrations at the same moment may both pass the check:
 * the cap can be exceeded by a few resumes, never by an unbounded number.)
 */
export async function pendingResumeBytes(ctx: AppContext): Promise<number> {
  const row = await ctx.db
    .selectFrom("students")
    .innerJoin("resumes", "resumes.student_id", "students.id")
    .select((eb) => eb.fn.sum<number | string | null>("resumes.size").as("bytes"))
    .where("students.approved_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.bytes ?? 0);
}

const ROLL_NUMBER_TAKEN =
  "This roll number is already registered. Contact the placement office if this is yours.";

export type Registration =
  | { outcome: "registered"; studentId: number }
  /** The email has an account already: nothing was written. */
  | { outcome: "existing"; userId: number };

/**
 * Writes a registration: a student pending approval, or nothing when the email has an account
 * already. Nothing is half-created: user, profile and resume or none.
 *
 * Both outcomes do the same work up to the write, in the same order, so that neither the answer
 * nor its time tells them apart: the resume is checked, the roll number looked up (roll numbers
 * are printed on ID cards, not secret, and the student whose number someone else took must know
 * to see the office), and the password hashed. Phone numbers are not unique (a family may share
 * one), so they reveal nothing.
 */
export async function writeRegistration(
  ctx: AppContext,
  input: RegistrationInput,
  resumeUpload: unknown,
): Promise<ServiceResult<Registration>> {
  const resume = await checkResume(ctx, resumeUpload, { pending: true });
  const rollTaken = async () =>
    ctx.db
      .selectFrom("students")
      .select("id")
      .where("roll_number", "=", input.roll_number)
      .executeTakeFirst();
  const rollRefused = { ok: false, errors: { roll_number: ROLL_NUMBER_TAKEN } } as const;
  // Both answered in one round: a resume to choose again and a roll number already registered.
  const taken = await rollTaken();
  if ("error" in resume)
    return {
      ok: false,
      errors: { resume: resume.error, ...(taken ? rollRefused.errors : {}) },
    };
  if (taken) return rollRefused;
  // Hashed for an existing email too: an argon2 hash is most of a registration's time.
  const passwordHash = await hashPassword(input.password);
  const existing = async () =>
    ctx.db.selectFrom("users").select("id").where("email", "=", input.email).executeTakeFirst();
  // The roll number is looked at first in every outcome, also when a registration sent at the
  // same moment (a double click) took it and the email since the look-up above: that one is
  // answered as it would be one after the other, not as someone else's email.
  const owner = await existing();
  if (owner) {
    if (await rollTaken()) return rollRefused;
    return { ok: true, value: { outcome: "existing", userId: owner.id } };
  }
  const now = ctx.clock.now().toISOString();
  try {
    const studentId = await inTransaction(ctx.db, async (trx) => {
      const user = await trx
        .insertInto("users")
        .values({
          email: input.email,
          password_hash: passwordHash,
          role: "student",
          created_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const student = await trx
        .insertInto("students")
        .values({
          user_id: user.id,
          full_name: input.full_name,
          roll_number: input.roll_number,
          phone_e164: input.phone,
          department: input.department,
          semester: input.semester ?? null,
          graduation_year: input.graduation_year,
          cgpa: input.cgpa,
          active_backlogs: input.active_backlogs,
          skills: input.skills,
          created_at: now,
          updated_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      if (resume.data) await putResume(trx, student.id, resume.data, now);
      // Registered again: login answers for this registration now, not the rejected one.
      await forgetRejection(trx, input.email);
      return student.id;
    });
    ctx.log.info({ studentId }, "student registered");
    return { ok: true, value: { outcome: "registered", studentId } };
  } catch (error) {
    // Two registrations racing past the look-ups above: the constraints decide, with the same
    // outcomes.
    if (isUniqueViolation(error, "email")) {
      const winner = await existing();
      if (winner && (await rollTaken())) return rollRefused;
      if (winner) return { ok: true, value: { outcome: "existing", userId: winner.id } };
    }
    if (isUniqueViolation(error, "roll_number")) return rollRefused;
    throw error;
  }
}

/**
 * Registers a student as pending approval, for code that needs the new student (the seed, tests,
 * benchmarks): an email that has an account is an error here. The registration form answers
 * through `receiveRegistration` instead.
 */
export async function registerStudent(
  ctx: AppContext,
  input: RegistrationInput,
  resumeUpload: unknown,
): Promise<ServiceResult<{ studentId: number }>> {
  const result = await writeRegistration(ctx, input, resumeUpload);
  if (!result.ok) return result;
  if (result.value.outcome === "existing")
    return { ok: false, errors: { email: "An account with this email already exists." } };
  return { ok: true, value: { studentId: result.value.studentId } };
}

/**
 * The registration form's outcome: the same for a new email and for one that has an account
 * (which gets no second account; its owner is told by SMS, within `limits.noticesPerAccount`).
 */
export async function receiveRegistration(
  ctx: AppContext,
  limits: Pick<RegistrationLimits, "noticesPerAccount">,
  input: RegistrationInput,
  resumeUpload: unknown,
  address: string,
): Promise<ServiceResult> {
  const result = await writeRegistration(ctx, input, resumeUpload);
  if (!result.ok) return result;
  if (result.value.outcome === "existing")
    await tellOwnerOfAttempt(ctx, limits, result.value.userId, address);
  return { ok: true, value: undefined };
}

/**
 * A registration was tried with this account's email: its owner, a student who receives SMS, is
 * told by SMS; an admin (who has no phone) or a student who opted out is not. Either way the
 * audit log has it, at most `noticesPerAccount` times per account, so neither can be flooded.
 */
async function tellOwnerOfAttempt(
  ctx: AppContext,
  limits: Pick<RegistrationLimits, "noticesPerAccount">,
  userId: number,
  address: string,
): Promise<void> {
  const owner = await ctx.db
    .selectFrom("users")
    .leftJoin("students", "students.user_id", "users.id")
    .select([
      "users.email",
      "users.deactivated_at",
      "students.id as studentId",
      "students.roll_number",
      "students.phone_e164",
      "students.sms_opted_out_at",
    ])
    .where("users.id", "=", userId)
    .executeTakeFirst();
  if (!owner) return;
  const notice = await takeLimit(ctx, "registration_notice", { account: owner.email }, [
    { name: "account", match: { account: owner.email }, limit: limits.noticesPerAccount },
  ]);
  if (notice.limited) {
    ctx.log.info({ userId, address }, "registration with an existing email: owner told already");
    return;
  }
  const why =
    owner.studentId === null || owner.roll_number === null || owner.phone_e164 === null
      ? "an admin account"
      : owner.deactivated_at !== null
        ? "the account is deactivated"
        : owner.sms_opted_out_at !== null
          ? "the student opted out of SMS"
          : null;
  const at = ctx.clock.now().toISOString();
  await inTransaction(ctx.db, async (trx) => {
    if (why === null)
      await notifyRegistrationAttempt(
        trx,
        ctx,
        { id: owner.studentId!, roll_number: owner.roll_number!, phone_e164: owner.phone_e164! },
        at,
      );
    await recordAudit(
      trx,
      ctx,
      { id: userId, email: owner.email },
      {
        action: "registration.existing_email",
        subject: owner.email,
        details: why === null ? { address, sent: true } : { address, sent: false, reason: why },
      },
    );
  });
  if (why === null) signalQueued(ctx);
  ctx.log.info({ userId, address, sent: why === null }, "registration with an existing email");
}
