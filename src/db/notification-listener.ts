import pg from "pg";

/**
 * One PostgreSQL connection that LISTENs on a channel and reports each notification, kept open
 * for as long as the listener lives: when the connection drops (a database restart, an admin's
 * pg_terminate_backend, a network cut that the liveness check finds) it connects again, waiting
 * longer after each failed try, and says so each time LISTEN is in place, because notifications
 * sent while it was away are lost for good. PostgreSQL only: `hasNotifications` in dialect.ts
 * says where it applies.
 *
 * Not a pooled connection: LISTEN belongs to the session that ran it, and the pool hands its
 * connections to whoever asks next.
 */

export interface NotificationListenerOptions {
  url: string;
  /** A plain identifier (letters, digits, underscores): it is written into LISTEN as it is. */
  channel: string;
  /** Shown in pg_stat_activity, so an operator (or a test) can tell this connection apart. */
  applicationName: string;
  /** A notification on the channel arrived. */
  onNotification(): void;
  /**
   * LISTEN is in place: at start, and again after each lost connection. Anything notified before
   * (while connecting, while away) was missed.
   */
  onListening(): void;
  /** The connection was lost, or a try to open it failed; the next try is in `retryInMs`. */
  onConnectionLost?(error: Error, retryInMs: number): void;
  /** First wait before connecting again; doubles after each failed try. */
  retryMinMs?: number;
  /** Longest wait between tries. */
  retryMaxMs?: number;
  /**
   * How often an idle connection is checked with `select 1`: a connection cut without a word
   * (a switch that died, a firewall that forgot it) would otherwise wait silently for ever.
   */
  livenessCheckMs?: number;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;

export class NotificationListener {
  private readonly options: Required<Omit<NotificationListenerOptions, "onConnectionLost">> &
    Pick<NotificationListenerOptions, "onConnectionLost">;
  private client: pg.Client | null = null;
  private closed = false;
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private livenessTimer: NodeJS.Timeout | null = null;
  /** How many times LISTEN has been put in place (1 once started, more after reconnections). */
  listens = 0;

  constructor(options: NotificationListenerOptions) {
    if (!CHANNEL_NAME.test(options.channel))
      throw new Error(`not a plain channel name: ${options.channel}`);
    this.options = {
      retryMinMs: 250,
      retryMaxMs: 10_000,
      livenessCheckMs: 30_000,
      ...options,
    };
  }

  /** Connects and listens; failures are retried in the background, never thrown. */
  start(): void {
    this.connect();
  }

  /** Closes the connection and stops trying to connect. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopLivenessCheck();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private connect(): void {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: this.options.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      // A liveness check (or LISTEN) unanswered this long means the connection is gone.
      query_timeout: this.options.livenessCheckMs,
    });
    this.client = client;
    let lost = false;
    const connectionLost = (error: Error) => {
      if (lost || this.closed) return;
      lost = true;
      if (this.client === client) this.client = null;
      this.stopLivenessCheck();
      client.end().catch(() => {});
      this.retryLater(error);
    };
    client.on("error", connectionLost);
    client.on("end", () => connectionLost(new Error("the listening connection was closed")));
    client.on("notification", (message) => {
      if (message.channel === this.options.channel) this.options.onNotification();
    });
    (async () => {
      await client.connect();
      await client.query(`LISTEN ${this.options.channel}`);
    })().then(
      () => {
        if (lost) return;
        if (this.closed) {
          client.end().catch(() => {});
          return;
        }
        this.retryMs = 0;
        this.listens += 1;
        this.startLivenessCheck(client, connectionLost);
        this.options.onListening();
      },
      (error: Error) => connectionLost(error),
    );
  }

  private retryLater(error: Error): void {
    const { retryMinMs, retryMaxMs } = this.options;
    this.retryMs = Math.min(retryMaxMs, Math.max(retryMinMs, this.retryMs * 2));
    this.options.onConnectionLost?.(error, this.retryMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private startLivenessCheck(client: pg.Client, connectionLost: (error: Error) => void): void {
    this.stopLivenessCheck();
    const { livenessCheckMs } = this.options;
    this.livenessTimer = setInterval(() => {
      client.query("select 1").catch((error: Error) => connectionLost(error));
    }, livenessCheckMs);
    this.livenessTimer.unref();
  }

  private stopLivenessCheck(): void {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.livenessTimer = null;
  }
}
