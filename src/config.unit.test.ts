import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("configuration", () => {
  it("has working defaults: SQLite in data/, capture SMS without Twilio credentials", () => {
    const config = loadConfig({}, {});
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe("127.0.0.1");
    expect(config.DATABASE_URL).toBe("file:data/portal.db");
    expect(config.SMS_BACKEND).toBe("capture");
    expect(config.SMS_ENABLED).toBe(true);
    expect(config.SMS_DEFAULT_REGION).toBe("IN");
    expect(config.SMS_BATCH_SIZE).toBe(10);
  });

  it("reads TRUST_PROXY as true, false or a list of proxy addresses and ranges", () => {
    expect(loadConfig({}, {}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }, {}).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "no" }, {}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, 10.0.0.0/8,::1" }, {}).TRUST_PROXY).toEqual([
      "127.0.0.1",
      "10.0.0.0/8",
      "::1",
    ]);
    for (const bad of ["proxy.example", "10.0.0.0/33", "1.2.3.4/x"])
      expect(() => loadConfig({ TRUST_PROXY: bad }, {})).toThrowError(
        /^Invalid TRUST_PROXY=.*: expected true, false or a comma-separated list of proxy addresses/,
      );
  });

  it("caps registrations per address and the pending resumes' disk use by default", () => {
    const config = loadConfig({}, {});
    expect(config.REGISTRATIONS_PER_ADDRESS_PER_HOUR).toBe(300);
    expect(config.PENDING_RESUMES_MAX_BYTES).toBe(200 * 1024 * 1024);
  });

  it("runs serve's own dispatcher unless SMS_DISPATCHER=false; a stall after 60 s; a long metrics token", () => {
    const defaults = loadConfig({}, {});
    expect(defaults.SMS_DISPATCHER).toBe(true);
    expect(defaults.SMS_STALLED_AFTER_SECONDS).toBe(60);
    expect(defaults.METRICS_TOKEN).toBeUndefined();
    expect(loadConfig({ SMS_DISPATCHER: "false" }, {}).SMS_DISPATCHER).toBe(false);
    expect(() => loadConfig({ SMS_STALLED_AFTER_SECONDS: "0" }, {})).toThrowError(
      /^Invalid SMS_STALLED_AFTER_SECONDS="0": expected a whole number from 1 to 86400/,
    );
    const token = "short-token";
    expect(() => loadConfig({ METRICS_TOKEN: token }, {})).toThrowError(
      "Invalid METRICS_TOKEN=(hidden): expected at least 16 characters",
    );
    expect(loadConfig({ METRICS_TOKEN: "a-token-of-sixteen-or-more" }, {}).METRICS_TOKEN).toBe(
      "a-token-of-sixteen-or-more",
    );
  });

  it("keeps quiet hours of 21:00-09:00 India time unless SMS_QUIET_HOURS says otherwise; empty is none", () => {
    expect(loadConfig({}, {}).SMS_QUIET_HOURS).toEqual({ start: 21 * 60, end: 9 * 60 });
    expect(loadConfig({ SMS_QUIET_HOURS: "22:30-07:00" }, {}).SMS_QUIET_HOURS).toEqual({
      start: 22 * 60 + 30,
      end: 7 * 60,
    });
    expect(loadConfig({ SMS_QUIET_HOURS: "" }, {}).SMS_QUIET_HOURS).toBeNull();
    expect(loadConfig({}, { SMS_QUIET_HOURS: "" }).SMS_QUIET_HOURS).toBeNull();
    expect(() => loadConfig({ SMS_QUIET_HOURS: "9pm-9am" }, {})).toThrowError(
      /^Invalid SMS_QUIET_HOURS="9pm-9am": expected a window of India time such as 21:00-09:00, or empty for none/,
    );
  });

  it("reminds of a round at 18:00 the day before and 2 hours before one before 11:00, unless told", () => {
    expect(loadConfig({}, {})).toMatchObject({
      REMINDER_EVENING_AT: 18 * 60,
      REMINDER_EARLY_MINUTES: 120,
      REMINDER_EARLY_BEFORE: 11 * 60,
    });
    expect(
      loadConfig(
        { REMINDER_EVENING_AT: "", REMINDER_EARLY_MINUTES: "90", REMINDER_EARLY_BEFORE: "09:30" },
        {},
      ),
    ).toMatchObject({
      REMINDER_EVENING_AT: null,
      REMINDER_EARLY_MINUTES: 90,
      REMINDER_EARLY_BEFORE: 9 * 60 + 30,
    });
    expect(() => loadConfig({ REMINDER_EVENING_AT: "6pm" }, {})).toThrowError(
      /^Invalid REMINDER_EVENING_AT="6pm": expected a time of day in India such as 18:00, or empty for none/,
    );
    expect(() =>
      loadConfig({ REMINDER_EARLY_BEFORE: "" }, { REMINDER_EARLY_BEFORE: "25:00" }),
    ).toThrowError(/REMINDER_EARLY_BEFORE/);
  });

  it("takes the process environment over .env over defaults", () => {
    const config = loadConfig({ PORT: "4000" }, { PORT: "5000", SMS_BATCH_SIZE: "25" });
    expect(config.PORT).toBe(4000);
    expect(config.SMS_BATCH_SIZE).toBe(25);
  });

  it("writes the console as LOG_FORMAT says: auto (a terminal decides), json or pretty", () => {
    expect(loadConfig({}, {}).LOG_FORMAT).toBe("auto");
    expect(loadConfig({ LOG_FORMAT: "json" }, {}).LOG_FORMAT).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "pretty" }, {}).LOG_FORMAT).toBe("pretty");
    expect(() => loadConfig({ LOG_FORMAT: "text" }, {})).toThrowError(
      /^Invalid LOG_FORMAT="text": expected auto, json or pretty$/,
    );
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ PORT: "" }, { PORT: "5000" }).PORT).toBe(5000);
  });

  it("stops on a bad value with one line naming the variable, the value and what is allowed", () => {
    expect(() => loadConfig({ PORT: "eighty" }, {})).toThrowError(
      new ConfigError('Invalid PORT="eighty": expected a whole number from 0 to 65535'),
    );
    expect(() => loadConfig({ SMS_ENABLED: "maybe" }, {})).toThrowError(
      /^Invalid SMS_ENABLED="maybe": expected true or false$/,
    );
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" }, {})).toThrowError(
      /^Invalid DATABASE_URL="mysql:\/\/x": expected file:PATH for SQLite or postgres:\/\/\.\.\. for PostgreSQL$/,
    );
    expect(() => loadConfig({ SMS_DEFAULT_REGION: "india" }, {})).toThrowError(
      /SMS_DEFAULT_REGION.*two-letter/,
    );
  });

  it("never echoes a password inside a URL", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgre://app:S3cret@db/portal" }, {})).toThrowError(
      /^Invalid DATABASE_URL="postgre:\/\/\(hidden\)@db\/portal": expected/,
    );
  });

  it("never echoes a secret in its error", () => {
    expect(() => loadConfig({ SESSION_SECRET: "short-secret" }, {})).toThrowError(
      "Invalid SESSION_SECRET=(hidden): expected at least 32 characters",
    );
  });

  it("chooses the Twilio backend when credentials are given, and insists on a sender", () => {
    const sid = `AC${"a".repeat(32)}`;
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: "t" }, {})).toThrowError(
      /TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID/,
    );
    const config = loadConfig(
      { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: "t", TWILIO_PHONE_NUMBER: "+15005550006" },
      {},
    );
    expect(config.SMS_BACKEND).toBe("twilio");
  });

  it("refuses a TWILIO_PHONE_NUMBER that is not a phone number in E.164", () => {
    const twilio = { TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`, TWILIO_AUTH_TOKEN: "t" };
    for (const bad of ["my-office-number", "15005550006", "+1 500 555 0006", "+1500555000"])
      expect(() => loadConfig({ ...twilio, TWILIO_PHONE_NUMBER: bad }, {})).toThrowError(
        new ConfigError(
          `Invalid TWILIO_PHONE_NUMBER="${bad}": expected a phone number in E.164 form: + then the country code and the number, no spaces (such as +15005550006)`,
        ),
      );
    for (const good of ["+15005550006", "+919876543210", " +447911123456 "])
      expect(loadConfig({ ...twilio, TWILIO_PHONE_NUMBER: good }, {}).TWILIO_PHONE_NUMBER).toBe(
        good.trim(),
      );
  });

  it("requires SESSION_SECRET in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" }, {})).toThrowError(/SESSION_SECRET/);
  });

  it("runs one web process unless WEB_CONCURRENCY says more, from 1 to 64", () => {
    expect(loadConfig({}, {}).WEB_CONCURRENCY).toBe(1);
    expect(loadConfig({ WEB_CONCURRENCY: "2" }, {}).WEB_CONCURRENCY).toBe(2);
    for (const bad of ["0", "65", "two", "1.5"])
      expect(() => loadConfig({ WEB_CONCURRENCY: bad }, {})).toThrowError(
        new ConfigError(`Invalid WEB_CONCURRENCY="${bad}": expected a whole number from 1 to 64`),
      );
  });

  it("refuses several web processes on an in-memory SQLite database (each would have its own)", () => {
    expect(() =>
      loadConfig({ WEB_CONCURRENCY: "2", DATABASE_URL: "file::memory:" }, {}),
    ).toThrowError(/^Invalid WEB_CONCURRENCY=2: more than one web process needs a database file/);
    expect(loadConfig({ WEB_CONCURRENCY: "2" }, {}).DATABASE_URL).toBe("file:data/portal.db");
  });
});
