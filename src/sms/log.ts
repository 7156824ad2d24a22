import { join } from "node:path";
import { destination, type Logger, pino } from "pino";
import type { Config } from "../config.ts";
import { REDACTED_PATHS } from "../log.ts";
import { maskPhone, maskPhoneNumbersIn } from "./phone.ts";

/**
 * The SMS log, `LOG_DIR/sms.log`, one JSON line per step: queued, sending (attempt n), sent with
 * SID, retry with reason and delay, failed with code, skipped. Every `to` is masked here, whoever
 * logs it, and secrets are redacted.
 */
export function createSmsLogger(config: Pick<Config, "LOG_DIR" | "LOG_LEVEL">): Logger {
  const file = destination({ dest: join(config.LOG_DIR, "sms.log"), mkdir: true, sync: true });
  return pino(
    {
      level: config.LOG_LEVEL === "silent" ? "silent" : "info",
      base: { component: "sms" },
      redact: {
        paths: [...REDACTED_PATHS, "to", "*.to", "reason", "*.reason"],
        censor: (value, path) => {
          if (typeof value !== "string") return "[redacted]";
          if (path.at(-1) === "to") return maskPhone(value);
          // Twilio's error texts quote the number ("The 'To' number +91... is not valid").
          if (path.at(-1) === "reason") return maskPhoneNumbersIn(value);
          return "[redacted]";
        },
      },
    },
    file,
  );
}
