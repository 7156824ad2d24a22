/** Route schemas used by many features. */

/** The largest id either database stores (PostgreSQL's integer). */
export const MAX_ID = 2_147_483_647;

/** `/:id` where id is a positive whole number (anything else is a 400 before the handler). */
export const idParams = {
  type: "object",
  properties: { id: { type: "integer", minimum: 1, maximum: MAX_ID } },
  required: ["id"],
} as const;

/** `?page=`: a page number a list could have. */
export const pageParam = { type: "integer", minimum: 1, maximum: 100_000, default: 1 } as const;

/** Ids ticked in a list form: one value or several, anything that is not an id dropped. */
export function idList(value: unknown, max = 1000): number[] {
  const raw = Array.isArray(value) ? value : value !== undefined ? [value] : [];
  return [
    ...new Set(raw.map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= MAX_ID)),
  ].slice(0, max);
}
