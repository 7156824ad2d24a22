import { z } from "zod";
import {
  DEFAULT_TIERS,
  PLACED_MAY_APPLY,
  type PlacementPolicy,
  type Tier,
  tiersSchema,
} from "../placement/policy.ts";
import {
  checkboxField,
  decimalField,
  type FieldErrors,
  type FormResult,
  formValues,
  textField,
  wholeNumberField,
} from "../web/forms.ts";

/**
 * The policy form as the page shows and reads it: how many offers a student may hold accepted,
 * up to six tiers (a name and the package it starts at; blank rows are left out), what a student
 * at that limit may still apply to (with N for "N times the best accepted package"), and the two
 * ticks. Every field is checked at once, each error beside its field; the tiers then go through
 * `tiersSchema`, the rule the stored policy is read with.
 */

export const TIER_ROWS = 6;
export const MAX_ACCEPTED = { min: 1, max: 10 } as const;
export const PACKAGE_MULTIPLE = { min: 1, max: 10 } as const;

export const tierNameField = (row: number) => `tier_name_${row}`;
export const tierFromField = (row: number) => `tier_from_${row}`;

const maxAcceptedField = wholeNumberField({
  label: "the number of offers a student may hold accepted",
  ...MAX_ACCEPTED,
});
const placedMayApplyField = z.enum(PLACED_MAY_APPLY, {
  message: "Choose what a student at the limit may still apply to.",
});
const packageMultipleField = decimalField({ label: "the multiple N", ...PACKAGE_MULTIPLE });
const nameField = textField({ label: "the tier's name", max: 40 });
const fromField = decimalField({ label: "the package the tier starts at", min: 0, max: 1000 });

/** The form's values for a policy (or the defaults for a year without one). */
export function policyFormValues(policy: PlacementPolicy | undefined): Record<string, string> {
  const tiers: Tier[] = policy?.tiers ?? DEFAULT_TIERS;
  const values: Record<string, string> = {
    max_accepted: String(policy?.maxAccepted ?? 1),
    placed_may_apply: policy?.placedMayApply ?? "higher_tier",
    package_multiple:
      policy?.packageMultiple !== null && policy?.packageMultiple !== undefined
        ? String(policy.packageMultiple)
        : "",
  };
  tiers.forEach((tier, i) => {
    values[tierNameField(i + 1)] = tier.name;
    values[tierFromField(i + 1)] = String(tier.fromLpa);
  });
  if (policy?.blockOnDecline) values.block_on_decline = "on";
  if (policy?.ppoInCampus ?? true) values.ppo_in_campus = "on";
  return values;
}

/** Whether a checkbox of the form is ticked in these values. */
export function ticked(values: Record<string, string>, name: string): boolean {
  return checkboxField.safeParse(values[name]).data === true;
}

function field<T>(
  errors: FieldErrors,
  name: string,
  schema: z.ZodType<T>,
  value: unknown,
): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  errors[name] ??= parsed.error.issues[0]?.message ?? "Check this field.";
  return undefined;
}

const blank = (v: unknown) => v === undefined || (typeof v === "string" && v.trim() === "");

/** Reads the posted form into a policy for `year`; every error at once, keyed by field. */
export function parsePolicyForm(body: unknown, year: number): FormResult<PlacementPolicy> {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const errors: FieldErrors = {};
  const maxAccepted = field(errors, "max_accepted", maxAcceptedField, record.max_accepted);
  const placedMayApply = field(
    errors,
    "placed_may_apply",
    placedMayApplyField,
    record.placed_may_apply,
  );
  const packageMultiple =
    placedMayApply === "multiple"
      ? field(errors, "package_multiple", packageMultipleField, record.package_multiple)
      : null;
  const blockOnDecline = checkboxField.safeParse(record.block_on_decline).data === true;
  const ppoInCampus = checkboxField.safeParse(record.ppo_in_campus).data === true;

  // The tier rows that were filled in, in order, with the row each came from.
  const rows: { row: number; tier: Tier }[] = [];
  let rowsOk = true;
  for (let row = 1; row <= TIER_ROWS; row++) {
    const rawName = record[tierNameField(row)];
    const rawFrom = record[tierFromField(row)];
    if (blank(rawName) && blank(rawFrom)) continue;
    const name = field(errors, tierNameField(row), nameField, rawName);
    const fromLpa = field(errors, tierFromField(row), fromField, rawFrom);
    if (name === undefined || fromLpa === undefined) rowsOk = false;
    else rows.push({ row, tier: { name, fromLpa } });
  }
  if (rowsOk) tierErrors(errors, rows);

  if (Object.keys(errors).length > 0) return { ok: false, errors, values: formValues(body) };
  return {
    ok: true,
    data: {
      graduationYear: year,
      maxAccepted: maxAccepted!,
      tiers: rows.map((r) => r.tier),
      placedMayApply: placedMayApply!,
      packageMultiple: packageMultiple ?? null,
      blockOnDecline,
      ppoInCampus,
    },
  };
}

/** The tiers as a whole (`tiersSchema`), each error put beside the row that breaks it. */
function tierErrors(errors: FieldErrors, rows: { row: number; tier: Tier }[]) {
  if (rows.length === 0) {
    errors.tiers = "Enter at least one tier: the first starts at 0 LPA.";
    return;
  }
  const names = new Set<string>();
  for (const { row, tier } of rows) {
    const key = tier.name.toLowerCase();
    if (names.has(key)) errors[tierNameField(row)] ??= "Two tiers cannot have the same name.";
    names.add(key);
  }
  const parsed = tiersSchema.safeParse(rows.map((r) => r.tier));
  if (parsed.success) return;
  const first = rows[0]!;
  if (first.tier.fromLpa !== 0)
    errors[tierFromField(first.row)] ??= "The first tier starts at 0 LPA.";
  rows.forEach(({ row, tier }, i) => {
    const previous = rows[i - 1];
    if (previous && tier.fromLpa <= previous.tier.fromLpa)
      errors[tierFromField(row)] ??=
        `Each tier starts above the one before it: above ${previous.tier.fromLpa} LPA (${previous.tier.name}).`;
  });
  // Anything else the rule refuses, said for the tiers as a whole.
  if (!Object.keys(errors).some((k) => k.startsWith("tier_")))
    errors.tiers = parsed.error.issues[0]?.message ?? "Check the tiers.";
}

/** The `updated_at` a form carries: "" for none; null when it is not one we could have written. */
export function parseBase(value: unknown): string | "" | null {
  if (value === "" || value === undefined) return "";
  if (typeof value !== "string" || value.length > 40) return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  return iso === value && /^2[0-9]{3}-/.test(iso) ? iso : null;
}
