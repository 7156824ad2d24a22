import type { Kysely } from "kysely";
import { z } from "zod";
import { codeMatches, newOneTimeCode } from "../accounts/one-time-code.ts";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockForUpdate } from "../db/dialect.ts";
import type { DB, SmsStatus } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { maskPhone } from "../sms/phone.ts";
import type { LimitSetting } from "../web/limits.ts";
import { phoneField } from "./form-fields.ts";
import { forgetPhoneCode, notifyPhoneChanged, queuePhoneCode } from "./notices.ts";

/**
 * A student's mobile number is where their password reset code goes, so whoever sets it can take
 * the account. It changes in two ways (issue 20):
 *
 * - The student, from the profile: with the current password (profile.ts checks it), and only once
 *   the new number is confirmed with a 6-digit code sent to it. The code lives PHONE_CODE_MINUTES,
 *   stops after PHONE_CODE_MAX_TRIES wrong tries, and only the newest change of a student works;
 *   it is stored as a salted SHA-256 hash, as password reset codes are (password-reset.ts says
 *   why a slow hash adds nothing to a 6-digit code). Each try is spent by one UPDATE before the
 *   code is compared, so concurrent guesses cannot get more than PHONE_CODE_MAX_TRIES.
 * - An admin, from the student's page: at once, after a confirmation page.
 *
 * Either way the old number is told by SMS (and, for an admin's change, the new number too), the
 * audit log records it with masked numbers, and `students.phone_changed_at` is set: a password
 * reset code is refused for a day after it (accounts/password-reset.ts), so a number changed
 * behind the student's back cannot be used to take the account before they hear of it.
 */

export const PHONE_CODE_MINUTES = 10;
export const PHONE_CODE_MAX_TRIES = 5;
/** The default; the office may change it on the limits page (web/limits.ts). */
export const PHONE_CODE_REQUESTS = {
  name: "profile.phone_codes_per_account",
  area: "Mobile number",
  title: "Codes sent to new mobile numbers for one account",
  about:
    "Codes a student may have sent to new numbers typed on the profile: each is an SMS to a number they chose, so few are enough for a typo and a retry.",
  default: { max: 3, windowSeconds: 60 * 60 },
} satisfies LimitSetting;

type Trx = Kysely<DB>;
type StudentNames = { id: number; roll_number: string; full_name: string };

function auditSubject(student: StudentNames): string {
  return `${student.roll_number} ${student.full_name}`;
}

function auditNames(student: StudentNames) {
  return { studentId: student.id, rollNumber: student.roll_number, name: student.full_name };
}

/**
 * Starts a change to `newPhone`, inside the profile's transaction: any earlier pending change of
 * the student stops working, and the code goes to the new number (even when the student turned
 * SMS off: they are waiting for it). Returns the SMS's status ("skipped" when SMS is disabled).
 */
