import type { SmsMessage } from "../db/schema.ts";
import { formatDateTime } from "../web/components.tsx";

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
                {m.kind}
                {m.reference ? (
                  <small class="hint" safe>
                    {m.reference}
                  </small>
                ) : null}
              </td>
              <td>
                <span class={`status status-${m.status}`}>{m.status}</span>
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
