import { type DestinationStream, type Logger, pino } from "pino";
import type { Config } from "./config.ts";
import { maskPhoneNumbersIn } from "./sms/phone.ts";

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

/**
 * The application log, on standard output: JSON lines for machines, or readable lines when a
 * person watches a terminal in development. `destination` (the tests' capture) takes the JSON
 * lines instead.
 */
export function createLogger(
  config: Pick<Config, "LOG_LEVEL"> & Partial<Pick<Config, "NODE_ENV">>,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    serializers: {
      // Fastify's request line, with phone numbers in the URL (an admin's search) masked.
      req: (req: { method?: string; url?: string; host?: string; ip?: string }) => ({
        method: req.method,
        url: maskPhoneNumbersIn(req.url ?? ""),
        host: req.host,
        remoteAddress: req.ip,
      }),
    },
  };
  if (destination) return pino(options, destination);
  if (config.NODE_ENV === "development" && process.stdout.isTTY) {
    return pino({
      ...options,
      transport: {
        target: "pino-pretty",
        options: { translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" },
      },
    });
  }
  return pino(options);
}
