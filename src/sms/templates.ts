/**
 * What every SMS text is made of. Each text is a fixed template with variables, as India's DLT
 * rules require (each must be registered with the operators before it can be delivered to Indian
 * numbers); `id` is the name the registration is kept under. The features keep their own templates
 * beside their code (students/notices.ts, jobs/notices.ts, applications/notices.ts,
 * announcements/notices.ts); the SMS library's own is the test message.
 */

export interface SmsTemplate<Vars> {
  id: string;
  render(vars: Vars): string;
}

export function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? fullName;
}

/** Cuts to `max` characters with "..." (three dots: "…" is not GSM-7 and would make it UCS-2). */
export function clip(text: string, max: number): string {
  const clean = text.replace(/\s+/g, " ").trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 3).trimEnd()}...`;
}

export const testSms: SmsTemplate<{ time: string }> = {
  id: "test",
  render: ({ time }) => `Test message from Placement Portal. Time: ${time}`,
};
