/** Route schemas used by many features. */

/** `/:id` where id is a positive whole number (anything else is a 400 before the handler). */
export const idParams = {
  type: "object",
  properties: { id: { type: "integer", minimum: 1 } },
  required: ["id"],
} as const;
