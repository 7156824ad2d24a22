import type { SmsMessage } from "../db/schema.ts";
import { formatDateTime } from "../web/components.tsx";

/** The kinds and statuses of SMS in words, on admin pages (the stored codes stay as they are). */
const KIND_LABELS: Record<string, string> = {
  approval: "Approval",
  rejection: "Rejection",
  status_update: "Status update",
  job_posted: "Job alert",
  test: "Test message",
  custom: "Announcement",
};

const STATUS_LABELS: Record<string, string> = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  delivered: "Delivered",
  undelivered: "Not delivered",
  failed: "Failed",
  skipped: "Skipped",
  captured: "Captured (not sent)",
  cancelled: "Cancelled",
};

function words(code: string): string {
  const text = code.replace(/_/g, " ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

export function smsKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? words(kind);
}

export function smsStatusLabel(status: string): string {
  return STATUS_LABELS[status] ?? words(status);
}

/** "job:12" -> "Job 12" (with a link where the admin has a page for it). */
function Reference({ reference }: { reference: string }) {
  const [what, id] = reference.split(":");
  if (!id || !/^\d+$/.test(id))
    return (
      <small class="hint" safe>
        {reference}
      </small>
    );
  const href =
    what === "job" ? `/admin/jobs/${id}` : what === "student" ? `/admin/students/${id}` : null;
  const label = `${words(what ?? "")} ${id}`;
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

export function SmsTable({ messages }: { messages: SmsMessage[] }) {
  if (messages.length === 0) return <p class="empty">No SMS yet.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
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
            <tr>
              <td safe>{formatDateTime(m.created_at)}</td>
              <td>
                <span safe>{smsKindLabel(m.kind)}</span>
                {m.reference ? <Reference reference={m.reference} /> : null}
              </td>
              <td>
                <span class={`status status-${m.status}`} safe>
                  {smsStatusLabel(m.status)}
                </span>
                {m.error_code ? (
                  <small class="hint" safe>
                    code {String(m.error_code)}
                  </small>
                ) : null}
                {m.error_message ? (
                  <small class="hint" safe>
                    {m.error_message}
                  </small>
                ) : null}
              </td>
              <td safe>{m.to_e164}</td>
              <td safe>{m.body}</td>
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
