import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import PQueue from "p-queue";
import type { AppContext } from "../context.ts";
import { isConnectionError, isTransientConflict } from "../db/dialect.ts";
import type { NotificationListener } from "../db/notification-listener.ts";
import { pruneEarlyCallbacks } from "./delivery.ts";
import { isCircuitOpen, isProbing } from "./gate.ts";
import { GateKeeper } from "./gate-keeper.ts";
import {
  forgetHeartbeat,
  HEARTBEAT_PRUNE_AFTER_SECONDS,
  heartbeatEveryMs,
  pruneHeartbeats,
  recordHeartbeat,
} from "./heartbeat.ts";
import { foldHourlyCounts } from "./hourly-counts.ts";
import { MessageSender } from "./message-sender.ts";
import {
  type ClaimedSms,
  claimDue,
  expireSecrets,
  extendLeases,
  release,
  skipLateMessages,
} from "./outbox.ts";
import { Pacing } from "./pacing.ts";
import { DATABASE_BACKOFF_MAX_MS, persister } from "./persist.ts";
import { AdaptiveRate } from "./rate.ts";
import { redactOldMessages } from "./retention.ts";
import { SendBudget } from "./send-budget.ts";
import type { SmsTransport } from "./transport/types.ts";
import { listenForDueMessages } from "./wake-ups.ts";

/** Status callbacks parked for a SID that never arrived are dropped after this long. */
const EARLY_CALLBACK_MAX_AGE_MS = 24 * 3_600_000;
/**
 * How often a dispatcher does its housekeeping: a reset code's text stays in the database at most
 * this long after the code expired.
 */
const MAINTENANCE_EVERY_MS = 30_000;
/** A claim that took rows refreshes the heartbeat's last claim at most this often. */
const CLAIM_BEAT_EVERY_MS = 1_000;

/**
 * Housekeeping of other parts of the portal, handed to every dispatcher by the module that
 * composes it (src/maintenance.ts): the SMS library knows no feature. `run` returns how many rows
 * it changed, for the log.
 */
export interface MaintenanceTask {
  /** What was done, for the log line: "audit entries deleted". */
  name: string;
  run(ctx: AppContext): Promise<number>;
}

export interface DispatcherOptions {
  transport: SmsTransport;
  workerId?: string;
  /** Run with the dispatcher's own housekeeping, every MAINTENANCE_EVERY_MS. */
  maintenance?: readonly MaintenanceTask[];
}

/**
 * Sends what the outbox holds. Claims due rows in batches under a lease, sends outside any
 * transaction with at most SMS_CONCURRENCY requests in flight and at most SMS_RATE_PER_SECOND
 * segments a second for all dispatchers together (booked from one budget in the database, less
 * after a 429: see send-budget.ts and rate.ts), and records every outcome on the row.
 * Consecutive outages open a circuit shared by every dispatcher; a lost database connection
 * pauses the loop and outcomes already known are written once it is back. Several dispatchers
 * (processes) may share one PostgreSQL database.
 */
export class Dispatcher {
  readonly workerId: string;
  private readonly transport: SmsTransport;
  private readonly maintenanceTasks: readonly MaintenanceTask[];
  private readonly queue: PQueue;
  private readonly claimed = new Map<number, { row: ClaimedSms; started: boolean }>();
  readonly rate: AdaptiveRate;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  /** Ends the loop's current sleep; null while the loop is not sleeping. */
  private wakeUp: (() => void) | null = null;
  /** A wake that came while the loop was busy (claiming, say): its next sleep returns at once. */
  private wokenWhileBusy = false;
  /** On PostgreSQL, the connection that hears other processes' new messages (wake-ups.ts). */
  private listener: NotificationListener | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** Whether it may claim and start sends now, as this process knows the shared state. */
  private readonly gate: GateKeeper;
  private readonly sender: MessageSender;
  private databaseBackoffMs = 0;
  /** While the loop waits for room: wake it when the rows held fall to this many. */
  private roomAt = -1;
  /** The heartbeat being written, awaited before the row is deleted on stop. */
  private heartbeat: Promise<void> = Promise.resolve();
  private lastClaimBeatAt = 0;

  constructor(
    private readonly ctx: AppContext,
    options: DispatcherOptions,
  ) {
    this.transport = options.transport;
    this.maintenanceTasks = options.maintenance ?? [];
    this.workerId =
      options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    this.queue = new PQueue({ concurrency: ctx.config.SMS_CONCURRENCY });
    this.rate = new AdaptiveRate({ maxPerSecond: ctx.config.SMS_RATE_PER_SECOND });
    const persist = persister({ ctx, workerId: this.workerId, stopping: () => this.stopping });
    this.gate = new GateKeeper(ctx, this.workerId, this.transport, persist);
    const budget = new SendBudget(ctx, this.rate);
    const pacing = new Pacing(this.rate, budget, this.paced, this.gate, () => this.stopping);
    this.sender = new MessageSender(
      ctx,
      this.workerId,
      this.transport,
      this.rate,
      this.gate,
      pacing,
      persist,
    );
  }

