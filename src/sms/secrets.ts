/**
 * Messages that carry a one-time secret (a password reset code). The secret has to reach the
 * phone, and nobody else: an admin who read it in the console could use it as long as it lives.
 * So the outbox keeps, beside the body, the body with the secret masked (`masked_body`) and when
 * the secret stops being worth anything (`secret_until`):
 *
 * - every admin view shows `displayedBody`, never the body itself;
 * - once the secret's time has passed, the dispatcher replaces the body by the masked text, and a
 *   message still queued is cancelled rather than sent (`outbox.ts expireSecrets`, and the last
 *   look before each send): a code that arrives dead only confuses the student;
 * - a message with a secret is never resent from the console (the feature issues a new secret).
 *
 * Nothing here knows what a code is: the feature names the secret as it stands in the body.
 */

/** What stands in place of each character of a secret wherever an admin reads the text. */
export const SECRET_MASK = "•";

export interface SmsSecret {
  /** The secret as it stands in the body ("482913"): every occurrence of it is masked. */
  text: string;
  /** When it stops being worth anything (the code's expiry): it leaves the database then. */
  until: Date;
}

/** `body` with every occurrence of `secret` masked, one mask character for each of its own. */
export function maskSecret(body: string, secret: string): string {
  if (secret.trim() === "") throw new Error("maskSecret: an empty secret masks nothing");
  return body.replaceAll(secret, SECRET_MASK.repeat(Array.from(secret).length));
}

/**
 * The text of a message as an admin (or any log or export) may show it: with its secret masked
 * when it has or had one. The one function every view of a message's text goes through.
 */
export function displayedBody(message: { body: string; masked_body: string | null }): string {
  return message.masked_body ?? message.body;
}

/** Why a message whose secret expired before it went out was not sent. */
export const SECRET_EXPIRED_REASON =
  "The code expired before it could be sent: not sent (the student asks for a new one).";
/** The same, when an earlier attempt may have reached Twilio before the code expired. */
export const SECRET_EXPIRED_UNCONFIRMED_REASON =
  "The code expired before Twilio confirmed an earlier attempt: not sent again (it may have reached the phone).";
/** Why the console does not resend a message that carries a secret. */
export const SECRET_NOT_RESENT =
  "A message with a one-time code is never resent: the code in it expires (or is used) and must not be sent twice. The student asks for a new code instead.";
