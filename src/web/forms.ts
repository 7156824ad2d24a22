import { randomUUID } from "node:crypto";
import { z } from "zod";
import { parseLocalDateTime } from "./time.ts";

/*
 * The field schemas every form uses (registration, profile, academic record, jobs, announcements):
 * one rule per kind of value, so a text, a number or a date means the same on every form.
 *
 * Text refuses control characters (NUL and everything else below U+0020, U+007F, and U+0080-U+009F),
 * lone surrogates (half an emoji: not text at all) and Unicode non-characters (U+FFFE, U+FDD0 ...),
 * which no keyboard types and which break exports, SMS and other programs downstream. A multi-line
 * field also takes line breaks and tabs. Numbers must be written plainly, in digits: "8", "8.2",
 * "-1" (refused by its range); never "0x0A", "1e1", " 8", "8.", "Infinity" or "NaN". Dates must exist
 * on the calendar: "2027-02-30T10:00" is refused, not read as 2 March.
 */

const FORBIDDEN_IN_LINE = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
const FORBIDDEN_IN_TEXT = /[^\P{Cc}\t\n\r]|[\p{Cs}\p{Noncharacter_Code_Point}]/u;

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const count = (n: number) => n.toLocaleString("en-IN");

interface TextOptions {
  /** As it reads after "Enter": "your full name", "the company". */
  label: string;
  max: number;
  /** At least this many characters (after trimming); a required field needs at least 1. */
  min?: number;
  /** Blank is allowed and becomes "". */
  optional?: boolean;
}

function textSchema(options: TextOptions, forbidden: RegExp, message: string) {
  const { label, max, min = 1, optional = false } = options;
  const base = z
    .string({ message: `Enter ${label}.` })
    .trim()
    .refine((v) => !forbidden.test(v), { message, abort: true })
    .refine((v) => v.length <= max, {
      message: `Too long: use at most ${count(max)} characters.`,
      abort: true,
    });
  if (optional) return base.optional().transform((v) => v ?? "");
  return base
    .refine((v) => v.length > 0, { message: `Enter ${label}.`, abort: true })
    .refine((v) => v.length >= min, {
      message: `Too short: use at least ${count(min)} characters.`,
    });
}

/** One line of text, trimmed: a name, a title, a company, a place. */
export function textField(options: TextOptions) {
  return textSchema(
    options,
    FORBIDDEN_IN_LINE,
    "Remove the invisible control characters (such as tabs, line breaks or NUL bytes): this field is one line of plain text.",
  );
}

/** Text that may run over several lines (a description, a message, a list of skills), trimmed. */
export function multilineTextField(options: TextOptions) {
  return textSchema(
    options,
    FORBIDDEN_IN_TEXT,
    "Remove the invisible control characters (such as NUL bytes): only letters, digits, punctuation, line breaks and tabs are kept.",
  );
}

interface NumberOptions {
  /** As it reads after "Enter": "the CGPA", "the graduation year". */
  label: string;
  min: number;
  max: number;
}

const PLAIN_DECIMAL = /^-?[0-9]{1,9}(\.[0-9]+)?$/;
const PLAIN_WHOLE_NUMBER = /^-?[0-9]{1,9}$/;

/** A number with at most `places` decimals written plainly ("8", "8.2", "8.25"), min..max. */
export function decimalField(options: NumberOptions & { places?: number }) {
  const { label, min, max, places = 2 } = options;
  const Label = capitalise(label);
  return z
    .string({ message: `Enter ${label}.` })
    .refine((v) => v !== "", { message: `Enter ${label}.`, abort: true })
    .refine((v) => PLAIN_DECIMAL.test(v), {
      message: `${Label} must be a number. Write it in digits, such as ${max < 100 ? "8 or 8.25" : "12 or 12.5"}.`,
      abort: true,
    })
    .refine((v) => (v.split(".")[1] ?? "").length <= places, {
      message: `${Label} can have at most ${places} decimals.`,
      abort: true,
    })
    .transform(Number)
    .refine((n) => n >= min && n <= max, {
      message: `${Label} must be between ${min} and ${max}.`,
    });
}

/** A whole number written plainly in digits ("7", "2027"), min..max. */
export function wholeNumberField(options: NumberOptions) {
  const { label, min, max } = options;
  const Label = capitalise(label);
  return z
    .string({ message: `Enter ${label}.` })
    .refine((v) => v !== "", { message: `Enter ${label}.`, abort: true })
    .refine((v) => PLAIN_WHOLE_NUMBER.test(v), {
      message: `${Label} must be a whole number. Write it in digits, such as ${min > 1000 ? min : 7}.`,
      abort: true,
    })
    .transform(Number)
    .refine((n) => n >= min && n <= max, {
      message: `${Label} must be between ${min} and ${max}.`,
    });
}

