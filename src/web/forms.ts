import { randomUUID } from "node:crypto";
import { z } from "zod";

/**
 * A form's one-time id (a hidden field set when the blank form is rendered): the same
 * submission twice, from a double click or a retried request, is recognised as one.
 */
export const submissionIdField = z
  .string()
  .optional()
  .transform((v) => (v && /^[0-9a-f-]{36}$/.test(v) ? v : null));

export function newSubmissionId(): string {
  return randomUUID();
}

/** An uploaded file as the multipart parser hands it over (see web/server.ts). */
export interface UploadedFile {
  filename: string;
  data: Buffer;
  /** True when the file was larger than the limit and was cut off. */
  truncated: boolean;
}

export type FieldErrors = Record<string, string>;

export type FormResult<T> =
  | { ok: true; data: T }
  | { ok: false; errors: FieldErrors; values: Record<string, string> };

/**
 * Text fields of a submitted form, for re-rendering it: files and passwords are dropped, and a
 * checkbox group (several values under one name) becomes "a,b".
 */
export function formValues(body: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  if (typeof body !== "object" || body === null) return values;
  for (const [key, value] of Object.entries(body)) {
    if (key === "_csrf" || key.includes("password")) continue;
    if (typeof value === "string") values[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === "string"))
      values[key] = value.join(",");
  }
  return values;
}

/** Validates a form body; each failing field gets its first message, keyed by field name. */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): FormResult<z.output<S>> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = String(issue.path[0] ?? "form");
    errors[key] ??= issue.message;
  }
  return { ok: false, errors, values: formValues(body) };
}
