import { z } from "zod";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../accounts/password.ts";
import { normaliseEmail } from "../accounts/service.ts";
import type { AppContext } from "../context.ts";
import { isUniqueViolation } from "../db/dialect.ts";
import { type FieldErrors, textField, wholeNumberField } from "../web/forms.ts";
import { academicFields, phoneField, type ServiceResult, skillsField } from "./form-fields.ts";
import { chosenFile, putResume, resumeProblem, type UploadedFile } from "./resume-store.ts";

/** At registration a semester is required: jobs may be limited to semesters (see placement/eligibility.ts). */
const requiredSemester = wholeNumberField({ label: "your current semester", min: 1, max: 10 });

export function registrationSchema(region: string, now: Date) {
  return z
    .object({
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
    })
    .refine((f) => f.password === f.password_confirm, {
      path: ["password_confirm"],
      message: "The two passwords do not match.",
    });
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

/** Registers a student as pending approval. Nothing is half-created: user, profile and resume or none. */
export async function registerStudent(
  ctx: AppContext,
  input: RegistrationInput,
  resumeUpload: unknown,
): Promise<ServiceResult<{ studentId: number }>> {
  const taken = await ctx.db
    .selectFrom("users")
    .leftJoin("students", "students.user_id", "users.id")
    .select(["users.email", "students.roll_number"])
    .where((eb) =>
      eb.or([
        eb("users.email", "=", input.email),
        eb("students.roll_number", "=", input.roll_number),
      ]),
    )
    .execute();
  const errors: FieldErrors = {};
  if (taken.some((r) => r.email === input.email)) {
    errors.email = "An account with this email already exists. Log in, or use another email.";
  }
  if (taken.some((r) => r.roll_number === input.roll_number)) {
    errors.roll_number =
      "This roll number is already registered. Contact the placement office if this is yours.";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const resume = await checkResume(ctx, resumeUpload, { pending: true });
  if ("error" in resume) return { ok: false, errors: { resume: resume.error } };
  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock.now().toISOString();
  try {
    const studentId = await ctx.db.transaction().execute(async (trx) => {
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
      return student.id;
    });
    ctx.log.info({ studentId }, "student registered");
    return { ok: true, value: { studentId } };
  } catch (error) {
    // Two registrations racing past the check above: the constraint decides, with the same words.
    if (isUniqueViolation(error, "email")) {
      return { ok: false, errors: { email: "An account with this email already exists." } };
    }
    if (isUniqueViolation(error, "roll_number")) {
      return { ok: false, errors: { roll_number: "This roll number is already registered." } };
    }
    throw error;
  }
}
