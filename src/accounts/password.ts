import { type Algorithm, hash, verify } from "@node-rs/argon2";
import { z } from "zod";
import type { FormCheck } from "../web/forms.ts";

// Algorithm is a const enum, which isolated modules cannot read: 2 is Algorithm.Argon2id.
const ARGON2ID = 2 as Algorithm;

/** OWASP's argon2id minimum: m=19 MiB, t=2, p=1. */
export const PRODUCTION_HASH = {
  algorithm: ARGON2ID,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * The test suite's profile: still argon2id (the same code paths and hash format), at the least
 * memory argon2 accepts, so thousands of test accounts cost no more than a few real ones. Only a
 * process whose NODE_ENV is `test` (vitest sets it) uses it; a server never does by accident,
 * since `portal serve` refuses to start with NODE_ENV=test.
 */
export const TEST_HASH = {
  algorithm: ARGON2ID,
  memoryCost: 64,
  timeCost: 1,
  parallelism: 1,
} as const;

export function hashProfile(nodeEnv = process.env.NODE_ENV) {
  return nodeEnv === "test" ? TEST_HASH : PRODUCTION_HASH;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, hashProfile());
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verified against when the email is unknown, so "no such user" takes as long as "wrong password".
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword("placement-portal-timing-equaliser");
  return dummyHash;
}

export const MIN_PASSWORD_LENGTH = 8;

/**
 * A new password as the account forms set one (a password change or reset, a new admin, another
 * admin's password): typed twice, 8 to 200 characters. Registration's form repeats the same rules
 * (students/registration.ts).
 */
export const newPasswordFields = {
  password: z
    .string({ message: "Choose a password." })
    .min(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
    .max(200, { message: "Use at most 200 characters." }),
  password_confirm: z.string({ message: "Repeat the password." }),
};

/** A new password typed twice the same (web/forms.ts checkedForm). */
export const PASSWORDS_MATCH: FormCheck = {
  fields: ["password", "password_confirm"],
  path: "password_confirm",
  message: "The two passwords do not match.",
  holds: (form) => form.password === form.password_confirm,
};
