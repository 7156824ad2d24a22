import { randomBytes } from "node:crypto";
import type { AppContext } from "../context.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import type { User } from "../db/schema.ts";
import type { SessionUser } from "../web/auth.ts";
import {
  dummyPasswordHash,
  hashPassword,
  MIN_PASSWORD_LENGTH,
  verifyPassword,
} from "./password.ts";
import { findRejection } from "./rejected-registrations.ts";

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export type LoginResult =
  | { ok: true; user: Pick<User, "id" | "email" | "role" | "session_version"> }
  | { ok: false; reason: "invalid" | "pending" | "deactivated" }
  /** A registration rejected within the retention period, and the password was its own. */
  | { ok: false; reason: "rejected"; rejection: { reason: string | null; rejectedAt: string } };

export async function authenticate(
  ctx: AppContext,
  email: string,
  password: string,
): Promise<LoginResult> {
  const user = await ctx.db
    .selectFrom("users")
    .leftJoin("students", "students.user_id", "users.id")
    .select([
      "users.id",
      "users.email",
      "users.role",
      "users.password_hash",
      "users.deactivated_at",
      "users.session_version",
      "students.approved_at",
    ])
    .where("users.email", "=", normaliseEmail(email))
    .executeTakeFirst();
  if (!user) {
    // One argon2 verification either way: against a rejected registration's hash, or a dummy.
    const rejection = await findRejection(ctx, email);
    const matches = await verifyPassword(
      rejection?.passwordHash ?? (await dummyPasswordHash()),
      password,
    );
    if (rejection && matches)
      return {
        ok: false,
        reason: "rejected",
        rejection: { reason: rejection.reason, rejectedAt: rejection.rejectedAt },
      };
    return { ok: false, reason: "invalid" };
  }
  if (!(await verifyPassword(user.password_hash, password)))
    return { ok: false, reason: "invalid" };
  // Only after the password is right: otherwise anyone could probe which emails are pending.
  if (user.deactivated_at) return { ok: false, reason: "deactivated" };
  if (user.role === "student" && !user.approved_at) return { ok: false, reason: "pending" };
  await ctx.db
    .updateTable("users")
    .set({ last_login_at: ctx.clock.now().toISOString() })
    .where("id", "=", user.id)
    .execute();
  return {
    ok: true,
    user: {
      id: user.id,
      email: user.email,
      role: user.role,
      session_version: user.session_version,
    },
  };
}

export type { SessionUser };

/** Every request of a signed-in user runs this read (see web/server.ts), so it is compiled once. */
const sessionUserRow = preparedRead((db, param: ParamOf<{ userId: number }>) =>
  db
    .selectFrom("users")
    .leftJoin("students", "students.user_id", "users.id")
    .select([
      "users.id",
      "users.email",
      "users.role",
      "users.deactivated_at",
      "users.session_version",
      "students.id as studentId",
      "students.full_name as fullName",
      "students.approved_at",
      (eb) =>
        eb
          .selectFrom("data_versions")
          .select("version")
          .where("name", "=", "jobs")
          .as("openJobsVersion"),
    ])
    .where("users.id", "=", param("userId")),
);

/**
 * The signed-in user for a session, or null if the account is gone or deactivated, or its password
 * changed since the session began (the session carries an older `sessionVersion`).
 */
export async function findSessionUser(
  ctx: AppContext,
  userId: number,
  sessionVersion: number,
): Promise<SessionUser | null> {
  const [row] = await sessionUserRow(ctx.db, { userId });
  if (!row || row.deactivated_at || row.session_version !== sessionVersion) return null;
  if (row.role === "student" && (!row.studentId || !row.approved_at)) return null;
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    studentId: row.studentId ?? null,
    fullName: row.fullName ?? null,
    openJobsVersion: row.openJobsVersion == null ? null : String(row.openJobsVersion),
  };
}

export class AccountError extends Error {
  override name = "AccountError";
}

/** Creates an admin, or sets a new password for an existing admin. */
export async function upsertAdmin(
  ctx: AppContext,
  email: string,
  password: string,
): Promise<{ id: number; created: boolean }> {
  const normalised = normaliseEmail(email);
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  const passwordHash = await hashPassword(password);
  const existing = await ctx.db
    .selectFrom("users")
    .select(["id", "role"])
    .where("email", "=", normalised)
    .executeTakeFirst();
  if (existing) {
    if (existing.role !== "admin") {
      throw new AccountError(`${normalised} belongs to a student account; choose another email.`);
    }
    await ctx.db
      .updateTable("users")
      .set((eb) => ({
        password_hash: passwordHash,
        deactivated_at: null,
        session_version: eb("session_version", "+", 1),
      }))
      .where("id", "=", existing.id)
      .execute();
    return { id: existing.id, created: false };
  }
  const row = await ctx.db
    .insertInto("users")
    .values({
      email: normalised,
      password_hash: passwordHash,
      role: "admin",
      created_at: ctx.clock.now().toISOString(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: row.id, created: true };
}

export const DEFAULT_ADMIN_EMAIL = "admin@placement.local";

/**
 * First start: with no admin in the database, create one from ADMIN_EMAIL / ADMIN_PASSWORD, or
 * with a generated password that is returned (to be printed once) and stored only as a hash.
 */
export async function ensureFirstAdmin(
  ctx: AppContext,
): Promise<{ email: string; generatedPassword: string | null } | null> {
  const anyAdmin = await ctx.db
    .selectFrom("users")
    .select("id")
    .where("role", "=", "admin")
    .limit(1)
    .executeTakeFirst();
  if (anyAdmin) return null;
  const email = ctx.config.ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL;
  const generatedPassword = ctx.config.ADMIN_PASSWORD
    ? null
    : randomBytes(12).toString("base64url");
  await upsertAdmin(ctx, email, ctx.config.ADMIN_PASSWORD ?? generatedPassword!);
  return { email: normaliseEmail(email), generatedPassword };
}
