import { type Logger, pino } from "pino";
import type { Config } from "./config.ts";

/** Paths whose values never reach a log line: secrets, credentials and session material. */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "password_hash",
  "*.password_hash",
  "req.headers.authorization",
  "req.headers.cookie",
  "res.headers['set-cookie']",
  "*.authToken",
  "*.TWILIO_AUTH_TOKEN",
  "*.SESSION_SECRET",
];

export function createLogger(config: Pick<Config, "LOG_LEVEL">): Logger {
  return pino({ level: config.LOG_LEVEL, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } });
}
