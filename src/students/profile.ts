import { z } from "zod";
import { takeLoginAttempt } from "../accounts/login-limits.ts";
import { verifyPassword } from "../accounts/password.ts";
import type { Actor } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import type { SmsStatus } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import type { FieldErrors } from "../web/forms.ts";
import { minutesUntil, takeLimit, tryAgainIn } from "../web/limits.ts";
import { academicFields, phoneField, skillsField } from "./form-fields.ts";
import { PHONE_CODE_REQUESTS, startPhoneChange } from "./phone-change.ts";
import { checkResume } from "./registration.ts";
import { putResume, resumeSize } from "./resume-store.ts";

/** A student's own row, as every student page reads it (compiled once: see db/prepared.ts). */
const studentProfile = preparedRead((db, param: ParamOf<{ studentId: number }>) =>
  db
    .selectFrom("students")
    .innerJoin("users", "users.id", "students.user_id")
    .selectAll("students")
    .select(["users.email", "users.last_login_at", resumeSize])
    .where("students.id", "=", param("studentId")),
);

export async function findStudent(ctx: AppContext, studentId: number) {
  const [row] = await studentProfile(ctx.db, { studentId });
  return row;
}

const NO_PASSWORD = "Enter your current password to change your mobile number.";

export function profileSchema(region: string) {
  return z.object({
    phone: phoneField(region),
    skills: skillsField,
    /** Offered only while the semester is blank: the student sets it once, admins correct it. */
    semester: academicFields(new Date()).semester,
    /** The "send me SMS" checkbox: absent when unticked. */
    sms: z
      .string()
      .optional()
      .transform((v) => v === "on"),
    /** Checked only when the number changes (browsers may fill it in on every save). */
    current_password: z.string().optional(),
  });
}

export type ProfileInput = z.output<ReturnType<typeof profileSchema>>;

export type ProfileResult =
  | {
      ok: true;
      /** The new number waiting for its code, and the code SMS's status; null: no change. */
      value: { phoneChange: { to: string; sms: SmsStatus } | null };
    }
  | { ok: false; errors: FieldErrors; status: 422 | 429; retryAt?: Date };

/**
 * A student's own edits: phone, skills, SMS, a blank semester and the resume. Academic fields are
 * for admins only. A new phone number needs the current password (a wrong one counts as a failed
 * login) and is not used until the code sent to it is entered (phone-change.ts): the number goes
 * pending while everything else is saved at once.
 */
export async function updateOwnProfile(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  input: ProfileInput,
  resumeUpload: unknown,
  address: string,
): Promise<ProfileResult> {
  const resume = await checkResume(ctx, resumeUpload);
  const current = await ctx.db
    .selectFrom("students")
    .innerJoin("users", "users.id", "students.user_id")
    .select(["students.phone_e164", "users.password_hash"])
    .where("students.id", "=", studentId)
    .executeTakeFirst();
  if (!current) throw new Error(`student ${studentId} not found`);
  const newPhone = input.phone !== current.phone_e164 ? input.phone : null;
  if ("error" in resume) {
    // Told in the same round: a new number without the password (a password typed is checked
    // only once the form is otherwise right, as it counts like a login).
    const noPassword = newPhone !== null && !input.current_password;
    return {
      ok: false,
      status: 422,
      errors: { resume: resume.error, ...(noPassword ? { current_password: NO_PASSWORD } : {}) },
    };
  }
  if (newPhone !== null) {
    const refused = await phoneChangeRefusal(ctx, actor, current.password_hash, input, address);
    if (refused) return refused;
  }
  const phoneChange = await inTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now().toISOString();
    const updated = await trx
      .updateTable("students")
      .set((eb) => ({
        skills: input.skills,
        // Keeps the original opt-out time while the box stays unticked.
        sms_opted_out_at: input.sms ? null : eb.fn.coalesce("sms_opted_out_at", eb.val(now)),
        updated_at: now,
        // Set by the student only while blank; admins correct it afterwards.
        ...(input.semester !== undefined
          ? { semester: eb.fn.coalesce("semester", eb.val(input.semester)) }
          : {}),
      }))
      .where("id", "=", studentId)
      .returning(["id", "roll_number", "full_name", "phone_e164"])
      .executeTakeFirst();
    if (!updated) throw new Error(`student ${studentId} not found`);
    // The new resume replaces the old one in the same commit: never a profile without either.
    if (resume.data) await putResume(trx, studentId, resume.data, now);
    if (newPhone === null) return null;
    const { status } = await startPhoneChange(trx, ctx, actor, updated, newPhone);
    return { to: newPhone, sms: status };
  });
  if (phoneChange) signalQueued(ctx);
  return { ok: true, value: { phoneChange } };
}

/**
 * Why a change of number is refused now (no or a wrong password, too many codes), or null: the
 * change may go ahead, and its code is counted.
 */
async function phoneChangeRefusal(
  ctx: AppContext,
  actor: Actor,
  passwordHash: string,
  input: ProfileInput,
  address: string,
): Promise<Extract<ProfileResult, { ok: false }> | null> {
  if (!input.current_password)
    return {
      ok: false,
      status: 422,
      errors: { current_password: NO_PASSWORD },
    };
  const wait = (retryAt: Date) => tryAgainIn(minutesUntil(retryAt, ctx.clock.now()));
  // The password is a guess like a login's: the same limits apply.
  const attempt = await takeLoginAttempt(ctx, actor.email, address);
  if (attempt.limited)
    return {
      ok: false,
      status: 429,
      retryAt: attempt.retryAt,
      errors: { current_password: `Too many wrong passwords. ${wait(attempt.retryAt)}` },
    };
  // A wrong password stays counted like a failed login.
  if (!(await verifyPassword(passwordHash, input.current_password)))
    return {
      ok: false,
      status: 422,
      errors: { current_password: "That is not your current password." },
    };
  await attempt.release();
  const codes = await takeLimit(ctx, "phone_code_request", { account: actor.email, address }, [
    { name: "account", match: { account: actor.email }, limit: PHONE_CODE_REQUESTS },
  ]);
  if (codes.limited)
    return {
      ok: false,
      status: 429,
      retryAt: codes.retryAt,
      errors: {
        phone: `Too many codes were sent for new numbers in the last hour. ${wait(codes.retryAt)}`,
      },
    };
  return null;
}
