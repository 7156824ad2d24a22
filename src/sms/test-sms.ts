import type { Config } from "../config.ts";
import { countSegments } from "./encoding.ts";
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
 * `portal test-sms`: the successor of the original `manage.py test_sms`. Prints the effective SMS
 * settings (secrets masked), checks the credentials, formats the number, and sends a test message
 * straight through the transport (not the outbox), printing its SID. Throws TestSmsError with a
 * one-line reason on any failure.
 */
export async function runTestSms(
  config: Config,
  rawNumber: string,
  options: { dryRun: boolean; now?: Date },
  print: (line: string) => void,
): Promise<{ sid: string | null }> {
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

  let to: string;
  try {
    to = formatPhoneE164(rawNumber, config.SMS_DEFAULT_REGION);
  } catch (error) {
    const reason = error instanceof InvalidPhoneNumberError ? error.reason : String(error);
    throw new TestSmsError(`${JSON.stringify(rawNumber)} is not a usable number: ${reason}`);
  }
  print(`Number: ${rawNumber} -> ${to}`);

  const transport = createTransport(config);
  try {
    const account = await transport.checkAccount();
    print(`Credentials: OK (${account.friendlyName}, ${account.status})`);
  } catch (error) {
    throw new TestSmsError(`credentials check failed: ${describe(error)}`);
  }

  const body = testSms.render({ time: (options.now ?? new Date()).toISOString() });
  const { encoding, segments } = countSegments(body);
  print(
    `Message: ${JSON.stringify(body)} (${encoding}, ${segments} segment${segments === 1 ? "" : "s"})`,
  );
  if (options.dryRun) {
    print("Dry run: not sent.");
    return { sid: null };
  }
  if (!config.SMS_ENABLED) throw new TestSmsError("SMS_ENABLED=false: not sending");
  try {
    const result = await transport.send({ to, body });
    print(
      transport.name === "capture"
        ? `Captured (not sent to a phone): SID ${result.sid}`
        : `Sent: SID ${result.sid} (status ${result.providerStatus})`,
    );
    return { sid: result.sid };
  } catch (error) {
    throw new TestSmsError(`sending failed: ${describe(error)}`);
  }
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
