import { z } from "zod";
import { recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockKeys } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";
import { PRIORITY_URGENT, queueSms, signalQueued } from "../sms/outbox-api.ts";
import { renderCurrent } from "../sms/template-store.ts";
import { checkedForm } from "../web/forms.ts";
import { type LimitSetting, takeLimit } from "../web/limits.ts";
import { storeNewPassword } from "./admins.ts";
import { resetCodeSms, resetCodeVars, usedResetCodeSms } from "./notices.ts";
import { codeMatches, newOneTimeCode } from "./one-time-code.ts";
import { newPasswordFields, PASSWORDS_MATCH } from "./password.ts";
import { normaliseEmail } from "./service.ts";

/**
 * "Forgot password": a 6-digit one-time code by SMS to an approved student's registered number,
 * then a new password with it. Admins have no phone: another admin sets a new one (admins.ts).
 *
 * - Whether an email exists is never shown: the request and the reset answer the same way for
 *   any email, and the limits count requests and wrong codes for unknown emails too.
 * - A code lives RESET_CODE_MINUTES, works once, stops after 5 tries, and only the newest code of
 *   an account works. A try is spent in the statement that reads the code, before it is compared,
 *   so guesses sent together get no more comparisons than tries. An account takes at most
 *   `wrongCodesPerAccount` wrong codes a day over all its codes, so three codes an hour do not add
 *   up to a guessable number; past it, only addresses that tried it often wait (as for logins),
 *   so a stranger who knows the email cannot keep the student from resetting. It is stored as a salted SHA-256 hash (the short life and the tries
 *   limit are what protect a 6-digit code; a slow hash would add nothing against a million
 *   candidates), and the SMS row's text loses the code once it is used.
 * - A student who opted out of SMS (in the profile or by replying STOP, which the portal records
 *   the same way) gets no code: the opt-out covers every SMS, and after STOP Twilio refuses to
 *   deliver anything to the number anyway (21610). The placement office can help them instead.
 * - Nor does a student whose number changed in the last RESET_AFTER_PHONE_CHANGE_HOURS (see
 *   students/phone-change.ts).
 */

export const RESET_CODE_MINUTES = 10;
export const RESET_CODE_MAX_TRIES = 5;
/** No code is sent for this long after the student's mobile number changed. */
export const RESET_AFTER_PHONE_CHANGE_HOURS = 24;
/** The defaults; the office may change each on the limits page (web/limits.ts). */
export const RESET_LIMITS = {
  requestsPerAddress: {
    name: "reset.requests_per_address",
    area: "Password reset",
    title: "Reset codes asked for from one address",
    about:
      "Requests for a reset code from one address, for any emails. A campus network shares an address; still few enough that one address cannot send SMS to many phones.",
    default: { max: 10, windowSeconds: 60 * 60 },
  },
  requestsPerAccount: {
    name: "reset.requests_per_account",
    area: "Password reset",
    title: "Reset codes asked for one email",
    about:
      "Requests for a reset code for one email, from anywhere: the most SMS codes one student's phone gets.",
    default: { max: 3, windowSeconds: 60 * 60 },
  },
  wrongCodesPerAddress: {
    name: "reset.wrong_codes_per_address",
    area: "Password reset",
    title: "Wrong reset codes from one address",
    about: "Wrong codes typed from one address, for any emails. Then that address waits.",
    default: { max: 20, windowSeconds: 15 * 60 },
  },
  wrongCodesPerAccount: {
    name: "reset.wrong_codes_per_account",
    area: "Password reset",
    title: "Wrong reset codes for one email",
    about: `Wrong codes for one email over all its codes, from anywhere, so that several codes a day do not add up to a guessable number. Each code also stops after ${RESET_CODE_MAX_TRIES} wrong tries.`,
    default: { max: 10, windowSeconds: 24 * 60 * 60 },
  },
  wrongCodesPerAccountFromAddress: {
    name: "reset.wrong_codes_per_account_from_address",
    area: "Password reset",
    title: "Wrong reset codes for one email from one address",
    about:
      "Once an email has reached its limit above, an address with this many wrong codes for it waits; an address with fewer may still try, so a stranger who knows the email cannot keep its student from resetting the password.",
    default: { max: 3, windowSeconds: 24 * 60 * 60 },
  },
} satisfies Record<string, LimitSetting>;

