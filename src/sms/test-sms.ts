import type { Logger } from "pino";
import type { Config } from "../config.ts";
import { countSegments } from "./encoding.ts";
import { createSmsLogger } from "./log.ts";
import { formatPhoneE164, InvalidPhoneNumberError } from "./phone.ts";
import { testSms } from "./templates.ts";
import { createTransport } from "./transport/index.ts";
import { TransportError } from "./transport/types.ts";

/** Shows a secret's shape without the secret: "abcd…(32 characters)". */
export function maskSecret(value: string | undefined): string {
  if (!value) return "(not set)";
  return `${value.slice(0, 4)}…(${value.length} characters)`;
}

export class TestSmsError extends Error {
  override name = "TestSmsError";
}

/**
 * `portal test-sms`: prints the effective SMS settings (secrets masked), checks the credentials,
 * formats the number, and sends a test message straight through the transport (not the outbox),
 * printing its SID. Throws TestSmsError with a
 * one-line reason on any failure.
 *
 * Every step also goes to the SMS log (`LOG_DIR/sms.log`, `kind: "test"`) as the dispatcher logs
 * its own: settings checked, credentials ok or refused, sending, sent with SID or failed with code.
 * The number is masked there as everywhere in that log.
 */
export async function runTestSms(
  config: Config,
  rawNumber: string,
  options: {
    dryRun: boolean;
    now?: Date;
    log?: Logger;
    /** The office's current text of the test message (default: the code's default text). */
    text?: string;
  },
  print: (line: string) => void,
): Promise<{ sid: string | null }> {
  const log = options.log ?? createSmsLogger(config);
  const fields = { kind: "test" };
  print("SMS settings:");
  print(`  SMS_ENABLED            ${config.SMS_ENABLED}`);
  print(`  SMS_BACKEND            ${config.SMS_BACKEND}`);
  if (config.SMS_BACKEND === "twilio") {
    print(
      `  TWILIO_API_URL         ${config.TWILIO_API_URL ?? "https://api.twilio.com (default)"}`,
    );
    print(`  TWILIO_ACCOUNT_SID     ${config.TWILIO_ACCOUNT_SID}`);
    print(`  TWILIO_AUTH_TOKEN      ${maskSecret(config.TWILIO_AUTH_TOKEN)}`);
    print(
      config.TWILIO_MESSAGING_SERVICE_SID
        ? `  MESSAGING_SERVICE_SID  ${config.TWILIO_MESSAGING_SERVICE_SID}`
        : `  TWILIO_PHONE_NUMBER    ${config.TWILIO_PHONE_NUMBER}`,
    );
    print(
      `  PUBLIC_BASE_URL        ${config.PUBLIC_BASE_URL ?? "(not set: no delivery callbacks)"}`,
    );
  } else {
    print("  (capture mode: no Twilio credentials; the message is captured, not sent to a phone)");
  }
  print(`  SMS_DEFAULT_REGION     ${config.SMS_DEFAULT_REGION}`);
  log.info(
    {
      ...fields,
      backend: config.SMS_BACKEND,
      enabled: config.SMS_ENABLED,
      region: config.SMS_DEFAULT_REGION,
      callbacks: Boolean(config.PUBLIC_BASE_URL),
    },
    "test-sms: settings checked",
  );

  let to: string;
  try {
    to = formatPhoneE164(rawNumber, config.SMS_DEFAULT_REGION);
  } catch (error) {
    const reason = error instanceof InvalidPhoneNumberError ? error.reason : String(error);
    log.warn({ ...fields, to: rawNumber, reason }, "test-sms: not a usable number");
    throw new TestSmsError(`${JSON.stringify(rawNumber)} is not a usable number: ${reason}`);
  }
  print(`Number: ${rawNumber} -> ${to}`);

  const transport = createTransport(config);
  try {
    const account = await transport.checkAccount();
    print(`Credentials: OK (${account.friendlyName}, ${account.status})`);
    log.info({ ...fields, accountStatus: account.status }, "test-sms: credentials ok");
  } catch (error) {
    log.error(
      { ...fields, ...errorFields(error), reason: describe(error) },
      "test-sms: credentials refused",
    );
    throw new TestSmsError(`credentials check failed: ${describe(error)}`);
  }

  const body = testSms.render({ time: (options.now ?? new Date()).toISOString() }, options.text);
  const { encoding, segments } = countSegments(body);
  print(
    `Message: ${JSON.stringify(body)} (${encoding}, ${segments} segment${segments === 1 ? "" : "s"})`,
  );
  if (options.dryRun) {
    print("Dry run: not sent.");
    log.info({ ...fields, to }, "test-sms: dry run, not sent");
    return { sid: null };
  }
  if (!config.SMS_ENABLED) {
    log.info({ ...fields, to }, "test-sms: skipped: SMS is disabled");
    throw new TestSmsError("SMS_ENABLED=false: not sending");
  }
  try {
    log.info({ ...fields, to, encoding, segments }, "test-sms: sending");
    const result = await transport.send({ to, body });
    const captured = transport.name === "capture";
    print(
      captured
        ? `Captured (not sent to a phone): SID ${result.sid}`
        : `Sent: SID ${result.sid} (status ${result.providerStatus})`,
    );
    log.info(
      { ...fields, to, sid: result.sid, status: result.providerStatus },
      captured ? "test-sms: captured (not sent to a phone)" : "test-sms: sent",
    );
    return { sid: result.sid };
  } catch (error) {
    log.warn({ ...fields, to, ...errorFields(error), reason: describe(error) }, "test-sms: failed");
    throw new TestSmsError(`sending failed: ${describe(error)}`);
  }
}

/** Twilio's error code and the HTTP status, as the dispatcher logs them. */
function errorFields(error: unknown): { code?: number; httpStatus?: number } {
  if (!(error instanceof TransportError)) return {};
  return {
    ...(error.code ? { code: error.code } : {}),
    ...(error.status ? { httpStatus: error.status } : {}),
  };
}

function describe(error: unknown): string {
  if (error instanceof TransportError) {
    const parts = [
      error.status ? `HTTP ${error.status}` : null,
      error.code ? `Twilio error ${error.code}` : null,
    ];
    return `${parts.filter(Boolean).join(", ")}${parts.some(Boolean) ? ": " : ""}${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
