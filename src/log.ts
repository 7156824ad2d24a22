import { type DestinationStream, type Logger, pino } from "pino";
import { prettyFactory } from "pino-pretty";
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

type LogFormatSettings = Partial<Pick<Config, "NODE_ENV" | "LOG_FORMAT">>;

/**
 * How the console's lines are written: `pretty` (readable lines) for a person at a terminal,
 * `json` for machines (a pipe, a file, the journal, or NODE_ENV=production). LOG_FORMAT says so
 * outright; unset (`auto`) it is decided by whether standard output is a terminal. A web process of
 * a cluster and the dispatcher thread write through the primary's output, so they are given the
 * primary's answer (`LOG_FORMAT` resolved) instead of asking again.
 */
export function resolveLogFormat(config: LogFormatSettings): "json" | "pretty" {
  if (config.LOG_FORMAT === "json" || config.LOG_FORMAT === "pretty") return config.LOG_FORMAT;
  return config.NODE_ENV !== "production" && process.stdout.isTTY ? "pretty" : "json";
}

const SHOWN_ELSEWHERE = new Set(["level", "time", "pid", "hostname", "msg", "reqId", "req", "res"]);

function shortValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (Array.isArray(value))
    return value.length <= 3 ? `[${value.map(shortValue).join(", ")}]` : `[${value.length} items]`;
  if (value !== null && typeof value === "object") {
    const json = JSON.stringify(value);
    return json.length <= 80 ? json : "{…}";
  }
  return String(value);
}

/**
 * Readable lines for a person at a terminal, one per event: time, level, message and its
 * details as `key=value`; a request as one short line when it is answered
 * ("GET /login 200 4 ms"). Takes pino's JSON lines (redacted already), so nothing reaches the
 * screen that the JSON log would not hold.
 */
export function prettyDestination(
  out: { write(text: string): unknown } = process.stdout,
  options: { colorize?: boolean } = {},
): DestinationStream {
  const prettify = prettyFactory({
    translateTime: "SYS:HH:MM:ss",
    ignore: "pid,hostname",
    hideObject: true,
    ...(options.colorize === undefined ? {} : { colorize: options.colorize }),
  });
  // The request line of each request not answered yet, by its id.
  const pending = new Map<string, string>();
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const reqId = typeof entry.reqId === "string" ? entry.reqId : undefined;
      const req = entry.req as { method?: string; url?: string } | undefined;
      if (reqId && entry.msg === "incoming request" && req) {
        // Shown with its answer, on one line.
        if (pending.size > 10_000) pending.clear();
        pending.set(reqId, `${req.method} ${req.url}`);
        return;
      }
      let msg = String(entry.msg ?? "");
      const res = entry.res as { statusCode?: number } | undefined;
      if (entry.msg === "request completed" && res) {
        const request = (reqId && pending.get(reqId)) || "request";
        if (reqId) pending.delete(reqId);
        const ms = typeof entry.responseTime === "number" ? Math.round(entry.responseTime) : "?";
        msg = `${request} ${res.statusCode} ${ms} ms`;
      } else {
        for (const [key, value] of Object.entries(entry)) {
          if (SHOWN_ELSEWHERE.has(key) || key === "err" || value === undefined) continue;
          msg += ` ${key}=${shortValue(value)}`;
        }
      }
      const err = entry.err as { message?: string; stack?: string } | undefined;
      if (err) msg += `\n    ${(err.stack ?? err.message ?? "").split("\n").join("\n    ")}`;
      out.write(prettify({ level: entry.level, time: entry.time, msg }));
    },
  };
}

/** The secret part of a calendar feed's address (rounds/calendar.ts): never written to a log. */
const FEED_SECRET = /(\/calendar\/\d+\/)[^/?]+/g;

/**
 * The application log, on standard output: JSON lines for machines, or readable lines when a
 * person watches a terminal (resolveLogFormat). `destination` (the tests' capture) takes the JSON
 * lines instead.
 */
export function createLogger(
  config: Pick<Config, "LOG_LEVEL"> & LogFormatSettings,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    serializers: {
      // Fastify's request line, with phone numbers in the URL (an admin's search) masked.
      req: (req: { method?: string; url?: string; host?: string; ip?: string }) => ({
        method: req.method,
        url: maskPhoneNumbersIn((req.url ?? "").replace(FEED_SECRET, "$1[secret]")),
        host: req.host,
        remoteAddress: req.ip,
      }),
    },
  };
  if (destination) return pino(options, destination);
  if (resolveLogFormat(config) === "pretty") return pino(options, prettyDestination());
  return pino(options);
}