const emailField = z
  .string({ message: "Enter your email address." })
  .trim()
  .pipe(z.email({ message: "Enter a valid email address." }))
  .transform(normaliseEmail);

export const forgotPasswordSchema = z.object({ email: emailField });

export const resetPasswordSchema = checkedForm(
  z.object({
    email: emailField,
    code: z
      .string({ message: "Enter the code from the SMS." })
      .transform((v) => v.replace(/\s+/g, ""))
      .refine((v) => /^\d{6}$/.test(v), { message: "The code has 6 digits." }),
    ...newPasswordFields,
  }),
  PASSWORDS_MATCH,
);

export type Limited = { limited: true; retryAt: Date };

/** Queues a code if `email` is an approved student's who receives SMS; the same answer either way. */
export async function requestResetCode(
  ctx: AppContext,
  email: string,
  address: string,
): Promise<Limited | { limited: false }> {
  const request = await takeLimit(ctx, "reset_request", { account: email, address }, [
    { name: "address", match: { address }, limit: RESET_LIMITS.requestsPerAddress },
    { name: "account", match: { account: email }, limit: RESET_LIMITS.requestsPerAccount },
  ]);
  if (request.limited) {
    ctx.log.warn(
      { account: email, address, limit: request.refusedBy },
      "password reset request refused",
    );
    return request;
  }
  const user = await ctx.db
    .selectFrom("users")
    .innerJoin("students", "students.user_id", "users.id")
    .select([
      "users.id",
      "users.email",
      "students.id as studentId",
      "students.phone_e164",
      "students.sms_opted_out_at",
      "students.phone_changed_at",
    ])
    .where("users.email", "=", email)
    .where("users.deactivated_at", "is", null)
    .where("students.approved_at", "is not", null)
    .executeTakeFirst();
  if (!user) {
    ctx.log.info({ account: email, address }, "password reset asked for no approved student");
    return { limited: false };
  }
  const actor = { id: user.id, email: user.email };
  if (user.sms_opted_out_at !== null) {
    await recordAudit(ctx.db, ctx, actor, {
      action: "password_reset.requested",
      subject: user.email,
      details: { address, sent: false, reason: "the student opted out of SMS" },
    });
    return { limited: false };
  }
  // A number changed less than a day ago may be an attacker's: the student hears of the change
  // on the old number and has this day to reach the placement office. The answer is the same as
  // ever (the reset page tells everyone about this rule), so it reveals nothing about the email.
  const now = ctx.clock.now();
  if (
    user.phone_changed_at !== null &&
    now.getTime() - Date.parse(user.phone_changed_at) < RESET_AFTER_PHONE_CHANGE_HOURS * 3600_000
  ) {
    await recordAudit(ctx.db, ctx, actor, {
      action: "password_reset.requested",
      subject: user.email,
      details: {
        address,
        sent: false,
        reason: `the mobile number changed less than ${RESET_AFTER_PHONE_CHANGE_HOURS} hours ago`,
      },
    });
    return { limited: false };
  }
  const { code, salt, hash } = newOneTimeCode();
  await inTransaction(ctx.db, async (trx) => {
    // One request of an account at a time: requests sent together would each expire only the
    // codes committed before them, and leave several codes live.
    await lockKeys(trx, ctx.dialect, [`password-reset:${user.id}`]);
    // Only the newest code works.
    await trx
      .updateTable("password_reset_codes")
      .set({ expires_at: now.toISOString() })
      .where("user_id", "=", user.id)
      .where("used_at", "is", null)
      .where("expires_at", ">", now.toISOString())
      .execute();
    const row = await trx
      .insertInto("password_reset_codes")
      .values({
        user_id: user.id,
        code_hash: hash,
        salt,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + RESET_CODE_MINUTES * 60_000).toISOString(),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await queueSms(trx, ctx, {
      kind: "password_reset",
      dedupeKey: `password-reset:${row.id}`,
      reference: `password-reset:${row.id}`,
      studentId: user.studentId,
      toE164: user.phone_e164,
      ...(await renderCurrent(trx, resetCodeSms, resetCodeVars(code, RESET_CODE_MINUTES))),
      // Before every other message: the student is waiting at the form.
      priority: PRIORITY_URGENT,
      // Admins never see it; the row loses it, or is not sent, once the code has expired.
      secret: { text: code, until: new Date(now.getTime() + RESET_CODE_MINUTES * 60_000) },
    });
    await recordAudit(trx, ctx, actor, {
      action: "password_reset.requested",
      subject: user.email,
      details: { address, sent: true },
    });
  });
  signalQueued(ctx);
  return { limited: false };
}

export type ResetResult = Limited | { limited: false; ok: boolean };

/**
 * Sets the new password if `code` is the account's live code. Every try is counted before the
 * code is compared: against the code's own tries, and against the address's and the account's
 * wrong codes (a right code takes its count back).
 */
export async function resetPasswordWithCode(
  ctx: AppContext,
  input: z.output<typeof resetPasswordSchema>,
  address: string,
): Promise<ResetResult> {
  const attempt = await takeLimit(ctx, "reset_code_failure", { account: input.email, address }, [
    { name: "address", match: { address }, limit: RESET_LIMITS.wrongCodesPerAddress },
    {
      name: "account",
      anyOf: [
        { match: { account: input.email }, limit: RESET_LIMITS.wrongCodesPerAccount },
        {
          match: { account: input.email, address },
          limit: RESET_LIMITS.wrongCodesPerAccountFromAddress,
        },
      ],
    },
  ]);
  if (attempt.limited) {
    ctx.log.warn(
      { account: input.email, address, limit: attempt.refusedBy },
      "password reset code refused: too many wrong",
    );
    return attempt;
  }
  const now = ctx.clock.now().toISOString();
  // The try is spent in the statement that reads the code: of any number of guesses sent
  // together, at most RESET_CODE_MAX_TRIES get a code to compare with.
  const live = await ctx.db
    .updateTable("password_reset_codes")
    .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("id", "=", (eb) =>
      eb
        .selectFrom("password_reset_codes as newest")
        .innerJoin("users", "users.id", "newest.user_id")
        .select("newest.id")
        .where("users.email", "=", input.email)
        .where("users.deactivated_at", "is", null)
        .where("newest.used_at", "is", null)
        .where("newest.expires_at", ">", now)
        .orderBy("newest.id", "desc")
        .limit(1),
    )
    .where("attempts", "<", RESET_CODE_MAX_TRIES)
    .returning(["id", "code_hash", "salt", "user_id as userId"])
    .executeTakeFirst();
  const matches = live !== undefined && codeMatches(live, input.code);
  if (!live || !matches) return { limited: false, ok: false };
  const used = await inTransaction(ctx.db, async (trx) => {
    // The update decides: of two requests with the same code, one uses it.
    const taken = await trx
      .updateTable("password_reset_codes")
      .set({ used_at: now })
      .where("id", "=", live.id)
      .where("used_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (!taken) return false;
    await storeNewPassword({ db: trx }, live.userId, input.password);
    const reference = `password-reset:${live.id}`;
    const sms = await trx
      .selectFrom("sms_messages")
      .select("template_version")
      .where("reference", "=", reference)
      .executeTakeFirst();
    if (sms)
      await trx
        .updateTable("sms_messages")
        .set({ body: await usedResetCodeSms(trx, sms.template_version, RESET_CODE_MINUTES) })
        .where("reference", "=", reference)
        .execute();
    await recordAudit(
      trx,
      ctx,
      { id: live.userId, email: input.email },
      { action: "password_reset.used", subject: input.email, details: { address } },
    );
    return true;
  });
  if (!used) return { limited: false, ok: false };
  await attempt.release();
  ctx.log.info({ userId: live.userId }, "password reset with an SMS code");
  return { limited: false, ok: true };
}
