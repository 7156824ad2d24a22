import type { Config } from "../config.ts";
import type { AppContext } from "../context.ts";

/**
 * A local trial (`npm start` without Twilio settings: capture mode, NODE_ENV=development) sends
 * no SMS, and no admin page shows a reset code any more: the reset page itself shows the code, and
 * says why. Never with Twilio, and never with NODE_ENV=production: a server that others reach and
 * that only forgot its Twilio settings must not hand any student's code to whoever types the
 * email. (It tells, on such a trial server, whether an email has a code: that is the trade.)
 */
export function resetCodesOnScreen(config: Pick<Config, "SMS_BACKEND" | "NODE_ENV">): boolean {
  return config.SMS_BACKEND === "capture" && config.NODE_ENV === "development";
}

/**
 * Only to a browser on the portal's own machine (the address as the portal sees it, so behind a
 * proxy trusted by TRUST_PROXY, the client's): a trial server left on HOST=0.0.0.0, or reached
 * through a proxy, still hands nobody else a code.
 */
export function isLocalAddress(ip: string): boolean {
  return ip === "127.0.0.1" || ip === "::1" || ip === "::ffff:127.0.0.1";
}

/** The live reset code captured for `email`'s newest request, when a local trial shows it. */
export async function localTrialCode(
  ctx: Pick<AppContext, "db" | "config" | "clock">,
  email: string,
  address: string,
): Promise<string | null> {
  if (!resetCodesOnScreen(ctx.config) || !isLocalAddress(address) || email === "") return null;
  const sms = await ctx.db
    .selectFrom("sms_messages")
    .innerJoin("students", "students.id", "sms_messages.student_id")
    .innerJoin("users", "users.id", "students.user_id")
    .select("sms_messages.body")
    .where("users.email", "=", email)
    .where("sms_messages.kind", "=", "password_reset")
    .where("sms_messages.status", "not in", ["cancelled", "failed"])
    .where("sms_messages.secret_until", ">", ctx.clock.now().toISOString())
    .orderBy("sms_messages.id", "desc")
    .limit(1)
    .executeTakeFirst();
  // A used code's text says "(used)" instead: nothing to show.
  return sms ? (/(?<!\d)(\d{6})(?!\d)/.exec(sms.body)?.[1] ?? null) : null;
}
