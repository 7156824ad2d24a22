import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import PQueue from "p-queue";
import type { AppContext } from "../context.ts";
import { isConnectionError, isTransientConflict } from "../db/dialect.ts";
import type { SmsAttemptOutcome } from "../db/schema.ts";
import { applyEarlyCallbacks, applyStatusCallback, pruneEarlyCallbacks } from "./delivery.ts";
import { backoffMs, classifySendError, type SendFailure } from "./errors.ts";
import * as gate from "./gate.ts";
import {
  type AttemptRecord,
  type ClaimedSms,
  claimDue,
  extendLeases,
  knownSids,
  markFinal,
  markRetry,
  markSent,
  markStudentOptedOut,
  pauseAllFor,
  probeFailed,
  readDispatchTimers,
  recordApiAnswered,
  recordOutageFailure,
  release,
  sendCheck,
  setCredentialsError,
  takeProbe,
} from "./outbox.ts";
import { AdaptiveRate } from "./rate.ts";
import { sameText } from "./reconcile.ts";
import type { SmsTransport } from "./transport/types.ts";

/** How far before the unconfirmed attempt to look in Twilio's list, for clock skew. */
const RECONCILE_MARGIN_MS = 5 * 60 * 1000;
/** How long a dispatcher may hold the circuit's one probe before another may take it. */
const PROBE_HOLD_SECONDS = 60;
/** Status callbacks parked for a SID that never arrived are dropped after this long. */
const EARLY_CALLBACK_MAX_AGE_MS = 24 * 3_600_000;
const MAINTENANCE_EVERY_MS = 5 * 60_000;
/** The longest single wait of a send waiting for its slot, so that a stop is noticed. */
const NAP_MS = 250;
/** Longest wait between tries while the database is unreachable. */
const DATABASE_BACKOFF_MAX_MS = 10_000;

export interface DispatcherOptions {
  transport: SmsTransport;
  workerId?: string;
}

type LogFields = Record<string, unknown>;

/**
 * Sends what the outbox holds. Claims due rows in batches under a lease, sends outside any
 * transaction with at most SMS_CONCURRENCY requests in flight and at most SMS_RATE_PER_SECOND
 * segments a second (less after a 429: see rate.ts), and records every outcome on the row.
 * Consecutive outages open a circuit shared by every dispatcher; a lost database connection
 * pauses the loop and outcomes already known are written once it is back. Several dispatchers
 * (processes) may share one PostgreSQL database.
 */
export class Dispatcher {
  readonly workerId: string;
  private readonly transport: SmsTransport;
  private readonly queue: PQueue;
  private readonly claimed = new Map<number, { row: ClaimedSms; started: boolean }>();
  readonly rate: AdaptiveRate;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** Whether it may claim and start sends now, as this process knows the shared state. */
  private gate: gate.Gate = gate.initialGate;
  private databaseBackoffMs = 0;
  /** While the loop waits for room: wake it when the rows held fall to this many. */
  private roomAt = -1;

  constructor(
    private readonly ctx: AppContext,
    options: DispatcherOptions,
  ) {
    this.transport = options.transport;
    this.workerId =
      options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    this.queue = new PQueue({ concurrency: ctx.config.SMS_CONCURRENCY });
    this.rate = new AdaptiveRate({ maxPerSecond: ctx.config.SMS_RATE_PER_SECOND });
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
    this.every(MAINTENANCE_EVERY_MS, () => this.maintain());
    this.maintain().catch(() => {});
    this.loopDone = this.loop();
  }

