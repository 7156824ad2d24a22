import type { SmsMessage } from "../db/schema.ts";
import { codeInWords, smsKindLabel, smsStatusLabel } from "../sms/labels.ts";
import { displayedBody } from "../sms/secrets.ts";
import { formatDateTime } from "../web/components.tsx";
import { explainError } from "./error-explanations.ts";

/** What references point at, in words: "job:12" -> "Infosys – SDE" (read once per page). */
export type ReferenceNames = Map<string, string>;

/**
 * "job:12" -> "Job alert of Infosys – SDE", linked to the job; "announcement:3" -> the
 * announcement's title, linked to its messages in the console; "student:5" -> the student.
 */
/**
 * The student a message went to, by the name and roll number kept with it: linked while the
 * student exists (`student_id` is set null when the student row goes), plain text after.
 */
export function Recipient({
  message,
}: {
  message: Pick<SmsMessage, "student_id" | "student_name" | "student_roll_number">;
}) {
  const { student_id: id, student_name: name, student_roll_number: roll } = message;
  if (name === null) return id === null ? null : <a href={`/admin/students/${id}`}>The student</a>;
  const label = roll ? `${name} (${roll})` : name;
  return id !== null ? (
    <a href={`/admin/students/${id}`} safe>
      {label}
    </a>
  ) : (
    <span safe>{`${label}, no longer in the portal`}</span>
  );
}

export function Reference({
  reference,
  names,
  message,
}: {
  reference: string;
  names?: ReferenceNames | undefined;
  /** The message it is on: a "student:" reference is named by the student kept with it. */
  message?: Pick<SmsMessage, "student_id" | "student_name" | "student_roll_number">;
}) {
  const [what, id] = reference.split(":");
  if (!id || !/^\d+$/.test(id))
    return (
      <small class="hint" safe>
        {reference}
      </small>
    );
  if (what === "student") {
    const same = message !== undefined && message.student_id === Number(id);
    return (
      <small class="hint">
        {message && (same || message.student_id === null) && message.student_name !== null ? (
          <Recipient message={message} />
        ) : same ? (
          <a href={`/admin/students/${id}`}>The student</a>
        ) : (
          <span>A student no longer in the portal</span>
        )}
      </small>
    );
  }
  const name = names?.get(reference);
  const href =
    what === "job"
      ? `/admin/jobs/${id}`
      : what === "student"
        ? `/admin/students/${id}`
        : what === "announcement"
          ? `/admin/sms?announcement=${id}`
          : null;
  const label =
    what === "job" && name
      ? `Job: ${name}`
      : what === "announcement" && name
        ? `Announcement: ${name}`
        : `${codeInWords(what ?? "")} ${id}`;
  return (
    <small class="hint">
      {href ? (
        <a href={href} safe>
          {label}
        </a>
      ) : (
        <span safe>{label}</span>
      )}
    </small>
  );
}

/** A Twilio error code in words, with the code itself after it for whoever asks Twilio. */
export function ErrorShort({ code }: { code: number }) {
  const explained = explainError(code);
  return (
    <small class="hint" safe>
      {explained.known ? `${explained.short} (Twilio error ${code})` : explained.short}
    </small>
  );
}

export function SmsTable({
  messages,
  names,
  selectionForm,
}: {
  messages: SmsMessage[];
  names?: ReferenceNames;
  /** The id of a form the queued rows' checkboxes belong to (the console's "Cancel selected"). */
  selectionForm?: string;
}) {
  if (messages.length === 0) return <p class="empty">No SMS yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {selectionForm ? (
              <th scope="col">
                <span class="visually-hidden">Select</span>
              </th>
            ) : null}
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">To</th>
            <th scope="col">Student</th>
            <th scope="col">Text</th>
            <th scope="col">Attempts</th>
          </tr>
        </thead>
        <tbody>
          {messages.map((m) => (
            <tr data-sms={String(m.id)}>
              {selectionForm ? (
                <td>
                  {m.status === "queued" ? (
                    <input
                      type="checkbox"
                      name="ids"
                      value={String(m.id)}
                      form={selectionForm}
                      aria-label={`Select message ${m.id}`}
                    />
                  ) : null}
                </td>
              ) : null}
              <td>
                <a href={`/admin/sms/${m.id}`} safe>
                  {formatDateTime(m.created_at)}
                </a>
              </td>
              <td>
                <span safe>{smsKindLabel(m.kind)}</span>
                {m.reference && !m.reference.startsWith("student:") ? (
                  <Reference reference={m.reference} names={names} />
                ) : null}
              </td>
              <td>
                <span class={`status status-${m.status}`} safe>
                  {smsStatusLabel(m.status)}
                </span>
                {m.error_code ? (
                  <ErrorShort code={m.error_code} />
                ) : m.error_message ? (
                  <small class="hint" safe>
                    {m.error_message}
                  </small>
                ) : null}
              </td>
              <td safe>{m.to_e164}</td>
              <td>
                <Recipient message={m} />
              </td>
              <td safe>{displayedBody(m)}</td>
              <td>
                {m.attempts}
                {m.twilio_sid ? (
                  <small class="hint sid" safe>
                    {m.twilio_sid}
                  </small>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
