import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parse as parseDotenv } from "dotenv";
import { isValidPhoneNumber } from "libphonenumber-js/max";
import { z } from "zod";
import { parseQuietHours, type QuietHours } from "./sms/quiet-hours.ts";
import { parseTimeOfDay } from "./sms/time-of-day.ts";

/** The one place that reads settings. Priority: process environment > `.env` > default. */

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: `a whole number from ${min} to ${max}` })
    .int({ message: `a whole number from ${min} to ${max}` })
    .min(min, { message: `a whole number from ${min} to ${max}` })
    .max(max, { message: `a whole number from ${min} to ${max}` });

/** A time of day in India ("18:00") -> minutes after midnight. */
function timeOfDay(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((v, zctx): number => {
      const minutes = parseTimeOfDay(v);
      if (minutes !== undefined) return minutes;
      zctx.addIssue({ code: "custom", message: `a time of day in India such as ${fallback}` });
      return z.NEVER;
    });
}

/** A time of day in India, or "" for none (null). */
function timeOfDayOrNone(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((v, zctx): number | null => {
      if (v.trim() === "") return null;
      const minutes = parseTimeOfDay(v);
      if (minutes !== undefined) return minutes;
      zctx.addIssue({
        code: "custom",
        message: `a time of day in India such as ${fallback}, or empty for none`,
      });
      return z.NEVER;
    });
}

/** An IPv4/IPv6 address, or one with a /prefix (CIDR). */
function isAddressOrRange(text: string): boolean {
  const [address = "", prefix, ...rest] = text.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (version === 4 ? 32 : 128);
}

/**
 * false, true (every hop is trusted: only when the portal can be reached through the proxy
 * alone), or a comma-separated list of the proxies' addresses or ranges, whose X-Forwarded-For
 * is believed while anyone else's is ignored.
 */
const trustProxy = z.string().transform((v, zctx): boolean | string[] => {
  const lowered = v.trim().toLowerCase();
  if (["true", "1", "yes"].includes(lowered)) return true;
  if (["false", "0", "no"].includes(lowered)) return false;
  const list = v.split(",").map((part) => part.trim());
  if (list.every(isAddressOrRange)) return list;
  zctx.addIssue({
    code: "custom",
    message:
      "true, false or a comma-separated list of proxy addresses such as 127.0.0.1,10.0.0.0/8",
  });
  return z.NEVER;
});

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const url = (what: string) =>
  optionalText.refine((v) => v === undefined || URL.canParse(v), { message: what });

