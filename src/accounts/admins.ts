import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { isUniqueViolation } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";
import { checkedForm, type FieldErrors } from "../web/forms.ts";
import { hashPassword, newPasswordFields, PASSWORDS_MATCH, verifyPassword } from "./password.ts";
import { normaliseEmail } from "./service.ts";

/** Passwords set from the portal: one's own (with the current one), and other admins'. */

export type PasswordResult = { ok: true } | { ok: false; errors: FieldErrors };

export const changePasswordSchema = checkedForm(
  z.object({
    current_password: z.string({ message: "Enter your current password." }),
    ...newPasswordFields,
  }),
  PASSWORDS_MATCH,
);

export const addAdminSchema = checkedForm(
  z.object({
    email: z
      .string({ message: "Enter the email address." })
      .trim()
      .pipe(z.email({ message: "Enter a valid email address." }))
      .transform(normaliseEmail),
    ...newPasswordFields,
  }),
  PASSWORDS_MATCH,
);

export const setPasswordSchema = checkedForm(z.object(newPasswordFields), PASSWORDS_MATCH);

/**
 * Stores a new password hash and raises the account's session version, which ends every session
 * that carries the old one. Returns the new version (for the session that should stay signed in).
 * With `replacing`, only over that hash: null when the password changed since it was read.
 */
export async function storeNewPassword(
  ctx: Pick<AppContext, "db">,
  userId: number,
  password: string,
  replacing?: string,
): Promise<number | null> {
  const passwordHash = await hashPassword(password);
  const row = await ctx.db
    .updateTable("users")
    .set((eb) => ({ password_hash: passwordHash, session_version: eb("session_version", "+", 1) }))
    .where("id", "=", userId)
    .$if(replacing !== undefined, (q) => q.where("password_hash", "=", replacing!))
    .returning("session_version")
    .executeTakeFirst();
  if (!row && replacing === undefined) throw new Error(`user ${userId} not found`);
  return row?.session_version ?? null;
}

/** The signed-in user's own change: the current password is required. */
export async function changeOwnPassword(
  ctx: AppContext,
  actor: Actor,
  input: z.output<typeof changePasswordSchema>,
): Promise<{ ok: true; sessionVersion: number } | { ok: false; errors: FieldErrors }> {
  const user = await ctx.db
    .selectFrom("users")
    .select("password_hash")
    .where("id", "=", actor.id)
    .executeTakeFirstOrThrow();
  const wrong = {
    ok: false,
    errors: { current_password: "That is not your current password." },
  } as const;
  if (!(await verifyPassword(user.password_hash, input.current_password))) return wrong;
  // Over the password just checked only: of two changes sent together, one changes it, and the
  // other's current password is no longer the current one.
  const sessionVersion = await storeNewPassword(ctx, actor.id, input.password, user.password_hash);
  if (sessionVersion === null) return wrong;
  await recordAudit(ctx.db, ctx, actor, {
    action: "password.changed",
    subject: actor.email,
  });
  ctx.log.info({ userId: actor.id }, "password changed by its owner");
  return { ok: true, sessionVersion };
}

/** The admins in email order, from the (role, email) index (see admins-plan.test.ts). */
export function listAdminsQuery(ctx: Pick<AppContext, "db">) {
  return ctx.db
    .selectFrom("users")
    .select(["id", "email", "created_at", "last_login_at", "deactivated_at"])
    .where("role", "=", "admin")
    .orderBy("email");
}

export function listAdmins(ctx: AppContext) {
  return listAdminsQuery(ctx).execute();
}

export async function addAdmin(
  ctx: AppContext,
  actor: Actor,
  input: z.output<typeof addAdminSchema>,
): Promise<PasswordResult> {
  const passwordHash = await hashPassword(input.password);
  try {
    await inTransaction(ctx.db, async (trx) => {
      await trx
        .insertInto("users")
        .values({
          email: input.email,
          password_hash: passwordHash,
          role: "admin",
          created_at: ctx.clock.now().toISOString(),
        })
        .execute();
      await recordAudit(trx, ctx, actor, { action: "admin.added", subject: input.email });
    });
  } catch (error) {
    if (isUniqueViolation(error))
      return { ok: false, errors: { email: "An account with this email exists already." } };
    throw error;
  }
  return { ok: true };
}

/**
 * Another admin's new password (for one who forgot theirs: admins have no phone for a reset
 * code). Not one's own: that needs the current password, on the change-password page, so a
 * session left open cannot be used to take the account over.
 */
export async function setAdminPassword(
  ctx: AppContext,
  actor: Actor,
  adminId: number,
  password: string,
): Promise<{ ok: true; email: string } | { ok: false; status: 403 | 404; message: string }> {
  if (adminId === actor.id)
    return {
      ok: false,
      status: 403,
      message:
        "Change your own password on the Change password page (it asks for the current one).",
    };
  const admin = await ctx.db
    .selectFrom("users")
    .select(["id", "email"])
    .where("id", "=", adminId)
    .where("role", "=", "admin")
    .executeTakeFirst();
  if (!admin) return { ok: false, status: 404, message: "There is no such admin." };
  await inTransaction(ctx.db, async (trx) => {
    await storeNewPassword({ db: trx }, admin.id, password);
    await recordAudit(trx, ctx, actor, { action: "admin.password_set", subject: admin.email });
  });
  ctx.log.info({ userId: admin.id, by: actor.id }, "admin password set by another admin");
  return { ok: true, email: admin.email };
}
