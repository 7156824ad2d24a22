import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/**
 * The 6-digit codes sent by SMS (a password reset, a new mobile number): stored as a salted
 * SHA-256 hash. A slow hash would add nothing against a million candidates; what protects such a
 * code is its short life and its few tries, each spent before the comparison.
 */

export interface OneTimeCode {
  /** What the SMS says. */
  code: string;
  salt: string;
  /** What the database keeps. */
  hash: string;
}

function hashCode(salt: string, code: string): string {
  return createHash("sha256").update(`${salt}:${code}`).digest("hex");
}

export function newOneTimeCode(): OneTimeCode {
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  const salt = randomBytes(16).toString("hex");
  return { code, salt, hash: hashCode(salt, code) };
}

/** Whether `code` is the one stored, compared in constant time. */
export function codeMatches(stored: { salt: string; code_hash: string }, code: string): boolean {
  return timingSafeEqual(
    Buffer.from(hashCode(stored.salt, code), "hex"),
    Buffer.from(stored.code_hash, "hex"),
  );
}