export const configSchema = z
  .object({
    NODE_ENV: z
      .enum(["development", "production", "test"], { message: "development, production or test" })
      .default("development"),
    PORT: int(0, 65535).default(3000),
    // Web processes of `portal serve` sharing the port (node:cluster); 1 runs no cluster at all.
    WEB_CONCURRENCY: int(1, 64).default(1),
    HOST: z.string().min(1).default("127.0.0.1"),
    TRUST_PROXY: trustProxy.default(false),
    DATA_DIR: z.string().min(1).default("data"),
    DATABASE_URL: z
      .string()
      .refine((v) => v.startsWith("file:") || /^postgres(ql)?:\/\//.test(v), {
        message: "file:PATH for SQLite or postgres://... for PostgreSQL",
      })
      .optional(),
    SESSION_SECRET: optionalText.refine((v) => v === undefined || v.length >= 32, {
      message: "at least 32 characters",
    }),
    PUBLIC_BASE_URL: url("an absolute URL such as https://portal.example.edu"),
    ADMIN_EMAIL: optionalText.refine((v) => v === undefined || z.email().safeParse(v).success, {
      message: "an email address",
    }),
    ADMIN_PASSWORD: optionalText.refine((v) => v === undefined || v.length >= 8, {
      message: "at least 8 characters",
    }),
    TWILIO_ACCOUNT_SID: optionalText.refine(
      (v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v),
      {
        message: "AC followed by 32 hex digits",
      },
    ),
    TWILIO_AUTH_TOKEN: optionalText,
    // Twilio takes the sender only in E.164 ("+15005550006"), and refuses any other form when the
    // first message goes out: refused here instead, at start-up and in `portal test-sms`.
    TWILIO_PHONE_NUMBER: optionalText.refine(
      (v) => v === undefined || (/^\+[1-9]\d{6,14}$/.test(v) && isValidPhoneNumber(v)),
      {
        message:
          "a phone number in E.164 form: + then the country code and the number, no spaces (such as +15005550006)",
      },
    ),
    TWILIO_MESSAGING_SERVICE_SID: optionalText.refine(
      (v) => v === undefined || /^MG[0-9a-fA-F]{32}$/.test(v),
      { message: "MG followed by 32 hex digits" },
    ),
    TWILIO_API_URL: url("an absolute URL such as http://127.0.0.1:4010"),
    SMS_ENABLED: bool.default(true),
    SMS_BACKEND: z.enum(["twilio", "capture"], { message: "twilio or capture" }).optional(),
    SMS_BATCH_SIZE: int(1, 1000).default(10),
    SMS_RETRY_DELAY_SECONDS: int(0, 3600).default(5),
    SMS_RETRY_MAX_DELAY_SECONDS: int(1, 86400).default(600),
    SMS_GIVE_UP_HOURS: int(1, 720).default(24),
    // Quiet hours in India time ("21:00-09:00"; empty for none): messages queued as quiet wait.
    SMS_QUIET_HOURS: z
      .string()
      .default("21:00-09:00")
      .transform((v, zctx): QuietHours | null => {
        const window = parseQuietHours(v);
        if (window !== undefined) return window;
        zctx.addIssue({
          code: "custom",
          message: "a window of India time such as 21:00-09:00, or empty for none",
        });
        return z.NEVER;
      }),
    // Round reminders (rounds/reminders.ts): the evening before a slot, at this India time (empty
    // for none), and this many minutes before a slot that starts before REMINDER_EARLY_BEFORE (0: none).
    REMINDER_EVENING_AT: timeOfDayOrNone("18:00"),
    REMINDER_EARLY_MINUTES: int(0, 720).default(120),
    REMINDER_EARLY_BEFORE: timeOfDay("11:00"),
    SMS_CIRCUIT_FAILURES: int(1, 1000).default(5),
    SMS_CIRCUIT_OPEN_SECONDS: int(1, 3600).default(10),
    SMS_RESEND_UNDELIVERED_SECONDS: int(0, 86400).default(0),
    // Segments a second for the whole portal, every process together (decision 025): one Twilio
    // long code sends about one.
    SMS_RATE_PER_SECOND: int(1, 1000).default(1),
    SMS_CONCURRENCY: int(1, 200).default(10),
    SMS_LEASE_SECONDS: int(5, 3600).default(60),
    SMS_POLL_MS: int(50, 60000).default(1000),
    SMS_CREDENTIALS_RECHECK_SECONDS: int(1, 3600).default(30),
    // Whether `portal serve` runs its own SMS dispatcher; false where `portal worker` processes send.
    SMS_DISPATCHER: bool.default(true),
    // Due messages waiting while no dispatcher has been seen for this long: the banner and /healthz
    // say sending has stalled. Dispatchers write their heartbeat at least three times within it.
    SMS_STALLED_AFTER_SECONDS: int(1, 86400).default(60),
    SMS_DEFAULT_REGION: z
      .string()
      .regex(/^[A-Z]{2}$/, { message: "a two-letter country code such as IN" })
      .default("IN"),
    // What one segment costs (Twilio's price to India, say), for the previews' estimates.
    SMS_PRICE_PER_SEGMENT: optionalText
      .refine((v) => v === undefined || /^[0-9]{1,6}(\.[0-9]{1,6})?$/.test(v), {
        message: "a decimal amount such as 0.25",
      })
      .transform((v) => (v === undefined ? undefined : Number(v))),
    SMS_PRICE_CURRENCY: z
      .string()
      .regex(/^[A-Za-z]{3}$/, { message: "a three-letter currency code such as INR" })
      .transform((v) => v.toUpperCase())
      .default("INR"),
    // Retention (README, "What is kept, how long"); 0 keeps forever. A message's text and number
    // are removed this many days after it was created, once it is done (sent, failed, ...).
    SMS_RETENTION_DAYS: int(0, 36500).default(180),
    // Audit entries (who did what, with names and reasons) are deleted after this many days.
    AUDIT_RETENTION_DAYS: int(0, 36500).default(730),
    // Bearer token that opens /metrics; unset, /metrics answers loopback connections only.
    METRICS_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 16, {
      message: "at least 16 characters",
    }),
    RESUME_MAX_BYTES: int(1024, 50 * 1024 * 1024).default(5 * 1024 * 1024),
    // Files read at once per web process, and how long a further one waits for its turn unread:
    // a flood of uploads holds at most this many files in memory.
    UPLOADS_AT_ONCE: int(1, 1000).default(16),
    UPLOAD_WAIT_SECONDS: int(1, 600).default(30),
    // The resumes of registrations still waiting for approval, together: anonymous registrations
    // cannot fill the disk.
    PENDING_RESUMES_MAX_BYTES: int(0, 1024 * 1024 * 1024 * 1024).default(200 * 1024 * 1024),
    // The default of the limit "registration.per_address" (students/registration-limits.ts): the
    // office may change it on the limits page. High: a hostel or lab network is one address.
    REGISTRATIONS_PER_ADDRESS_PER_HOUR: int(1, 100000).default(300),
    LOG_DIR: z.string().min(1).default("logs"),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        message: "fatal, error, warn, info, debug, trace or silent",
      })
      .default("info"),
    // The console's lines: readable ones for a person at a terminal, JSON for machines. Unset
    // (auto): pretty on a terminal unless NODE_ENV=production, JSON otherwise (log.ts).
    LOG_FORMAT: z
      .enum(["auto", "json", "pretty"], { message: "auto, json or pretty" })
      .default("auto"),
  })
  .transform((env) => ({
    ...env,
    DATABASE_URL: env.DATABASE_URL ?? `file:${env.DATA_DIR}/portal.db`,
    SMS_BACKEND:
      env.SMS_BACKEND ?? (env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN ? "twilio" : "capture"),
  }));

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads `.env` (if present) without touching process.env, so tests can pass their own env. */
export function readDotenv(path = ".env"): Record<string, string> {
  return existsSync(path) ? parseDotenv(readFileSync(path)) : {};
}

