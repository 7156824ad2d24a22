/**
 * The form fields registration, the profile and the academic record share, and what their services
 * answer a form with.
 */
import { z } from "zod";
import { DEPARTMENT_CODES } from "../placement/departments.ts";
import { formatPhoneE164, InvalidPhoneNumberError } from "../sms/phone.ts";
import {
  blankAsNull,
  decimalField,
  type FieldErrors,
  multilineTextField,
  wholeNumberField,
} from "../web/forms.ts";

/** Phone as typed -> E.164, or a field error in words a student understands. */
export const phoneField = (region: string) =>
  z.string({ message: "Enter a mobile number." }).transform((raw, zctx) => {
    try {
      return formatPhoneE164(raw, region);
    } catch (error) {
      zctx.addIssue({
        code: "custom",
        message:
          error instanceof InvalidPhoneNumberError ? error.reason : "Enter a valid mobile number.",
      });
      return z.NEVER;
    }
  });

/** The academic record: set at registration, afterwards changed by admins only. */
export function academicFields(now: Date) {
  const year = now.getUTCFullYear();
  return {
    department: z.enum(DEPARTMENT_CODES, { message: "Choose the department." }),
    semester: blankAsNull(wholeNumberField({ label: "the semester", min: 1, max: 10 })),
    graduation_year: wholeNumberField({
      label: "the graduation year",
      min: year - 1,
      max: year + 6,
    }),
    cgpa: decimalField({ label: "the CGPA", min: 0, max: 10, places: 2 }),
    active_backlogs: wholeNumberField({
      label: "the number of active backlogs",
      min: 0,
      max: 60,
    }),
  };
}

export const skillsField = multilineTextField({ label: "your skills", max: 500, optional: true });

export type ServiceResult<T = undefined> =
  | { ok: true; value: T }
  | { ok: false; errors: FieldErrors };
