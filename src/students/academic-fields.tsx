import { DEPARTMENTS } from "../placement/departments.ts";
import { Field, type FormState, SelectField } from "../web/components.tsx";

export const departmentOptions = DEPARTMENTS.map((d) => ({
  value: d.code,
  label: `${d.code} — ${d.name}`,
}));

/** The academic record's fields, for the registration form and the admin's correction form. */
export function AcademicFields({ form, hints = false }: { form: FormState; hints?: boolean }) {
  return (
    <>
      <SelectField
        form={form}
        name="department"
        label="Department"
        options={departmentOptions}
        required
      />
      <div class="row">
        <Field
          form={form}
          name="semester"
          label="Semester"
          type="number"
          min="1"
          max="10"
          required={hints}
          hint={
            hints ? "Your current semester: some jobs are only for certain semesters." : undefined
          }
        />
        <Field form={form} name="graduation_year" label="Graduation year" type="number" required />
      </div>
      <div class="row">
        <Field
          form={form}
          name="cgpa"
          label="CGPA"
          type="number"
          step="0.01"
          min="0"
          max="10"
          required
          hint={hints ? "On a 10-point scale." : undefined}
        />
        <Field
          form={form}
          name="active_backlogs"
          label="Active backlogs"
          type="number"
          min="0"
          required
          value="0"
        />
      </div>
    </>
  );
}

/** A department filter for GET forms: "All" or one department code. */
export function DepartmentFilter({ selected }: { selected: string | undefined }) {
  return (
    <label>
      Department
      <select name="department">
        <option value="">All</option>
        {DEPARTMENTS.map((d) => (
          <option value={d.code} selected={selected === d.code}>
            {d.code}
          </option>
        ))}
      </select>
    </label>
  );
}
