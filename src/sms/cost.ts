import type { Config } from "../config.ts";
import { plural, pluralWord } from "../web/format.ts";

/**
 * What `segments` SMS segments cost at SMS_PRICE_PER_SEGMENT, in words ("about INR 620.00"); null
 * when no price is set. An estimate: the carrier bills what it delivers, at its own rate of the day.
 */
export function estimatedCost(
  config: Pick<Config, "SMS_PRICE_PER_SEGMENT" | "SMS_PRICE_CURRENCY">,
  segments: number,
): string | null {
  if (config.SMS_PRICE_PER_SEGMENT === undefined) return null;
  const amount = (segments * config.SMS_PRICE_PER_SEGMENT).toLocaleString("en-IN", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  return `about ${config.SMS_PRICE_CURRENCY} ${amount}`;
}

/** Above this many recipients, an SMS fan-out (an announcement, a job's alerts) asks first. */
export const SMS_CONFIRM_ABOVE = 100;

/**
 * Whether sending to `recipients` students must go through a confirmation page first: more than
 * SMS_CONFIRM_ABOVE of them, or any at all when SMS_PRICE_PER_SEGMENT gives them a price.
 */
export function smsNeedsConfirmation(
  config: Pick<Config, "SMS_PRICE_PER_SEGMENT">,
  recipients: number,
): boolean {
  if (recipients === 0) return false;
  return recipients > SMS_CONFIRM_ABOVE || (config.SMS_PRICE_PER_SEGMENT ?? 0) > 0;
}

/** A fan-out about to be queued, as its confirmation page states it. */
export interface FanOut {
  /** Students in the audience (or eligible), opted-out ones included. */
  students: number;
  /** Those of them who can get the SMS (not opted out). */
  reachable: number;
  segmentsEach: number;
  encoding: string;
  totalSegments: number;
  cost: string | null;
}

/**
 * "1,850 students get an SMS (39 opted out get none): 1,850 messages × 2 segments (GSM-7) = 3,700
 * segments, about INR 925.00."
 */
export function fanOutWords(f: FanOut): string {
  const optedOut = f.students - f.reachable;
  return `${plural(f.reachable, "student")} ${pluralWord(f.reachable, "gets", "get")} an SMS${
    optedOut > 0
      ? ` (${plural(optedOut, "student")} opted out ${pluralWord(optedOut, "gets", "get")} none)`
      : ""
  }: ${plural(f.reachable, "message")} × ${plural(f.segmentsEach, "segment")} (${f.encoding}) = ${plural(
    f.totalSegments,
    "segment",
  )}${f.cost ? `, ${f.cost}` : ""}.`;
}

/** What a confirmation says about the count it shows. */
export const RECOUNT_NOTE =
  "The students are counted again when you confirm: if some joined or left meanwhile, the SMS go to those there are then, and the next page says how many.";

/** The hidden field that carries the count a confirmation showed, to compare after queueing. */
export const CONFIRMED_COUNT = "confirmed_sms";

/**
 * " The confirmation page said 120: the count changed before you confirmed." when the count queued differs from
 * the one the confirmation page showed; "" otherwise (or when no count was confirmed).
 */
export function countChanged(body: unknown, queued: number): string {
  const shown = (body as Record<string, unknown> | undefined)?.[CONFIRMED_COUNT];
  if (typeof shown !== "string" || !/^[0-9]{1,9}$/.test(shown)) return "";
  const said = Number(shown);
  return said === queued
    ? ""
    : ` The confirmation page said ${said.toLocaleString("en-IN")}: the count changed before you confirmed.`;
}