  private get log() {
    return this.ctx.smsLog;
  }

  private get paced(): boolean {
    // Capturing reaches no API and no phone: nothing to pace.
    return this.transport.name !== "capture";
  }

  start(): void {
    if (this.loopDone) return;
    this.log.info(
      {
        worker: this.workerId,
        transport: this.transport.name,
        enabled: this.ctx.config.SMS_ENABLED,
      },
      "dispatcher started",
    );
    const leaseMs = this.ctx.config.SMS_LEASE_SECONDS * 1000;
    this.every(leaseMs / 3, async () => {
      await extendLeases(this.ctx, this.workerId, [...this.claimed.keys()]);
    });
    this.beat().catch(() => {});
    this.every(heartbeatEveryMs(this.ctx.config), () => this.beat());
    this.every(MAINTENANCE_EVERY_MS, () => this.maintain());
    this.maintain().catch(() => {});
    this.listener = listenForDueMessages(this.ctx, this.workerId, () => this.wake());
    this.loopDone = this.loop();
  }

  /**
   * Housekeeping any dispatcher may do (doing it twice is harmless): messages whose secret (a
   * reset code) expired lose it from their text, and are cancelled if still queued; queued
   * messages past their `not_after` are skipped, with the reason; parked status
   * callbacks whose message never got their SID (another account's, or a message lost before our
   * time) are dropped, so the table stays small; the SMS count deltas are folded into the hourly
   * counts (decision 024), so the console's readers add up few of them; messages older than
   * SMS_RETENTION_DAYS lose their text and number; then the tasks the composer handed over
   * (retention of other data).
   */
  async maintain(): Promise<void> {
    const expired = await expireSecrets(this.ctx);
    if (expired > 0)
      this.log.info(
        { worker: this.workerId, expired },
        "expired codes masked in their messages; those still queued cancelled",
      );
    const late = await skipLateMessages(this.ctx);
    if (late > 0)
      this.log.info({ worker: this.workerId, late }, "queued messages past their time skipped");
    const pruned = await pruneEarlyCallbacks(this.ctx, EARLY_CALLBACK_MAX_AGE_MS);
    if (pruned > 0) this.log.info({ worker: this.workerId, pruned }, "pruned old parked callbacks");
    const folded = await foldHourlyCounts(this.ctx);
    if (folded > 0) this.log.debug({ worker: this.workerId, folded }, "SMS count deltas folded");
    // Retention, in bounded batches (db/retention.ts): a backlog goes over several rounds.
    const { redacted, attemptsDeleted } = await redactOldMessages(this.ctx);
    if (redacted > 0)
      this.log.info(
        { worker: this.workerId, redacted, attemptsDeleted },
        "old messages' texts and numbers removed (SMS_RETENTION_DAYS)",
      );
    for (const task of this.maintenanceTasks) {
      // One task failing leaves the others to run; it is tried again next round.
      try {
        const rows = await task.run(this.ctx);
        if (rows > 0) this.ctx.log.info({ worker: this.workerId, rows }, task.name);
      } catch (error) {
        this.ctx.log.warn(
          { err: error, worker: this.workerId, task: task.name },
          "maintenance failed",
        );
      }
    }
    const gone = await pruneHeartbeats(this.ctx, HEARTBEAT_PRUNE_AFTER_SECONDS);
    if (gone > 0)
      this.log.info({ worker: this.workerId, gone }, "pruned heartbeats of dispatchers long gone");
  }