  /**
   * Housekeeping any dispatcher may do (doing it twice is harmless): drops parked status
   * callbacks whose message never got their SID (another account's, or a message lost before our
   * time), so the table stays small.
   */
  async maintain(): Promise<void> {
    const pruned = await pruneEarlyCallbacks(this.ctx, EARLY_CALLBACK_MAX_AGE_MS);
    if (pruned > 0) this.log.info({ worker: this.workerId, pruned }, "pruned old parked callbacks");
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

  /** A local enqueue committed: look now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
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
    for (const timer of this.timers) clearInterval(timer);
    this.log.info({ worker: this.workerId, released: untried.length }, "dispatcher stopped");
  }

  /** Sleeps until at most `threshold` rows are held (or `ms` pass, or a wake). */
  private async waitForRoom(threshold: number, ms: number): Promise<void> {
    this.roomAt = threshold;
    await this.sleep(ms);
    this.roomAt = -1;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
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
        const wait = await this.pauseRemaining();
        this.databaseBackoffMs = 0;
        if (wait > 0) {
          await this.sleep(Math.min(wait, pollMs * 5));
          continue;
        }
        if (gate.isProbing(this.gate)) {
          await this.sleep(pollMs);
          continue;
        }
        const target = gate.isCircuitOpen(this.gate) ? 1 : this.claimTarget;
        // Top up in batches: only once the rows held fall to half the target.
        const held = this.claimed.size;
        if (held > target / 2) {
          await this.waitForRoom(Math.floor(target / 2), pollMs);
          continue;
        }
        const rows = await claimDue(this.ctx, this.workerId, target - held);
        if (rows.length === 0) {
          if (gate.isCircuitOpen(this.gate)) await this.endProbe();
          await this.sleep(pollMs);
          continue;
        }
        const probe = gate.isCircuitOpen(this.gate);
        if (probe) this.gate = gate.probeClaimed(this.gate);
        for (const row of rows) {
          this.claimed.set(row.id, { row, started: false });
          this.queue
            .add(() => this.process(row))
            .catch((error) =>
              this.log.error({ err: error, sms: row.id }, "unexpected error while sending"),
            )
            .finally(() => {
              this.claimed.delete(row.id);
              if (this.claimed.size <= this.roomAt) this.wake();
              // A probe that reached no verdict (skipped, given back) hands the probe on.
              if (probe && gate.isProbing(this.gate)) this.endProbe().catch(() => {});
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

  /**
   * Milliseconds until sending may resume: an admin pause, refused credentials, an open circuit
   * or a shared rate-limit pause. Half open, it takes the probe if it can (and then claims one row
   * only).
   */
  private async pauseRemaining(): Promise<number> {
    const now = Date.now();
    const state = await readDispatchTimers(this.ctx);
    const { pollMs, credentialsRecheckMs } = this.gateSettings();
    const polled = gate.pollGate(this.gate, state, now, { pollMs, credentialsRecheckMs });
    this.gate = polled.gate;
    this.logGateEvents(polled.events);
    if (polled.step.next === "wait") return polled.step.ms;
    if (polled.step.next === "recheck-credentials") {
      try {
        await this.transport.checkAccount();
        await setCredentialsError(this.ctx, null);
        this.gate = gate.credentialsAccepted(this.gate);
        this.log.info({ worker: this.workerId }, "credentials accepted again: sending resumes");
      } catch (error) {
        this.log.warn(
          { worker: this.workerId, reason: (error as Error).message },
          "credentials still refused",
        );
        return credentialsRecheckMs;
      }
    }
    const circuit = gate.pollCircuit(this.gate, state.circuitOpenMs);
    this.gate = circuit.gate;
    this.logGateEvents(circuit.events);
    if (circuit.step.next === "wait") return circuit.step.ms;
    if (
      circuit.step.next === "take-probe" &&
      !(await takeProbe(this.ctx, this.workerId, PROBE_HOLD_SECONDS))
    )
      return pollMs;
    return gate.pauseLeft(this.gate, now);
  }

  private gateSettings(): gate.GateSettings {
    return {
      pollMs: this.ctx.config.SMS_POLL_MS,
      credentialsRecheckMs: this.ctx.config.SMS_CREDENTIALS_RECHECK_SECONDS * 1000,
    };
  }

  private logGateEvents(events: gate.GateEvent[]): void {
    for (const happened of events) {
      switch (happened.event) {
        case "admin-paused":
          this.log.info(
            { worker: this.workerId, since: happened.since },
            "sending paused by an admin: nothing is claimed until resumed",
          );
          break;
        case "still-admin-paused":
          this.log.info(
            { worker: this.workerId, since: happened.since },
            "still paused by an admin: nothing is claimed",
          );
          break;
        case "admin-resumed":
          this.log.info({ worker: this.workerId }, "resumed by an admin: sending resumes");
          break;
        case "circuit-closed":
          this.log.info({ worker: this.workerId }, "circuit closed: sending resumes");
          break;
      }
    }
  }

  /** Nothing to probe with (no due row): give the probe back for whoever queues next. */
  private async endProbe(): Promise<void> {
    this.gate = gate.probeEnded(this.gate);
    await probeFailed(this.ctx, this.workerId, 0);
  }

  /**
   * Waits for a sending slot: the adaptive pace in segments, no start during a 429 pause or while
   * the circuit is open (except the probe). False when the row should go back untried.
   */
  private async takeSlot(row: ClaimedSms): Promise<boolean> {
    if (!this.paced) return !this.stopping && !gate.isAdminPaused(this.gate);
    for (;;) {
      if (this.stopping || !gate.sendMayStart(this.gate)) return false;
      const pause = gate.pausedUntil(this.gate) - Date.now();
      if (pause > 0) {
        await this.nap(pause);
        continue;
      }
      for (let wait = this.rate.reserve(row.segments); wait > 0; wait -= NAP_MS)
        if (!(await this.nap(wait))) return false;
      // A 429 may have arrived while this one waited: wait that out too.
      if (Date.now() >= gate.pausedUntil(this.gate)) return true;
    }
  }

  /**
   * The last gate, right before the HTTP call (after the database check, whose time varies):
   * no more segments start in any second than the pace allows. False when stopping.
   */
  private async admit(row: ClaimedSms): Promise<boolean> {
    if (!this.paced) return true;
    for (let wait = this.rate.admit(row.segments); wait > 0; wait = this.rate.admit(row.segments))
      if (!(await this.nap(wait))) return false;
    return true;
  }

  /** Waits `ms`, in slices short enough to notice a stop; false when stopping. */
  private async nap(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, Math.min(NAP_MS, ms)));
    return !this.stopping;
  }

  private statusCallbackUrl(): string | undefined {
    const base = this.ctx.config.PUBLIC_BASE_URL;
    return base ? new URL("/webhooks/twilio/status", base).toString() : undefined;
  }

  private async process(row: ClaimedSms): Promise<void> {
    const entry = this.claimed.get(row.id);
    if (entry) entry.started = true;
    const fields = {
      sms: row.id,
      kind: row.kind,
      to: row.to_e164,
      attempt: row.attempts,
      worker: this.workerId,
    };
    if (gate.isCredentialsRefused(this.gate))
      return this.persist(() => release(this.ctx, [row], this.workerId));
    if (row.needsReconcile) {
      let found: boolean;
      try {
        found = await this.reconcile(row);
      } catch (error) {
        return this.lookupFailed(row, error, fields);
      }
      if (found) return;
    }
    if (this.expired(row)) {
      const hours = this.ctx.config.SMS_GIVE_UP_HOURS;
      return this.fail(
        row,
        row.error_code,
        `not sent within ${hours} h of being queued; gave up`,
        fields,
      );
    }
    if (!(await this.takeSlot(row)))
      return this.persist(() => release(this.ctx, [row], this.workerId));
    // Checked again at the last moment: settings, opt-out and the lease (by the database's clock).
    const check = await this.persist(() => sendCheck(this.ctx, row, this.workerId));
    if (!check.leaseHeld) {
      this.log.warn(fields, "lease lost before sending: left to its new holder");
      return;
    }
    if (!this.ctx.config.SMS_ENABLED) {
      await this.persist(() =>
        markFinal(this.ctx, row, this.workerId, {
          status: "skipped",
          code: null,
          reason: "SMS is disabled",
        }),
      );
      this.log.info(fields, "skipped: SMS is disabled");
      return;
    }
    if (check.optedOut) {
      await this.persist(() =>
        markFinal(this.ctx, row, this.workerId, {
          status: "skipped",
          code: null,
          reason: "Student opted out of SMS",
        }),
      );
      this.log.info(fields, "skipped: student opted out");
      return;
    }
    if (!(await this.admit(row)))
      return this.persist(() => release(this.ctx, [row], this.workerId));
    this.log.info(fields, `sending (attempt ${row.attempts})`);
    let result: Awaited<ReturnType<SmsTransport["send"]>>;
    const startedAt = Date.now();
    const attemptStarted = this.ctx.clock.now().toISOString();
    try {
      result = await this.transport.send({
        to: row.to_e164,
        body: row.body,
        statusCallback: this.statusCallbackUrl(),
      });
    } catch (error) {
      return this.recordFailure(row, error, fields, startedAt, attemptStarted);
    }
    this.rate.recordAccepted(row.segments, startedAt);
    const captured = this.transport.name === "capture";
    await this.answered();
    const outcome = await this.persist(() =>
      markSent(
        this.ctx,
        row,
        this.workerId,
        { ...result, captured },
        { startedAt: attemptStarted, outcome: captured ? "captured" : "sent" },
      ),
    );
    if (outcome !== "lost") await this.persist(() => applyEarlyCallbacks(this.ctx, result.sid));
    if (outcome === "lost")
      this.log.error(
        { ...fields, sid: result.sid },
        "sent, but another worker had already recorded this message: Twilio may hold two",
      );
    else
      this.log.info(
        { ...fields, sid: result.sid, ...(outcome === "sent" ? {} : { note: outcome }) },
        captured ? "captured (not sent to a phone)" : "sent",
      );
  }

  /**
   * Writes an outcome that is already known (Twilio answered) even if the database is away right
   * now or aborted the write to break a deadlock: it tries again until the write goes through or
   * the dispatcher stops, so a restart of the database costs a wait, not a lease's worth of doubt.
   */
  private async persist<T>(write: () => Promise<T>): Promise<T> {
    let delay = 250;
    for (;;) {
      try {
        return await write();
      } catch (error) {
        const unreachable = isConnectionError(error);
        if (!(unreachable || isTransientConflict(error)) || this.stopping) throw error;
        this.log.warn(
          { worker: this.workerId, reason: (error as Error).message, retryInMs: delay },
          unreachable
            ? "database unreachable while recording an outcome; trying again"
            : "database conflict while recording an outcome; trying again",
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(DATABASE_BACKOFF_MAX_MS, delay * 2);
      }
    }
  }

  /** Twilio gave a definite answer: the outage count restarts (and a probe closes the circuit). */
  private async answered(): Promise<void> {
    this.gate = gate.probeEnded(this.gate);
    if (!gate.answerMustBeRecorded(this.gate)) return;
    this.gate = gate.outageCountReset(this.gate);
    if (await this.persist(() => recordApiAnswered(this.ctx))) {
      if (gate.isCircuitOpen(this.gate))
        this.log.info({ worker: this.workerId }, "Twilio answers again: circuit closed");
    }
    this.gate = gate.circuitClosed(this.gate);
  }

  /** True when Twilio already has this message (an earlier attempt's answer was lost). */
  private async reconcile(row: ClaimedSms): Promise<boolean> {
    const lookupStarted = this.ctx.clock.now().toISOString();
    const since = new Date(Date.parse(row.unconfirmed_attempt_at!) - RECONCILE_MARGIN_MS);
    const candidates = (await this.transport.findSent(row.to_e164, since)).filter((m) =>
      sameText(row.body, m.body),
    );
    const taken = await this.persist(() =>
      knownSids(
        this.ctx,
        candidates.map((m) => m.sid),
      ),
    );
    const match = candidates.find((m) => !taken.has(m.sid));
    const fields = { sms: row.id, to: row.to_e164, worker: this.workerId };
    if (!match) {
      this.log.info(fields, "reconciled: not found at Twilio");
      return false;
    }
    // Recorded as just accepted, then moved forward to what Twilio says now (delivered, failed...)
    // by the same rule the callbacks follow, along with any callback that arrived meanwhile.
    const outcome = await this.persist(() =>
      markSent(
        this.ctx,
        row,
        this.workerId,
        {
          sid: match.sid,
          providerStatus: "queued",
          captured: false,
        },
        { startedAt: lookupStarted, outcome: "reconciled" },
      ),
    );
    if (outcome !== "lost") {
      await applyStatusCallback(this.ctx, {
        sid: match.sid,
        status: match.status,
        errorCode: null,
      });
      await applyEarlyCallbacks(this.ctx, match.sid);
    }
    this.log.info({ ...fields, sid: match.sid }, "reconciled: already sent, not sending again");
    return true;
  }

  /**
   * The look-up that decides whether a message already went out has failed. The row stays
   * "maybe sent" whatever the error: it is never sent blind, and never made final by a failed
   * look-up.
   */
  private async lookupFailed(row: ClaimedSms, error: unknown, fields: LogFields): Promise<void> {
    const failure = classifySendError(error, row.attempts, this.retryPolicy());
    const reason = `could not ask Twilio whether it was sent: ${"reason" in failure ? failure.reason : ""}`;
    if (failure.action === "credentials") return this.credentialsFailed(row, failure, fields);
    const delayMs =
      failure.action === "retry" ? failure.delayMs : backoffMs(row.attempts, this.retryPolicy());
    if (failure.action === "retry" && failure.pauseAll) await this.pause(failure.delayMs);
    if (failure.action === "retry" && failure.outage) await this.outage();
    else await this.answered();
    await this.persist(() =>
      markRetry(this.ctx, row, this.workerId, {
        delayMs: gate.isCircuitOpen(this.gate) ? 0 : delayMs,
        code: failure.code,
        reason,
        outcomeUnknown: true,
        countsAsAttempt: false,
      }),
    );
    this.log.warn(
      { ...fields, code: failure.code, reason, delayMs },
      "retry later (look-up failed)",
    );
  }

  private retryPolicy() {
    const config = this.ctx.config;
    return {
      baseDelayMs: config.SMS_RETRY_DELAY_SECONDS * 1000,
      maxDelayMs: config.SMS_RETRY_MAX_DELAY_SECONDS * 1000,
    };
  }

  private async pause(ms: number): Promise<void> {
    this.gate = gate.rateLimited(this.gate, Date.now() + ms);
    await this.persist(() => pauseAllFor(this.ctx, ms));
  }

  /** One more outage-like failure, counted for every dispatcher; may open (or keep open) the circuit. */
  private async outage(): Promise<void> {
    const { SMS_CIRCUIT_FAILURES: threshold, SMS_CIRCUIT_OPEN_SECONDS: openSeconds } =
      this.ctx.config;
    this.gate = gate.outageCounted(this.gate);
    if (gate.isProbing(this.gate)) {
      this.gate = gate.probeFailed(this.gate);
      await this.persist(() => probeFailed(this.ctx, this.workerId, openSeconds));
      this.log.warn({ worker: this.workerId, openSeconds }, "probe failed: circuit stays open");
      return;
    }
    const result = await this.persist(() => recordOutageFailure(this.ctx, threshold, openSeconds));
    if (result.open) this.gate = gate.circuitOpened(this.gate);
    if (result.opened)
      this.log.warn(
        { worker: this.workerId, failures: result.failures, openSeconds },
        "Twilio looks down: circuit open, sending stopped for every dispatcher; one probe at a time",
      );
  }

  /** Too old to keep trying (SMS_GIVE_UP_HOURS after it was queued). */
  private expired(row: ClaimedSms): boolean {
    return Date.now() - Date.parse(row.created_at) > this.ctx.config.SMS_GIVE_UP_HOURS * 3_600_000;
  }

  private async recordFailure(
    row: ClaimedSms,
    error: unknown,
    fields: LogFields,
    startedAt: number,
    attemptStarted: string,
  ): Promise<void> {
    const failure = classifySendError(error, row.attempts, this.retryPolicy());
    const attempt = (outcome: SmsAttemptOutcome) => ({ startedAt: attemptStarted, outcome });
    switch (failure.action) {
      case "retry": {
        if (failure.pauseAll) {
          this.rate.rateLimited(startedAt);
          await this.pause(failure.delayMs);
        }
        if (failure.outage) await this.outage();
        else await this.answered();
        if (failure.countsAsAttempt && this.expired(row))
          return this.giveUp(row, failure, fields, attempt("failed"));
        // While the circuit is open the circuit does the waiting: the row is due again as soon
        // as it closes, and the outage has not cost it anything.
        const inOutage = failure.outage && gate.isCircuitOpen(this.gate);
        const retry = {
          ...failure,
          delayMs: inOutage ? 0 : failure.delayMs,
          countsAsAttempt: failure.countsAsAttempt && !inOutage,
        };
        await this.persist(() => markRetry(this.ctx, row, this.workerId, retry, attempt("retry")));
        this.log.warn(
          {
            ...fields,
            code: failure.code,
            reason: failure.reason,
            delayMs: retry.delayMs,
            pauseAll: failure.pauseAll,
            circuitOpen: gate.isCircuitOpen(this.gate),
          },
          "retry later",
        );
        return;
      }
      case "fail":
        await this.answered();
        return this.fail(row, failure.code, failure.reason, fields, attempt("failed"));
      case "opted_out":
        await this.answered();
        await this.fail(row, failure.code, failure.reason, fields, attempt("opted_out"));
        if (row.student_id) {
          const studentId = row.student_id;
          await this.persist(() => markStudentOptedOut(this.ctx, studentId));
        }
        this.log.warn({ ...fields, code: failure.code }, "student marked opted out (replied STOP)");
        return;
      case "credentials":
        return this.credentialsFailed(row, failure, fields, attempt("credentials"));
    }
  }

  /** Final: the row is `failed` with Twilio's code and the reason, and the log says so. */
  private async fail(
    row: ClaimedSms,
    code: number | null,
    reason: string,
    fields: LogFields,
    attempt?: AttemptRecord,
  ): Promise<void> {
    await this.persist(() =>
      markFinal(this.ctx, row, this.workerId, { status: "failed", code, reason }, attempt),
    );
    this.log.warn({ ...fields, code, reason }, "failed");
  }

  private async credentialsFailed(
    row: ClaimedSms,
    failure: Extract<SendFailure, { action: "credentials" }>,
    fields: LogFields,
    attempt?: AttemptRecord,
  ): Promise<void> {
    this.gate = gate.credentialsRefused(this.gate, Date.now());
    await this.persist(() => release(this.ctx, [row], this.workerId, attempt));
    await this.persist(() => setCredentialsError(this.ctx, failure.reason));
    this.log.error(
      { ...fields, code: failure.code },
      "Twilio refused the credentials: sending is paused and messages stay queued until they work",
    );
  }

  /**
   * Past SMS_GIVE_UP_HOURS: failed, unless the last attempt may have gone out, in which case
   * Twilio is asked first (found: sent; a failed look-up: tried again later, never final).
   */
  private async giveUp(
    row: ClaimedSms,
    failure: Extract<SendFailure, { action: "retry" }>,
    fields: LogFields,
    attempt: AttemptRecord,
  ): Promise<void> {
    if (failure.outcomeUnknown) {
      try {
        if (await this.reconcile(row)) return;
      } catch (error) {
        return this.lookupFailed(row, error, fields);
      }
    }
    const hours = this.ctx.config.SMS_GIVE_UP_HOURS;
    const reason = `${failure.reason} (gave up after ${row.attempts} attempts over ${hours} h)`;
    return this.fail(row, failure.code, reason, fields, attempt);
  }
}
