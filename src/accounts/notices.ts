import type { Kysely } from "kysely";
import type { DB } from "../db/schema.ts";
import { renderVersion } from "../sms/template-store.ts";
import { defineTemplate } from "../sms/templates.ts";

/** The accounts feature's SMS: the password reset code. One segment, no free text. */
export const resetCodeSms = defineTemplate({
  id: "password_reset",
  title: "Password reset code",
  variables: {
    code: { about: "the one-time code", sample: "482913" },
    minutes: { about: "how many minutes the code lasts", sample: "15", longest: "999" },
  },
  defaultText:
    "Placement Portal password reset code: {code}. It expires in {minutes} minutes. Did not ask for it? Ignore this SMS.",
  maxSegments: 1,
});

export function resetCodeVars(code: string, minutes: number) {
  return { code, minutes: String(minutes) };
}

/**
 * What the stored SMS says once its code is used: the code itself is not kept. In the wording of
 * the version the message was built from.
 */
export function usedResetCodeSms(
  db: Kysely<DB>,
  version: number | null,
  minutes: number,
): Promise<string> {
  return renderVersion(db, resetCodeSms, version, resetCodeVars("(used)", minutes));
}