/** A field that may be left blank (absent or ""), which then reads as null. */
export function blankAsNull<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === undefined || v === "" ? null : v), schema.nullable());
}

/**
 * A local date and time from `<input type="datetime-local">` ("2027-02-01T10:00", India time) ->
 * an ISO instant; a date that is not on the calendar is refused, not rolled over.
 */
export function dateTimeLocalField(options: { label: string }) {
  return z.string({ message: `Enter ${options.label}.` }).transform((v, zctx) => {
    const date = parseLocalDateTime(v);
    if (!date) {
      zctx.addIssue({
        code: "custom",
        message:
          v === ""
            ? `Enter ${options.label}.`
            : `Enter ${options.label} as a date and time that exists on the calendar.`,
      });
      return z.NEVER;
    }
    return date.toISOString();
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A form's one-time id (a hidden field set when the blank form is rendered): the same
 * submission twice, from a double click or a retried request, is recognised as one.
 */
export const submissionIdField = z
  .string()
  .optional()
  .transform((v) => (v && UUID.test(v) ? v : null));

export const FORM_EXPIRED_MESSAGE =
  "This form has expired (it came without its one-time id), so nothing was posted. Your text is kept below: check it and send the form again.";

/**
 * The one-time id of a form that creates something and texts students (a job, an announcement):
 * required, so a request replayed without it cannot post and fan out a second time (decision 007).
 * When it is missing, parseForm gives the re-rendered form a fresh one.
 */
export const requiredSubmissionIdField = z
  .string({ message: FORM_EXPIRED_MESSAGE })
  .regex(UUID, { message: FORM_EXPIRED_MESSAGE });

/** A checkbox: ticked ("on", or "1" / "true" from a script) or not (absent, anything else). */
export const checkboxField = z
  .string()
  .optional()
  .transform((v) => v === "on" || v === "1" || v === "true");

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

/**
 * A rule across fields of a form, such as a password typed twice: `holds` gets the fields'
 * values, all text, and the error goes on `path`.
 */
export interface FormCheck {
  fields: readonly string[];
  path: string;
  message: string;
  holds: (values: Record<string, string>) => boolean;
}

const formChecks = new WeakMap<z.ZodType, readonly FormCheck[]>();

function failedChecks(checks: readonly FormCheck[], values: unknown): FormCheck[] {
  if (typeof values !== "object" || values === null) return [];
  const record = values as Record<string, unknown>;
  return checks.filter((check) => {
    if (!check.fields.every((f) => typeof record[f] === "string")) return false;
    return !check.holds(record as Record<string, string>);
  });
}

/**
 * A form's schema with rules across its fields. Zod checks an object only once each field passed
 * (a blank name stops it), which would tell a password typed twice differently only on the next
 * round; parseForm also checks these rules on the fields as sent when other fields fail, so every
 * error comes at once.
 */
export function checkedForm<S extends z.ZodObject>(schema: S, ...checks: FormCheck[]): S {
  const checked = schema.superRefine((data, zctx) => {
    for (const check of failedChecks(checks, data))
      zctx.addIssue({ code: "custom", path: [check.path], message: check.message, input: data });
  });
  formChecks.set(checked, checks);
  return checked;
}

/** A file input's part as sent: a browser sends an empty part when no file was chosen. */
export function chosenUpload(value: unknown): UploadedFile | null {
  if (typeof value !== "object" || value === null) return null;
  const file = value as UploadedFile;
  if (!Buffer.isBuffer(file.data)) return null;
  return file.data.length > 0 || file.filename !== "" ? file : null;
}

/**
 * A form sent back with errors cannot keep a chosen file (a browser never refills a file input):
 * unless the file itself has an error, its field says, beside it, to choose it again.
 */
export function withFileToChooseAgain(
  errors: FieldErrors,
  body: unknown,
  field: string,
): FieldErrors {
  if (errors[field] || typeof body !== "object" || body === null) return errors;
  const file = chosenUpload((body as Record<string, unknown>)[field]);
  if (!file) return errors;
  const name = file.filename.length > 60 ? `${file.filename.slice(0, 57)}...` : file.filename;
  return {
    ...errors,
    [field]: `Choose the file${name ? ` (${name})` : ""} again: a form sent back cannot keep it.`,
  };
}

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
  for (const check of failedChecks(formChecks.get(schema) ?? [], body))
    errors[check.path] ??= check.message;
  const values = formValues(body);
  // An expired form comes back with a new one-time id, so that sending it again works once.
  if (errors.submission_id) values.submission_id = newSubmissionId();
  return { ok: false, errors, values };
}
