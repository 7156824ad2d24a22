import type { Config } from "../config.ts";
import type { AppContext } from "../context.ts";
import { type LimitSetting, type LimitTicket, takeLimit } from "../web/limits.ts";
import type { RegistrationInput } from "./registration.ts";

/**
 * Registration is anonymous, so it is limited by what an abuser must vary to register many
 * accounts or to bother one person: the email, the roll number and the mobile number, each a few
 * attempts an hour. The client's address gets a limit too, but a high one: on a registration day
 * hundreds of students register from one hostel or lab network, which is one address.
 *
 * What counts is an attempt whose form is valid (checked before the limit, so a student fixing a
 * typo spends nothing), taken before the password is hashed and the account written, so a burst
 * with one email gets no more than its limit through. It counts whatever the outcome: a new
 * account, an email that has one already (which must answer the same), a roll number already
 * registered. Only a resume the student must choose again (not a PDF, too big, no room) gives the
 * attempt back. The counts are of attempts, never of accounts, so they tell nobody whether an
 * email is registered.
 *
 * These are the defaults; the office may change each on the limits page (web/limits.ts).
 */
export function registrationLimits(config: Pick<Config, "REGISTRATIONS_PER_ADDRESS_PER_HOUR">) {
  return {
    perAddress: {
      name: "registration.per_address",
      area: "Registration",
      title: "Registrations from one address",
      about:
        "Registrations from one client address, for any students. High, because a hostel or lab network is one address with hundreds of students behind it; the limits per email, roll number and mobile number below do the fine work.",
      default: { max: config.REGISTRATIONS_PER_ADDRESS_PER_HOUR, windowSeconds: 60 * 60 },
    },
    perEmail: {
      name: "registration.per_email",
      area: "Registration",
      title: "Registrations with one email",
      about:
        "Registration attempts with one email, from anywhere, whether or not an account has it: a double click or a retry fits, a script trying one email again and again does not.",
      default: { max: 5, windowSeconds: 60 * 60 },
    },
    perRollNumber: {
      name: "registration.per_roll_number",
      area: "Registration",
      title: "Registrations with one roll number",
      about: "Registration attempts with one roll number, from anywhere.",
      default: { max: 5, windowSeconds: 60 * 60 },
    },
    perPhone: {
      name: "registration.per_phone",
      area: "Registration",
      title: "Registrations with one mobile number",
      about: "Registration attempts with one mobile number, from anywhere.",
      default: { max: 5, windowSeconds: 60 * 60 },
    },
    noticesPerAccount: {
      name: "registration.notices_per_account",
      area: "Registration",
      title: "SMS about a registration with an existing account's email",
      about:
        "When someone registers with the email of an existing account, the page answers as for a new one and the account's owner gets an SMS about it: at most this many, so that nobody can use the form to send someone SMS.",
      default: { max: 1, windowSeconds: 60 * 60 },
    },
  } satisfies Record<string, LimitSetting>;
}

export type RegistrationLimits = ReturnType<typeof registrationLimits>;
export type RegistrationGate = "address" | "email" | "roll_number" | "phone";

type Ctx = Pick<AppContext, "db" | "dialect" | "clock">;

/**
 * One registration attempt of a valid form, from this address: refused (by which limit, until
 * when), or counted under the address and the three identities, to be given back if the student
 * must send the form again anyway.
 */
export function takeRegistrationAttempt(
  ctx: Ctx,
  limits: RegistrationLimits,
  address: string,
  input: Pick<RegistrationInput, "email" | "roll_number" | "phone">,
): Promise<LimitTicket<RegistrationGate>> {
  // One event kind for the four counts: each identity is stored with a prefix naming it; the
  // address is on the email's event only, so that it counts the attempt once.
  const email = { account: `email:${input.email}` };
  const roll = { account: `roll:${input.roll_number}` };
  const phone = { account: `phone:${input.phone}` };
  return takeLimit(
    ctx,
    "registration",
    [{ ...email, address }, roll, phone],
    [
      { name: "address", match: { address }, limit: limits.perAddress },
      { name: "email", match: email, limit: limits.perEmail },
      { name: "roll_number", match: roll, limit: limits.perRollNumber },
      { name: "phone", match: phone, limit: limits.perPhone },
    ],
  );
}

/** Why a valid registration was refused, in the page's words. */
export const REFUSED_BECAUSE: Record<RegistrationGate, string> = {
  address: "Too many registrations from your network.",
  email: "Too many registrations with this email.",
  roll_number: "Too many registrations with this roll number.",
  phone: "Too many registrations with this mobile number.",
};
