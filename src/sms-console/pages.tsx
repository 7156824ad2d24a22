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
export function Reference({
  reference,
  names,
}: {
  reference: string;
  names?: ReferenceNames | undefined;
}) {
  const [what, id] = reference.split(":");
  if (!id || !/^\d+$/.test(id))
    return (
      <small class="hint" safe>
        {reference}
      </small>
    );
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
                {m.reference ? <Reference reference={m.reference} names={names} /> : null}
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