export async function startPhoneChange(
  trx: Trx,
  ctx: Pick<AppContext, "clock" | "config" | "smsLog" | "dialect">,
  actor: Actor,
  student: StudentNames & { phone_e164: string },
  newPhone: string,
): Promise<{ status: SmsStatus }> {
  const now = ctx.clock.now();
  const { code, salt, hash } = newOneTimeCode();
  await trx
    .updateTable("phone_changes")
    .set({ expires_at: now.toISOString() })
    .where("student_id", "=", student.id)
    .where("used_at", "is", null)
    .where("expires_at", ">", now.toISOString())
    .execute();
  const row = await trx
    .insertInto("phone_changes")
    .values({
      student_id: student.id,
      new_e164: newPhone,
      code_hash: hash,
      salt,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + PHONE_CODE_MINUTES * 60_000).toISOString(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const sms = await queuePhoneCode(trx, ctx, {
    id: row.id,
    studentId: student.id,
    toE164: newPhone,
    code,
    minutes: PHONE_CODE_MINUTES,
  });
  await recordAudit(trx, ctx, actor, {
    action: "student.phone_change_requested",
    subject: auditSubject(student),
    details: {
      ...auditNames(student),
      from: maskPhone(student.phone_e164),
      to: maskPhone(newPhone),
      sms: sms.status,
    },
  });
  return { status: sms.status };
}

/** The student's change waiting for its code, if one still can be confirmed. */
export async function pendingPhoneChange(ctx: AppContext, studentId: number) {
  return ctx.db
    .selectFrom("phone_changes")
    .select(["id", "new_e164", "expires_at", "attempts"])
    .where("student_id", "=", studentId)
    .where("used_at", "is", null)
    .where("expires_at", ">", ctx.clock.now().toISOString())
    .where("attempts", "<", PHONE_CODE_MAX_TRIES)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
}

export const phoneCodeSchema = z.object({
  code: z
    .string({ message: "Enter the code from the SMS." })
    .transform((v) => v.replace(/\s+/g, ""))
    .refine((v) => /^\d{6}$/.test(v), { message: "The code has 6 digits." }),
});

export type ConfirmResult =
  | { outcome: "changed"; phone: string }
  /** The code is wrong; `triesLeft` more may be made with this change. */
  | { outcome: "wrong"; triesLeft: number }
  /** No change can be confirmed: none asked for, expired, out of tries, used or replaced. */
  | { outcome: "none" };

/**
 * Confirms the student's newest change with `code`. The try is spent first, by one UPDATE that
 * also checks the change is still live: of any number of concurrent guesses, at most
 * PHONE_CODE_MAX_TRIES get a code compared. Then the right code changes the number, in one
 * transaction with the SMS to the old number and the audit entry.
 */
export async function confirmPhoneChange(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  code: string,
): Promise<ConfirmResult> {
  const now = ctx.clock.now().toISOString();
  // Only the newest works: an older one, even unexpired, is never tried.
  const newest = await ctx.db
    .selectFrom("phone_changes")
    .select("id")
    .where("student_id", "=", studentId)
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!newest) return { outcome: "none" };
  const spent = await ctx.db
    .updateTable("phone_changes")
    .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("id", "=", newest.id)
    .where("attempts", "<", PHONE_CODE_MAX_TRIES)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .returning(["id", "code_hash", "salt", "new_e164", "attempts"])
    .executeTakeFirst();
  if (!spent) return { outcome: "none" };
  const matches = codeMatches(spent, code);
  if (!matches) {
    ctx.log.info({ studentId, attempts: spent.attempts }, "wrong phone confirmation code");
    return { outcome: "wrong", triesLeft: PHONE_CODE_MAX_TRIES - spent.attempts };
  }
  const changed = await inTransaction(ctx.db, async (trx) => {
    // The student's row first, as the office's correction and the profile take them: the same
    // order everywhere, so neither waits on the other in a circle.
    const before = await lockForUpdate(
      trx
        .selectFrom("students")
        .select(["id", "roll_number", "full_name", "phone_e164"])
        .where("id", "=", studentId),
      ctx.dialect,
    ).executeTakeFirstOrThrow();
    // The update decides: of two requests with the right code, one uses it; and a change the
    // office voided since the try was spent (its correction expires pending changes) is not used.
    const taken = await trx
      .updateTable("phone_changes")
      .set({ used_at: now })
      .where("id", "=", spent.id)
      .where("used_at", "is", null)
      .where("expires_at", ">", ctx.clock.now().toISOString())
      .returning("id")
      .executeTakeFirst();
    if (!taken) return false;
    await forgetPhoneCode(trx, ctx, spent.id, PHONE_CODE_MINUTES);
    // The office set this very number meanwhile: it is the student's already, nobody to tell.
    if (before.phone_e164 === spent.new_e164) return true;
    await trx
      .updateTable("students")
      .set({ phone_e164: spent.new_e164, phone_changed_at: now, updated_at: now })
      .where("id", "=", studentId)
      .execute();
    await notifyPhoneChanged(trx, ctx, before, {
      from: before.phone_e164,
      to: spent.new_e164,
      by: "student",
      key: `change:${spent.id}`,
    });
    await recordAudit(trx, ctx, actor, {
      action: "student.phone_changed",
      subject: auditSubject(before),
      details: {
        ...auditNames(before),
        from: maskPhone(before.phone_e164),
        to: maskPhone(spent.new_e164),
      },
    });
    return true;
  });
  if (!changed) return { outcome: "none" };
  signalQueued(ctx);
  ctx.log.info({ studentId }, "mobile number changed by its student, confirmed by SMS code");
  return { outcome: "changed", phone: spent.new_e164 };
}

export function correctPhoneSchema(region: string) {
  return z.object({ phone: phoneField(region) });
}

export type CorrectPhoneResult =
  | { changed: true; from: string; to: string }
  | { changed: false; phone: string };

/**
 * An admin sets a student's number. The old number and the new one are told; a change the student
 * had pending stops working (it was asked for against the old number). Null: no such student.
 */
export async function correctPhone(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  phone: string,
): Promise<CorrectPhoneResult | null> {
  const result = await inTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now().toISOString();
    const before = await lockForUpdate(
      trx
        .selectFrom("students")
        .select(["id", "roll_number", "full_name", "phone_e164"])
        .where("id", "=", studentId),
      ctx.dialect,
    ).executeTakeFirst();
    if (!before) return null;
    // A second click, or another admin who set it first: nothing to change or tell.
    if (before.phone_e164 === phone) return { changed: false as const, phone };
    await trx
      .updateTable("students")
      .set({ phone_e164: phone, phone_changed_at: now, updated_at: now })
      .where("id", "=", studentId)
      .execute();
    await trx
      .updateTable("phone_changes")
      .set({ expires_at: now })
      .where("student_id", "=", studentId)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .execute();
    await notifyPhoneChanged(trx, ctx, before, {
      from: before.phone_e164,
      to: phone,
      by: "office",
      key: `office:${studentId}:${now}`,
    });
    await recordAudit(trx, ctx, actor, {
      action: "student.phone_corrected",
      subject: auditSubject(before),
      details: { ...auditNames(before), from: maskPhone(before.phone_e164), to: maskPhone(phone) },
    });
    return { changed: true as const, from: before.phone_e164, to: phone };
  });
  if (result?.changed) {
    signalQueued(ctx);
    ctx.log.info({ studentId, by: actor.id }, "mobile number changed by an admin");
  }
  return result;
}
