import { parseArgs } from "node:util";
import { startTwilioEmulator } from "./emulator.ts";

/** `npm run emulator -- --port 4010 [--account-sid AC...] [--auth-token ...] [--latency-ms 50] ...` */
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4010" },
    host: { type: "string", default: "127.0.0.1" },
    "account-sid": { type: "string" },
    "auth-token": { type: "string" },
    "latency-ms": { type: "string" },
    "rate-per-second": { type: "string" },
    "retry-after-seconds": { type: "string" },
    help: { type: "boolean" },
  },
});

if (values.help) {
  process.stdout.write(
    "Usage: npm run emulator -- [--port 4010] [--account-sid AC...] [--auth-token T] [--latency-ms N] [--rate-per-second N] [--retry-after-seconds N]\n",
  );
  process.exit(0);
}

const emulator = await startTwilioEmulator({
  port: Number(values.port),
  host: values.host,
  ...(values["account-sid"] ? { accountSid: values["account-sid"] } : {}),
  ...(values["auth-token"] ? { authToken: values["auth-token"] } : {}),
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
    "  TWILIO_PHONE_NUMBER=+15005550006\n" +
    "Control: GET /_emulator/messages, GET /_emulator/requests, POST /_emulator/knobs (JSON), POST /_emulator/reset\n",
);
const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
