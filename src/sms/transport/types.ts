/** What the dispatcher needs from a way of sending SMS. */

export interface OutgoingSms {
  to: string;
  body: string;
  /** Where Twilio posts delivery updates; absent without PUBLIC_BASE_URL. */
  statusCallback?: string | undefined;
}

export interface SendResult {
  sid: string;
  /** The provider's word for the status ("queued", "accepted"; "captured" for the capture transport). */
  providerStatus: string;
}

export interface SentMessage {
  sid: string;
  to: string;
  /** null when Twilio does not return it (a redacted message). */
  body: string | null;
  /** Twilio's segment count, when it gives one. */
  segments: number | null;
  status: string;
  dateCreated: Date | null;
}

export interface AccountInfo {
  sid: string;
  friendlyName: string;
  status: string;
}

export interface SmsTransport {
  readonly name: "twilio" | "capture";
  send(message: OutgoingSms): Promise<SendResult>;
  /** Messages to `to` created since `since`, newest first: how a lost answer is recovered. */
  findSent(to: string, since: Date): Promise<SentMessage[]>;
  /** Checks the credentials against the API (an account fetch). */
  checkAccount(): Promise<AccountInfo>;
}

/**
 * A failed call, as data: HTTP status and Twilio's code when there was an answer, `network` when
 * there was none (refused, reset, timed out).
 */
export class TransportError extends Error {
  override name = "TransportError";
  readonly status: number | null;
  readonly code: number | null;
  readonly retryAfterSeconds: number | null;
  /** No answer arrived. `connectFailed`: and the request certainly never reached the API. */
  readonly network: boolean;
  readonly connectFailed: boolean;

  constructor(
    message: string,
    fields: {
      status?: number | null;
      code?: number | null;
      retryAfterSeconds?: number | null;
      network?: boolean;
      connectFailed?: boolean;
    },
  ) {
    super(message);
    this.status = fields.status ?? null;
    this.code = fields.code ?? null;
    this.retryAfterSeconds = fields.retryAfterSeconds ?? null;
    this.network = fields.network ?? false;
    this.connectFailed = fields.connectFailed ?? false;
  }
}
