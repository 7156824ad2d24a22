import type { Config } from "../config.ts";

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
