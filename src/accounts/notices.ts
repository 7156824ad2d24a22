import type { SmsTemplate } from "../sms/templates.ts";

/** The accounts feature's SMS: the password reset code. One segment, no free text. */
export const resetCodeSms: SmsTemplate<{ code: string; minutes: number }> = {
  id: "password_reset",
  maxSegments: 1,
  render: ({ code, minutes }) =>
    `Placement Portal password reset code: ${code}. It expires in ${minutes} minutes. Did not ask for it? Ignore this SMS.`,
};

/** What the stored SMS says once its code is used: the code itself is not kept. */
export function usedResetCodeSms(minutes: number): string {
  return resetCodeSms.render({ code: "(used)", minutes });
}
