/**
 * Route schemas used by many features.
 *
 * Numbers in an address (ids, `?page=`, filters) are checked as the text they arrive as before
 * they become numbers: Ajv's coercion turns "1e309", "Infinity" and a 400-digit number into
 * Infinity, which then slips past `maximum` (Ajv only compares finite numbers) and reaches SQL;
 * it also reads "0x10" as 16 and " 5" as 5. So each number is first matched as plain digits,
 * then coerced and range-checked; anything else is a 400 before the handler.
 */

/** The largest id either database stores (PostgreSQL's integer). */
export const MAX_ID = 2_147_483_647;

/** The most pages a list offers; beyond its last page a list is simply empty. */
export const MAX_PAGE = 100_000;

/** A whole number written plainly ("7", not "07", "7.0", "0x7", "1e1", "+7" or " 7"), min..max. */
export function wholeNumberParam(min: number, max: number) {
  return {
    allOf: [
      { type: "string", pattern: "^(0|[1-9][0-9]{0,9})$" },
      { type: "integer", minimum: min, maximum: max },
    ],
  } as const;
}

/** A decimal written plainly ("8", "8.2", "8.25"; not "8.", ".5", "1e1" or "Infinity"), min..max. */
export function decimalParam(min: number, max: number) {
  return {
    allOf: [
      { type: "string", pattern: "^(0|[1-9][0-9]{0,5})(\\.[0-9]{1,2})?$" },
      { type: "number", minimum: min, maximum: max },
    ],
  } as const;
}

/**
 * Text in an address or a small form (a search, a filter, a reason), at most `max` characters and
 * without control characters: PostgreSQL refuses a NUL byte in text outright, and no person
 * types the others.
 */
export function textParam(max: number) {
  return {
    type: "string",
    maxLength: max,
    pattern: "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
  } as const;
}

/** A filter left empty ("?year=") or a value of `schema`. */
export function orEmpty<S extends object>(schema: S) {
  return { anyOf: [{ type: "string", maxLength: 0 }, schema] } as const;
}

/** `/:id` where id is a positive whole number (anything else is a 400 before the handler). */
export const idParams = {
  type: "object",
  properties: { id: wholeNumberParam(1, MAX_ID) },
  required: ["id"],
} as const;

/** `?page=`: a page number a list could have (1 when absent). */
export const pageParam = { ...wholeNumberParam(1, MAX_PAGE), default: "1" } as const;

/** Ids ticked in a list form: one value or several, anything that is not an id dropped. */
export function idList(value: unknown, max = 1000): number[] {
  const raw = Array.isArray(value) ? value : value !== undefined ? [value] : [];
  return [
    ...new Set(
      raw
        .filter((v) => typeof v === "string" && /^[1-9][0-9]{0,9}$/.test(v))
        .map(Number)
        .filter((n) => n <= MAX_ID),
    ),
  ].slice(0, max);
}
