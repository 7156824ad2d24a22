import type { SmsStatus } from "../db/schema.ts";
import { describeRules, type EligibilityRules } from "../placement/eligibility.ts";
import { EligibilityCheckboxes } from "../placement/eligibility-fields.tsx";
import { STATUS_LABELS } from "../placement/stages.ts";
import {
  Field,
  FormErrorSummary,
  type FormState,
  formatDateTime,
  SelectField,
  TextAreaField,
} from "../web/components.tsx";
import { formatNumber, jobName, plural, pluralWord } from "../web/format.ts";
import { CsrfField } from "../web/layout.tsx";
import type { PageContext } from "../web/page.ts";
import { formatDate } from "../web/time.ts";
import { JOB_TYPE_LABELS, type JobWithRules, type jobsForStudent } from "./service.ts";

const typeOptions = Object.entries(JOB_TYPE_LABELS).map(([value, label]) => ({ value, label }));

export interface AlertPreview {
  eligible: number;
  reachable: number;
  segmentsEach: number;
  totalSegments: number;
  /** "about INR 620.00"; null when SMS_PRICE_PER_SEGMENT is not set. */
  cost: string | null;
  body: string;
  nudge: NudgePreview | null;
}

export interface NudgePreview {
  dueAt: string;
  /** When quiet hours hold it at its due time: the moment they end. */
  heldUntil: string | null;
  reachable: number;
  totalSegments: number;
  cost: string | null;
  body: string;
}

/** The deadline nudge in words: when, to how many, at what cost, and its text. */
export function nudgeWords(nudge: NudgePreview): string {
  const held = nudge.heldUntil
    ? ` (quiet hours: it waits until ${formatDateTime(nudge.heldUntil)})`
    : "";
  return `Deadline reminder at ${formatDateTime(nudge.dueAt)} IST${held} to ${plural(nudge.reachable, "student")} who ${pluralWord(nudge.reachable, "has", "have")} not applied: ${plural(nudge.totalSegments, "segment")}${nudge.cost ? `, ${nudge.cost}` : ""}. Text: "${nudge.body}"`;
}

export function JobForm({
  page,
  form,
  action,
  isNew,
  preview,
  now,
}: {
  page: PageContext;
  form: FormState;
  action: string;
  isNew: boolean;
  preview: AlertPreview | null;
  now: Date;
}) {
  // A conscious choice: unticked until ticked, and as it was left when the form comes back.
  const sendSms = form.values.send_sms === "on";
  return (
    <>
      <FormErrorSummary form={form} />
      <form method="post" action={action} class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        {isNew ? (
          <input type="hidden" name="submission_id" value={form.values.submission_id ?? ""} />
        ) : null}
        <div class="row">
          <Field form={form} name="company" label="Company" required />
          <Field form={form} name="title" label="Job title" required />
        </div>
        <div class="row">
          <SelectField form={form} name="type" label="Type" options={typeOptions} required />
          <Field form={form} name="location" label="Location" />
          <Field form={form} name="package_range" label="Package" hint="e.g. 6-8 LPA" />
        </div>
        <TextAreaField form={form} name="description" label="Description" rows={5} />
        <Field
          form={form}
          name="official_link"
          label="Official link"
          type="url"
          hint="Optional: the company's job page."
        />
        <Field
          form={form}
          name="apply_by"
          label="Apply by"
          type="datetime-local"
          required
          hint="India Standard Time. Students cannot apply after it."
        />
        <h2>Eligibility</h2>
        <EligibilityCheckboxes form={form} now={now} />
        <div class="row">
          <Field
            form={form}
            name="min_cgpa"
            label="Minimum CGPA"
            type="number"
            step="0.01"
            min="0"
            max="10"
            hint="Empty: no minimum."
          />
          <Field
            form={form}
            name="max_backlogs"
            label="Maximum active backlogs"
            type="number"
            min="0"
            hint="Empty: no limit."
          />
        </div>
        <Field
          form={form}
          name="nudge_hours"
          label="Deadline reminder: hours before the deadline (optional)"
          type="number"
          min="1"
          max="336"
          hint="One SMS to each eligible student who has not applied by then. Empty: none."
        />
        {isNew ? (
          <>
            <label class="check">
              <input type="checkbox" name="send_sms" checked={sendSms} /> Send a "new opportunity"
              SMS to every eligible student
            </label>
            {preview ? (
              <p class="flash flash-info" role="status" id="alert-preview" safe>
                {`${plural(preview.eligible, "approved student")} ${pluralWord(preview.eligible, "is", "are")} eligible; ${formatNumber(preview.reachable)} can get the SMS (${formatNumber(
                  preview.eligible - preview.reachable,
                )} opted out): ${plural(preview.reachable, "message")} × ${plural(preview.segmentsEach, "segment")} = ${plural(
                  preview.totalSegments,
                  "segment",
                )}${preview.cost ? `, ${preview.cost}` : ""}. Text: "${preview.body}"`}
              </p>
            ) : null}
            {preview?.nudge ? (
              <p class="flash flash-info" role="status" id="nudge-preview" safe>
                {nudgeWords(preview.nudge)}
              </p>
            ) : null}
            <div class="buttons">
              <button type="submit" name="intent" value="preview" class="secondary">
                Preview eligible students
              </button>
              <button type="submit" name="intent" value="post">
                Post job
              </button>
            </div>
          </>
        ) : (
          <>
            <p class="hint">Saving changes does not send the SMS alert again.</p>
            <button type="submit">Save changes</button>
          </>
        )}
      </form>
    </>
  );
}

