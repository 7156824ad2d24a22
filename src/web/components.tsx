import type { PropsWithChildren } from "@kitajs/html";
import { formatNumber } from "./format.ts";
import type { FieldErrors } from "./forms.ts";

export interface FormState {
  values: Record<string, string>;
  errors: FieldErrors;
}

export const emptyForm: FormState = { values: {}, errors: {} };

interface FieldProps {
  form: FormState;
  name: string;
  label: string;
  type?: string;
  required?: boolean;
  hint?: string;
  autocomplete?: string;
  inputmode?: string;
  step?: string;
  min?: string;
  max?: string;
  value?: string;
}

function FieldShell({
  form,
  name,
  label,
  hint,
  children,
}: PropsWithChildren<{ form: FormState; name: string; label: string; hint?: string | undefined }>) {
  const error = form.errors[name];
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={`f-${name}`} safe>
        {label}
      </label>
      {children}
      {hint ? (
        <small id={`f-${name}-hint`} class="hint" safe>
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`f-${name}-error`} class="error" safe>
          {error}
        </small>
      ) : null}
    </div>
  );
}

function describedBy(form: FormState, name: string, hint?: string) {
  const ids = [hint ? `f-${name}-hint` : "", form.errors[name] ? `f-${name}-error` : ""].filter(
    Boolean,
  );
  return ids.length > 0 ? ids.join(" ") : undefined;
}

export function Field(props: FieldProps) {
  const { form, name, type = "text" } = props;
  const value =
    type === "password" || type === "file" ? undefined : (form.values[name] ?? props.value);
  return (
    <FieldShell form={form} name={name} label={props.label} hint={props.hint}>
      <input
        id={`f-${name}`}
        name={name}
        type={type}
        value={value}
        required={props.required}
        autocomplete={props.autocomplete}
        inputmode={props.inputmode}
        step={props.step}
        min={props.min}
        max={props.max}
        accept={type === "file" ? "application/pdf,.pdf" : undefined}
        aria-invalid={form.errors[name] ? "true" : undefined}
        aria-describedby={describedBy(form, name, props.hint)}
      />
    </FieldShell>
  );
}

export function SelectField(props: {
  form: FormState;
  name: string;
  label: string;
  options: readonly { value: string; label: string }[];
  required?: boolean;
  placeholder?: string;
}) {
  const selected = props.form.values[props.name] ?? "";
  return (
    <FieldShell form={props.form} name={props.name} label={props.label}>
      <select
        id={`f-${props.name}`}
        name={props.name}
        required={props.required}
        aria-invalid={props.form.errors[props.name] ? "true" : undefined}
        aria-describedby={describedBy(props.form, props.name)}
      >
        <option value="" safe>
          {props.placeholder ?? "Choose…"}
        </option>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === selected} safe>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

export function TextAreaField(props: {
  form: FormState;
  name: string;
  label: string;
  hint?: string;
  rows?: number;
  value?: string;
}) {
  return (
    <FieldShell form={props.form} name={props.name} label={props.label} hint={props.hint}>
      <textarea
        id={`f-${props.name}`}
        name={props.name}
        rows={String(props.rows ?? 3)}
        aria-invalid={props.form.errors[props.name] ? "true" : undefined}
        aria-describedby={describedBy(props.form, props.name, props.hint)}
        safe
      >
        {props.form.values[props.name] ?? props.value ?? ""}
      </textarea>
    </FieldShell>
  );
}

/** What is wrong with a submitted form: an expired form (no one-time id), and fields to correct. */
export function FormErrorSummary({ form }: { form: FormState }) {
  const { submission_id: expired, ...fields } = form.errors;
  const count = Object.keys(fields).length;
  if (!expired && count === 0) return null;
  const correct =
    count === 0
      ? ""
      : count === 1
        ? "Please correct the field marked below."
        : `Please correct the ${count} fields marked below.`;
  return (
    <p class="flash flash-error" role="alert" safe>
      {[expired, correct].filter(Boolean).join(" ")}
    </p>
  );
}

/** Links to the previous and next page, keeping the other query parameters. */
export function Pagination({
  page,
  pageSize,
  total,
  baseUrl,
  query,
  more = false,
}: {
  page: number;
  pageSize: number;
  total: number;
  baseUrl: string;
  query: Record<string, string | number | undefined>;
  /** `total` is a lower bound (a search's count stops at a limit): there are more pages. */
  more?: boolean;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1 && !more) return null;
  const href = (p: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== "") params.set(k, String(v));
    params.set("page", String(p));
    return `${baseUrl}?${params}`;
  };
  return (
    <nav class="pagination" aria-label="Pages">
      {page > 1 ? <a href={href(page - 1)}>← Previous</a> : <span />}
      <span safe>
        {`Page ${formatNumber(page)} of ${more ? `more than ${formatNumber(pages)}` : formatNumber(pages)}`}
      </span>
      {page < pages || more ? <a href={href(page + 1)}>Next →</a> : <span />}
    </nav>
  );
}

export { formatDateTime } from "./time.ts";
