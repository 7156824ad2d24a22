import { parseArgs } from "node:util";
import { DEFAULT_PHONE_NUMBER, startTwilioEmulator } from "./emulator.ts";

/**
 * `npm run emulator -- --port 4010 [--account-sid AC...] [--auth-token ...] [--phone-number +1...]
 * [--messaging-service-sid MG...] [--latency-ms 50] ...`; --phone-number and
 * --messaging-service-sid may be repeated: they are the account's senders, any other is refused.
 */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4010" },
    host: { type: "string", default: "127.0.0.1" },
    "account-sid": { type: "string" },
    "auth-token": { type: "string" },
    "phone-number": { type: "string", multiple: true },
    "messaging-service-sid": { type: "string", multiple: true },
    "latency-ms": { type: "string" },
    "rate-per-second": { type: "string" },
    "retry-after-seconds": { type: "string" },
    help: { type: "boolean" },
  },
});

if (values.help) {
  process.stdout.write(
    "Usage: npm run emulator -- [--port 4010] [--account-sid AC...] [--auth-token T] [--phone-number +E164]... [--messaging-service-sid MG...]... [--latency-ms N] [--rate-per-second N] [--retry-after-seconds N]\n",
  );
  process.exit(0);
}

const emulator = await startTwilioEmulator({
  port: Number(values.port),
  host: values.host,
  ...(values["account-sid"] ? { accountSid: values["account-sid"] } : {}),
  ...(values["auth-token"] ? { authToken: values["auth-token"] } : {}),
  ...(values["phone-number"] ? { phoneNumbers: values["phone-number"] } : {}),
  ...(values["messaging-service-sid"]
    ? { messagingServiceSids: values["messaging-service-sid"] }
    : {}),
  knobs: {
    ...(values["latency-ms"] ? { latencyMs: Number(values["latency-ms"]) } : {}),
    ...(values["rate-per-second"] ? { ratePerSecond: Number(values["rate-per-second"]) } : {}),
    ...(values["retry-after-seconds"]
      ? { retryAfterSeconds: Number(values["retry-after-seconds"]) }
      : {}),
  },
});

process.stdout.write(
  `Twilio emulator listening on ${emulator.url}\n` +
    `  TWILIO_API_URL=${emulator.url}\n  TWILIO_ACCOUNT_SID=${emulator.accountSid}\n  TWILIO_AUTH_TOKEN=${emulator.authToken}\n` +
    `  TWILIO_PHONE_NUMBER=${values["phone-number"]?.[0] ?? DEFAULT_PHONE_NUMBER}\n` +
    "Control: GET /_emulator/messages, GET /_emulator/requests, POST /_emulator/knobs (JSON), POST /_emulator/reset\n",
);
const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