/** Settings whose empty value means "none" rather than "unset". */
const EMPTY_IS_A_VALUE = new Set(["SMS_QUIET_HOURS", "REMINDER_EVENING_AT"]);

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  dotenv: Record<string, string> = readDotenv(),
): Config {
  // Only the keys the schema knows; an empty value counts as unset, so the next source decides,
  // except where empty is a value of its own ("no quiet hours").
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.in.shape)) {
    const value = [env[key], dotenv[key]].find(
      (v) => v !== undefined && (v !== "" || EMPTY_IS_A_VALUE.has(key)),
    );
    if (value !== undefined) input[key] = value;
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0] ?? "configuration");
    // Secrets never appear; nor does a password inside a URL ("postgres://app:secret@db/portal").
    const shown = /SECRET|TOKEN|PASSWORD/.test(key)
      ? "(hidden)"
      : JSON.stringify((input[key] ?? "").replace(/\/\/[^/@\s]*@/, "//(hidden)@"));
    throw new ConfigError(`Invalid ${key}=${shown}: expected ${issue.message}`);
  }
  const config = result.data;
  if (config.NODE_ENV === "production" && !config.SESSION_SECRET) {
    throw new ConfigError("Missing SESSION_SECRET: required when NODE_ENV=production");
  }
  if (config.WEB_CONCURRENCY > 1 && /^file:(:memory:)?$/.test(config.DATABASE_URL)) {
    // Each process would have a database of its own.
    throw new ConfigError(
      `Invalid WEB_CONCURRENCY=${config.WEB_CONCURRENCY}: more than one web process needs a database file or PostgreSQL, not ${config.DATABASE_URL}`,
    );
  }
  if (config.SMS_BACKEND === "twilio") {
    const missing = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"].filter(
      (k) => !config[k as keyof Config],
    );
    if (!config.TWILIO_PHONE_NUMBER && !config.TWILIO_MESSAGING_SERVICE_SID) {
      missing.push("TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID");
    }
    if (missing.length > 0) {
      throw new ConfigError(`Missing ${missing.join(", ")}: required when SMS_BACKEND=twilio`);
    }
  }
  return config;
}
