import { randomBytes } from "node:crypto";
import type { AccountInfo, OutgoingSms, SendResult, SmsTransport } from "./types.ts";

/**
 * The transport used when no Twilio credentials are configured: the message is recorded on this
 * server as "captured" (shown on the admin SMS page) and goes to no phone. It never claims "sent".
 */
export function createCaptureTransport(): SmsTransport {
  return {
    name: "capture",
    async send(_message: OutgoingSms): Promise<SendResult> {
      return { sid: `CP${randomBytes(16).toString("hex")}`, providerStatus: "captured" };
    },
    // Nothing leaves this server, so a lost answer loses nothing: capturing again is harmless.
    async findSent() {
      return [];
    },
    async checkAccount(): Promise<AccountInfo> {
      return {
        sid: "capture",
        friendlyName: "Local capture (no Twilio account)",
        status: "capture",
      };
    },
  };
}
