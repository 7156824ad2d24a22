import {
  type CountryCode,
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberWithError,
} from "libphonenumber-js/max";

export class InvalidPhoneNumberError extends Error {
  override name = "InvalidPhoneNumberError";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

// Numbers that can receive an SMS. FIXED_LINE_OR_MOBILE covers countries (such as the US) where
// the two share ranges.
const SMS_CAPABLE = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE", "PERSONAL_NUMBER", undefined]);

/**
 * Normalises a number as people type it ("98765 43210", "098765-43210", "+91 98765 43210",
 * "919876543210") to E.164 ("+919876543210"), using `region` for numbers written without "+".
 * Refuses numbers that are invalid, or valid but unable to take an SMS (landlines, toll-free).
 */
export function formatPhoneE164(raw: string, region = "IN"): string {
  const input = raw.trim();
  if (input === "") throw new InvalidPhoneNumberError(raw, "Enter a mobile number.");
  if (!/^[+\d\s().-]+$/.test(input)) {
    throw new InvalidPhoneNumberError(
      raw,
      "A phone number may contain only digits, spaces, ( ) - and a leading +.",
    );
  }
  const country = isSupportedCountry(region) ? (region as CountryCode) : undefined;
  const candidates = [input];
  // "919876543210": the country code typed without "+".
  const digits = input.replace(/\D/g, "");
  if (!input.startsWith("+") && country && digits.startsWith(getCountryCallingCode(country))) {
    candidates.push(`+${digits}`);
  }
  let reason = "This is not a valid phone number.";
  for (const candidate of candidates) {
    try {
      const number = parsePhoneNumberWithError(candidate, country);
      if (!number.isValid()) continue;
      const type = number.getType();
      if (!SMS_CAPABLE.has(type)) {
        reason =
          "This number cannot receive SMS (it looks like a landline); enter a mobile number.";
        continue;
      }
      return number.number;
    } catch {
      // Too short, too long or not a number: try the next reading, then report.
    }
  }
  throw new InvalidPhoneNumberError(raw, reason);
}

/** "+919876543210" -> "+91******3210": enough to tell numbers apart in a log, not to dial one. */
export function maskPhone(e164: string): string {
  if (!e164.startsWith("+") || e164.length < 8) return "***";
  let codeLength = 2;
  try {
    codeLength = parsePhoneNumberWithError(e164).countryCallingCode.length;
  } catch {
    // keep the default
  }
  const head = e164.slice(0, 1 + codeLength);
  const tail = e164.slice(-4);
  return `${head}${"*".repeat(Math.max(0, e164.length - head.length - 4))}${tail}`;
}

/**
 * Masks anything in free text that looks like a phone number (a URL's query, an error message
 * from Twilio quoting the number) the way maskPhone masks a number.
 */
export function maskPhoneNumbersIn(text: string): string {
  return text.replace(/(?:\+|%2B)?\d(?:[\d\s-]{6,15})\d/gi, (match) => {
    const digits = match.replace(/^%2B/i, "").replace(/\D/g, "");
    if (digits.length < 8) return match;
    return `${match.startsWith("+") ? "+" : ""}${"*".repeat(digits.length - 4)}${digits.slice(-4)}`;
  });
}
