import { z } from "zod";
import type { FormState } from "../web/components.tsx";
import { DEPARTMENT_CODES, DEPARTMENTS } from "./departments.ts";

/**
 * The eligibility lists as a form shows and reads them: departments, graduation years and
 * semesters, each a group of checkboxes where no tick means "every". The job form (a job's rules)
 * and the announcement form (a selection of students) use this one component and this one parser,
 * so the two cannot drift apart; each form adds its own other fields around them.
 */

/** Checkbox groups arrive as nothing, one string or several. */
const checkboxes = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) =>
    (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((x) => x.trim() !== ""),
  );

/** How a whole number in a group is written: plainly in digits ("2027", "7"). */
const WHOLE_NUMBER = /^[0-9]{1,4}$/;

/** A checkbox group of whole numbers between `min` and `max`, each taken once, in order. */
const wholeNumberCheckboxes = (min: number, max: number, message: string) =>
  checkboxes
    .pipe(z.array(z.string().regex(WHOLE_NUMBER, { message })))
    .transform((v) => [...new Set(v.map(Number))].sort((a, b) => a - b))
    .pipe(z.array(z.number().int().min(min, { message }).max(max, { message })));

/** The three groups' fields, for a form's zod object (under these names, in this order). */
export function eligibilityListFields(now: Date) {
  const year = now.getUTCFullYear();
  return {
    departments: checkboxes
      .transform((v) => [...new Set(v)])
      .pipe(z.array(z.enum(DEPARTMENT_CODES, { message: "Unknown department." }))),
    graduation_years: wholeNumberCheckboxes(year - 2, year + 6, "Unknown year."),
    semesters: wholeNumberCheckboxes(1, 10, "Unknown semester."),
  };
}

/** Values of a checkbox group as the form holds them: "CSE,ECE". */
function listed(form: FormState, name: string): string[] {
  return (form.values[name] ?? "").split(",").filter((v) => v !== "");
}

function CheckboxGroup({
  form,
  name,
  legend,
  options,
  hint,
}: {
  form: FormState;
  name: string;
  legend: string;
  options: string[];
  hint: string;
}) {
  const ticked = listed(form, name);
  return (
    <fieldset class="checks">
      <legend safe>{legend}</legend>
      <small class="hint" safe>
        {hint}
      </small>
      <div class="check-grid">
        {options.map((value) => (
          <label class="check">
            <input type="checkbox" name={name} value={value} checked={ticked.includes(value)} />{" "}
            <span safe>{value}</span>
          </label>
        ))}
      </div>
      {form.errors[name] ? (
        <small id={`f-${name}-error`} class="error" safe>
          {form.errors[name]}
        </small>
      ) : null}
    </fieldset>
  );
}

/**
 * The usual choices plus every number the form already holds: a rule must never vanish because
 * its checkbox is no longer offered (a job edited years later, a semester 9 or 10). Only values
 * written as the parser takes them are added; anything else is refused with the field's error.
 */
function wholeNumberOptions(form: FormState, name: string, usual: number[]): string[] {
  const held = listed(form, name).filter((v) => WHOLE_NUMBER.test(v));
  return [...new Set([...usual.map(String), ...held])].sort((a, b) => Number(a) - Number(b));
}

/** The three groups, as both forms show them (the fields `eligibilityListFields` reads). */
export function EligibilityCheckboxes({ form, now }: { form: FormState; now: Date }) {
  const year = now.getUTCFullYear();
  return (
    <>
      <CheckboxGroup
        form={form}
        name="departments"
        legend="Departments"
        hint="None ticked: every department."
        options={DEPARTMENTS.map((d) => d.code)}
      />
      <CheckboxGroup
        form={form}
        name="graduation_years"
        legend="Graduation years"
        hint="None ticked: every year."
        options={wholeNumberOptions(
          form,
          "graduation_years",
          Array.from({ length: 6 }, (_, i) => year - 1 + i),
        )}
      />
      <CheckboxGroup
        form={form}
        name="semesters"
        legend="Semesters"
        hint="None ticked: every semester."
        options={wholeNumberOptions(
          form,
          "semesters",
          Array.from({ length: 8 }, (_, i) => i + 1),
        )}
      />
    </>
  );
}