export function RulesList({ rules }: { rules: EligibilityRules }) {
  return (
    <ul class="rules">
      {describeRules(rules).map((line) => (
        <li safe>{line}</li>
      ))}
    </ul>
  );
}

/** How many of a job's alerts are in each status (from smsCountsForReference). */
export type AlertCounts = Partial<Record<SmsStatus, number>>;

/**
 * The job's alert SMS at a glance: who was to get one and where each is now, every figure linking
 * to those messages in the SMS console, and a button to cancel the ones still queued.
 */
export function JobAlerts({
  page,
  jobId,
  counts,
}: {
  page: PageContext;
  jobId: number;
  counts: AlertCounts;
}) {
  const n = (...statuses: SmsStatus[]) => statuses.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const recipients = Object.values(counts).reduce((sum, c) => sum + (c ?? 0), 0);
  const link = (status: string) => `/admin/sms?job=${jobId}${status ? `&status=${status}` : ""}`;
  const figures: [string, number, string][] = [
    ["delivered", n("delivered"), "delivered"],
    ["sent, awaiting the delivery report", n("sent"), "sent"],
    ["captured on this server (not sent)", n("captured"), "captured"],
    ["failed or not delivered", n("failed", "undelivered"), "failed_or_undelivered"],
    ["outcome unknown: may have been sent", n("unknown"), "unknown"],
    ["being sent", n("sending"), "sending"],
    ["still queued", n("queued"), "queued"],
    ["cancelled", n("cancelled"), "cancelled"],
    ["skipped (SMS turned off)", n("skipped"), "skipped"],
  ];
  const queued = n("queued");
  return (
    <section class="card" aria-labelledby="job-alerts" id="alerts">
      <h2 id="job-alerts">Alert SMS</h2>
      {recipients === 0 ? (
        <p>No alert SMS for this job.</p>
      ) : (
        <>
          <p>
            <a href={link("")}>
              <strong safe>{plural(recipients, "recipient")}</strong>
            </a>
          </p>
          <ul class="counters small">
            {figures
              .filter(([label, count]) => count > 0 || label === "delivered")
              .map(([label, count, status]) => (
                <li>
                  <a href={link(status)}>
                    <strong safe>{formatNumber(count)}</strong> <span safe>{label}</span>
                  </a>
                </li>
              ))}
          </ul>
        </>
      )}
      {queued > 0 ? (
        <form method="post" action="/admin/sms/cancel" name="cancel-alerts">
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="reference" value={`job:${jobId}`} />
          <input type="hidden" name="next" value={`/admin/jobs/${jobId}`} />
          <button type="submit" class="secondary" id="cancel-alerts" safe>
            {`Cancel the ${plural(queued, "queued alert")}…`}
          </button>
        </form>
      ) : null}
    </section>
  );
}

/** A job as a student's list shows it: whether it is closed, why they may not apply, their stage. */
type StudentJobRow = Awaited<ReturnType<typeof jobsForStudent>>["eligible"][number];

/** "Placement · Bengaluru · 6-8 LPA · apply by ... IST": a job's facts in one line. */
export function jobFacts(job: JobWithRules): string {
  return `${JOB_TYPE_LABELS[job.type]}${job.location ? ` · ${job.location}` : ""}${job.package_range ? ` · ${job.package_range}` : ""} · apply by ${formatDateTime(job.apply_by)} IST`;
}

/**
 * A compact list of jobs, one or two lines each (issue 21: 50 cards were 8,200 px tall on a phone):
 * the job linked to its page, the student's stage or why it is closed, its facts in one line,
 * and, where asked, why they may not apply.
 */
/** The facts a list has room for on a phone's line: the day of the deadline (its page gives the hour). */
function jobListFacts(job: JobWithRules): string {
  return `${JOB_TYPE_LABELS[job.type]}${job.location ? ` · ${job.location}` : ""}${job.package_range ? ` · ${job.package_range}` : ""} · apply by ${formatDate(job.apply_by)}`;
}

export function JobCards({ rows, showReasons }: { rows: StudentJobRow[]; showReasons: boolean }) {
  return (
    <ul class="job-rows">
      {rows.map(({ job, closed, reasons, applied }) => (
        <li class="job-row">
          <a href={`/student/jobs/${job.id}`} safe>
            {jobName(job)}
          </a>
          {closed.length > 0 ? (
            <>
              {" "}
              <span class="status status-closed" safe>
                {`Closed: ${closed.join("; ")}`}
              </span>
            </>
          ) : null}
          {applied ? (
            <>
              {" "}
              <span class={`status status-${applied}`}>{STATUS_LABELS[applied]}</span>
            </>
          ) : null}
          <span class="hint" safe>
            {jobListFacts(job)}
          </span>
          {showReasons && reasons.length > 0 ? (
            <span class="reasons" safe>
              {reasons.join("; ")}
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
