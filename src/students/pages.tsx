import { DEPARTMENTS, departmentName } from "../placement/departments.ts";
import { Field, type FormState, SelectField } from "../web/components.tsx";
import { formatCgpa } from "../web/format.ts";
import type { findStudent } from "./profile.ts";

type StudentRow = NonNullable<Awaited<ReturnType<typeof findStudent>>>;

export const departmentOptions = DEPARTMENTS.map((d) => ({
  value: d.code,
  label: `${d.code} – ${d.name}`,
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

export function AcademicSummary({ student }: { student: StudentRow }) {
  return (
    <dl class="facts">
      <dt>Roll number</dt>
      <dd safe>{student.roll_number}</dd>
      <dt>Email</dt>
      <dd safe>{student.email}</dd>
      <dt>Mobile</dt>
      <dd safe>{student.phone_e164}</dd>
      <dt>Department</dt>
      <dd safe>{departmentName(student.department)}</dd>
      <dt>Semester</dt>
      <dd>{student.semester ?? "—"}</dd>
      <dt>Graduation year</dt>
      <dd>{student.graduation_year}</dd>
      <dt>CGPA</dt>
      <dd safe>{formatCgpa(student.cgpa)}</dd>
      <dt>Active backlogs</dt>
      <dd>{student.active_backlogs}</dd>
      <dt>Skills</dt>
      <dd safe>{student.skills || "—"}</dd>
    </dl>
  );
}

/** For a student whose semester is blank: jobs limited to semesters need it. */
export function SetSemesterNotice() {
  return (
    <p class="flash flash-info" id="set-semester">
      Set your semester: jobs limited to certain semesters need it before you can apply.{" "}
      <a href="/student/profile#f-semester">Set your semester in your profile</a>
    </p>
  );
}
