import type { Config } from "../../config.ts";
import { createCaptureTransport } from "./capture.ts";
import { createTwilioTransport } from "./twilio.ts";
import type { SmsTransport } from "./types.ts";

export function createTransport(config: Config): SmsTransport {
  return config.SMS_BACKEND === "twilio" ? createTwilioTransport(config) : createCaptureTransport();
}