  /**
   * Writes this dispatcher's heartbeat (decision 026): the banner and /healthz call sending
   * stalled when due messages wait and no dispatcher has written one for SMS_STALLED_AFTER_SECONDS.
   */
  private beat(claimed = false): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const written = this.heartbeat.then(() =>
      recordHeartbeat(this.ctx, this.workerId, { claimed }),
    );
    this.heartbeat = written.catch(() => {});
    return written;
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error) =>
        this.log.warn({ err: error, worker: this.workerId }, "background task failed"),
      );
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * Something became due (a local commit, another process's notification): look now instead of
   * at the next poll. A wake while the loop is busy is kept for its next sleep: a claim that began
   * before the commit does not see the new row, and its sleep must not wait out the poll.
   */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wokenWhileBusy = true;
  }

  /** Rows claimed and not finished (tests wait for 0: the dispatcher holds nothing). */
  get inFlight(): number {
    return this.claimed.size;
  }

  /**
   * Graceful stop: claim nothing more, give back rows not yet started, let in-flight sends finish
   * (up to `timeoutMs`; a send still running after that is left to reconciliation by lease).
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake();
    const closingListener = this.listener?.close();
    this.queue.clear();
    const untried = [...this.claimed.values()].filter((c) => !c.started).map((c) => c.row);
    for (const row of untried) this.claimed.delete(row.id);
    await release(this.ctx, untried, this.workerId).catch((error) =>
      this.log.warn({ err: error }, "could not give rows back; their leases will run out"),
    );
    await Promise.race([
      this.queue.onIdle(),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    await this.loopDone;
    await closingListener;
    for (const timer of this.timers) clearInterval(timer);
    // No longer counted as a live dispatcher (after any heartbeat still being written).
    await this.heartbeat;
    await forgetHeartbeat(this.ctx, this.workerId).catch((error) =>
      this.log.warn({ err: error }, "could not delete the heartbeat; it will grow old instead"),
    );
    this.log.info({ worker: this.workerId, released: untried.length }, "dispatcher stopped");
  }

  /** Sleeps until at most `threshold` rows are held (or `ms` pass, or a wake). */
  private async waitForRoom(threshold: number, ms: number): Promise<void> {
    this.roomAt = threshold;
    await this.sleep(ms);
    this.roomAt = -1;
  }

  private sleep(ms: number): Promise<void> {
    // A stop that came while the loop was busy (its wake found no sleep) must not wait out a poll.
    if (this.stopping) return Promise.resolve();
    if (this.wokenWhileBusy) {
      this.wokenWhileBusy = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** How many rows to hold: about half a second of sending, at least a batch. */
  private get claimTarget(): number {
    const { SMS_BATCH_SIZE, SMS_CONCURRENCY } = this.ctx.config;
    const halfSecond = this.paced ? Math.ceil(this.rate.perSecond / 2) : 500;
    return Math.max(SMS_BATCH_SIZE, SMS_CONCURRENCY, Math.min(halfSecond, 1000));
  }

  private async loop(): Promise<void> {
    const pollMs = this.ctx.config.SMS_POLL_MS;
    while (!this.stopping) {
      try {
        const wait = await this.gate.poll();
        this.databaseBackoffMs = 0;
        if (wait > 0) {
          await this.sleep(Math.min(wait, pollMs * 5));
          continue;
        }
        if (isProbing(this.gate.state)) {
          await this.sleep(pollMs);
          continue;
        }
        const target = isCircuitOpen(this.gate.state) ? 1 : this.claimTarget;
        // Top up in batches: only once the rows held fall to half the target.
        const held = this.claimed.size;
        if (held > target / 2) {
          await this.waitForRoom(Math.floor(target / 2), pollMs);
          continue;
        }
        const rows = await claimDue(this.ctx, this.workerId, target - held);
        if (rows.length === 0) {
          if (isCircuitOpen(this.gate.state)) await this.gate.endProbe();
          await this.sleep(pollMs);
          continue;
        }
        if (Date.now() - this.lastClaimBeatAt >= CLAIM_BEAT_EVERY_MS) {
          this.lastClaimBeatAt = Date.now();
          this.beat(true).catch((error) =>
            this.log.warn({ err: error, worker: this.workerId }, "heartbeat failed"),
          );
        }
        const probe = isCircuitOpen(this.gate.state);
        if (probe) this.gate.probeClaimed();
        for (const row of rows) {
          this.claimed.set(row.id, { row, started: false });
          this.queue
            .add(() => this.send(row))
            .catch((error) =>
              this.log.error({ err: error, sms: row.id }, "unexpected error while sending"),
            )
            .finally(() => {
              this.claimed.delete(row.id);
              if (this.claimed.size <= this.roomAt) this.wake();
              // A probe that reached no verdict (skipped, given back) hands the probe on.
              if (probe && isProbing(this.gate.state)) this.gate.endProbe().catch(() => {});
            });
        }
      } catch (error) {
        await this.loopFailed(error);
      }
    }
  }

  private async loopFailed(error: unknown): Promise<void> {
    if (isConnectionError(error)) {
      // The database is away (a restart, a network cut): wait and try again, quietly after the
      // first time. Nothing is lost: the rows stay in the database.
      this.databaseBackoffMs = Math.min(
        DATABASE_BACKOFF_MAX_MS,
        Math.max(250, this.databaseBackoffMs * 2),
      );
      this.log.warn(
        {
          worker: this.workerId,
          reason: (error as Error).message,
          retryInMs: this.databaseBackoffMs,
        },
        "database unreachable; the dispatcher waits for it",
      );
      await this.sleep(this.databaseBackoffMs);
      return;
    }
    if (isTransientConflict(error)) {
      // PostgreSQL broke a deadlock by aborting this claim: nothing was taken; claim again.
      this.log.warn(
        { worker: this.workerId, reason: (error as Error).message },
        "claim aborted by a database conflict; claiming again",
      );
      return;
    }
    this.log.error({ err: error, worker: this.workerId }, "dispatcher loop error; retrying");
    this.ctx.log.error({ err: error }, "SMS dispatcher loop error");
    await this.sleep(this.ctx.config.SMS_POLL_MS);
  }

  private send(row: ClaimedSms): Promise<void> {
    const entry = this.claimed.get(row.id);
    if (entry) entry.started = true;
    return this.sender.send(row);
  }
}
