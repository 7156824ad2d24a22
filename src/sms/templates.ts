import { normaliseForSms } from "./encoding.ts";

/**
 * What every SMS text is made of. Each text is a fixed template with variables, as India's DLT
 * rules require (each must be registered with the operators before it can be delivered to Indian
 * numbers); `id` is the name the registration is kept under. The features keep their own templates
 * beside their code (students/notices.ts, jobs/notices.ts, applications/notices.ts,
 * announcements/notices.ts); the SMS library's own is the test message.
 *
 * Each template renders within its own segment budget (`maxSegments`) in the encoding the text
 * will really be sent in: free text (names, a reason, a company, a title, an announcement) is cut
 * with "..." just enough to fit (fitVariablesToSegments in encoding.ts), and look-alikes such as
 * curly quotes, long dashes and ₹ are replaced with GSM-7 characters (normaliseForSms), so the
 * queued body is the body that is sent.
 */

export interface SmsTemplate<Vars> {
  id: string;
  /** The most segments a rendered text may take, whatever its variables. */
  maxSegments: number;
  render(vars: Vars): string;
}

export function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? fullName;
}

export const testSms: SmsTemplate<{ time: string }> = {
  id: "test",
  maxSegments: 1,
  render: ({ time }) => normaliseForSms(`Test message from Placement Portal. Time: ${time}`),
};
