import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import PQueue from "p-queue";
import type { AppContext } from "../context.ts";
import { applyEarlyCallbacks, applyStatusCallback } from "./delivery.ts";
import { classifySendError } from "./errors.ts";
import {
  type ClaimedSms,
  claimDue,
  extendLeases,
  knownSids,
  markFinal,
  markRetry,
  markSent,
  markStudentOptedOut,
  optedOutStudents,
  pauseAllUntil,
  readDispatchState,
  release,
  setCredentialsError,
} from "./outbox.ts";
import type { SmsTransport } from "./transport/types.ts";

/** How far before the unconfirmed attempt to look in Twilio's list, for clock skew. */
const RECONCILE_MARGIN_MS = 5 * 60 * 1000;

export interface DispatcherOptions {
  transport: SmsTransport;
  workerId?: string;
}

/**
 * Sends what the outbox holds. Claims due rows in batches under a lease, sends outside any
 * transaction with at most SMS_CONCURRENCY requests in flight and SMS_RATE_PER_SECOND starts a
 * second, and records every outcome on the row. Several dispatchers (processes) may share one
 * PostgreSQL database.
 */
export class Dispatcher {
  readonly workerId: string;
  private readonly transport: SmsTransport;
  private readonly queue: PQueue;
  private readonly claimed = new Map<number, { row: ClaimedSms; started: boolean }>();
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** Epoch ms before which no send starts (a 429's Retry-After). */
  private pausedUntil = 0;
  /** Epoch ms of the next free sending slot (SMS_RATE_PER_SECOND pacing). */
  private nextSlot = 0;
  private credentialsRefused = false;
  private lastCredentialsCheck = 0;

  constructor(
    private readonly ctx: AppContext,
    options: DispatcherOptions,
  ) {
    this.transport = options.transport;
    this.workerId =
      options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
    this.queue = new PQueue({ concurrency: ctx.config.SMS_CONCURRENCY });
  }

  private get log() {
    return this.ctx.smsLog;
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
    this.heartbeat = setInterval(() => {
      const ids = [...this.claimed.keys()];
      extendLeases(this.ctx, this.workerId, ids).catch((error) =>
        this.log.warn({ err: error, worker: this.workerId }, "lease heartbeat failed"),
      );
    }, leaseMs / 3);
    this.heartbeat.unref();
    this.loopDone = this.loop();
  }

  /** A local enqueue committed: look now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
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
    await release(this.ctx, untried, this.workerId);
    await Promise.race([
      this.queue.onIdle(),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    await this.loopDone;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.log.info({ worker: this.workerId, released: untried.length }, "dispatcher stopped");
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

  private async loop(): Promise<void> {
    const { SMS_BATCH_SIZE: batchSize, SMS_POLL_MS: pollMs } = this.ctx.config;
    while (!this.stopping) {
      try {
        const wait = await this.pauseRemaining();
        if (wait > 0) {
          await this.sleep(Math.min(wait, pollMs * 5));
          continue;
        }
        if (this.queue.size >= batchSize) {
          await Promise.race([this.queue.onSizeLessThan(batchSize), this.sleep(pollMs)]);
          continue;
        }
        const rows = await claimDue(this.ctx, this.workerId, batchSize - this.queue.size);
        if (rows.length === 0) {
          await this.sleep(pollMs);
          continue;
        }
        const optedOut = await optedOutStudents(
          this.ctx,
          rows.flatMap((r) => (r.student_id ? [r.student_id] : [])),
        );
        for (const row of rows) {
          this.claimed.set(row.id, { row, started: false });
          this.queue
            .add(() => this.process(row, optedOut.has(row.student_id ?? -1)))
            .catch((error) =>
              this.log.error({ err: error, sms: row.id }, "unexpected error while sending"),
            )
            .finally(() => this.claimed.delete(row.id));
        }
      } catch (error) {
        this.log.error({ err: error, worker: this.workerId }, "dispatcher loop error; retrying");
        this.ctx.log.error({ err: error }, "SMS dispatcher loop error");
        await this.sleep(pollMs);
      }
    }
  }

  /** Milliseconds until sending may resume: a shared rate-limit pause or refused credentials. */
  private async pauseRemaining(): Promise<number> {
    const now = Date.now();
    const state = await readDispatchState(this.ctx);
    const shared = state.paused_until ? Date.parse(state.paused_until) : 0;
    this.pausedUntil = Math.max(this.pausedUntil, shared);
    if (state.credentials_error) {
      if (!this.credentialsRefused) {
        this.credentialsRefused = true;
        this.lastCredentialsCheck = now;
      }
      const recheckMs = this.ctx.config.SMS_CREDENTIALS_RECHECK_SECONDS * 1000;
      if (now - this.lastCredentialsCheck < recheckMs)
        return recheckMs - (now - this.lastCredentialsCheck);
      this.lastCredentialsCheck = now;
      try {
        await this.transport.checkAccount();
        await setCredentialsError(this.ctx, null);
        this.credentialsRefused = false;
        this.log.info({ worker: this.workerId }, "credentials accepted again: sending resumes");
      } catch (error) {
        this.log.warn(
          { worker: this.workerId, reason: (error as Error).message },
          "credentials still refused",
        );
        return recheckMs;
      }
    } else {
      this.credentialsRefused = false;
    }
    return Math.max(0, this.pausedUntil - now);
  }

  /**
   * Waits for a sending slot: SMS_RATE_PER_SECOND pacing, and no start during a pause. False when
   * the dispatcher is stopping meanwhile: the row goes back untried.
   */
  private async takeSlot(): Promise<boolean> {
    const interval = 1000 / this.ctx.config.SMS_RATE_PER_SECOND;
    for (;;) {
      const now = Date.now();
      const at = Math.max(now, this.nextSlot, this.pausedUntil);
      this.nextSlot = at + interval;
      while (Date.now() < at) {
        if (this.stopping) return false;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, at - Date.now())));
      }
      if (this.stopping) return false;
      if (Date.now() >= this.pausedUntil) return true;
    }
  }

  private async process(row: ClaimedSms, optedOut: boolean): Promise<void> {
    const entry = this.claimed.get(row.id);
    if (entry) entry.started = true;
    const fields = {
      sms: row.id,
      kind: row.kind,
      to: row.to_e164,
      attempt: row.attempts,
      worker: this.workerId,
    };
    if (!this.ctx.config.SMS_ENABLED) {
      await markFinal(this.ctx, row, this.workerId, {
        status: "skipped",
        code: null,
        reason: "SMS is disabled",
      });
      this.log.info(fields, "skipped: SMS is disabled");
      return;
    }
    if (optedOut) {
      await markFinal(this.ctx, row, this.workerId, {
        status: "skipped",
        code: null,
        reason: "Student opted out of SMS",
      });
      this.log.info(fields, "skipped: student opted out");
      return;
    }
    if (this.credentialsRefused) {
      await release(this.ctx, [row], this.workerId);
      return;
    }
    try {
      if (row.needsReconcile && (await this.reconcile(row))) return;
      if (!(await this.takeSlot()) || this.credentialsRefused) {
        await release(this.ctx, [row], this.workerId);
        return;
      }
      this.log.info(fields, `sending (attempt ${row.attempts})`);
      const result = await this.transport.send({
        to: row.to_e164,
        body: row.body,
        statusCallback: this.ctx.config.PUBLIC_BASE_URL
          ? new URL("/webhooks/twilio/status", this.ctx.config.PUBLIC_BASE_URL).toString()
          : undefined,
      });
      const captured = this.transport.name === "capture";
      if (await markSent(this.ctx, row, this.workerId, { ...result, captured })) {
        await applyEarlyCallbacks(this.ctx, result.sid);
      }
      this.log.info(
        { ...fields, sid: result.sid },
        captured ? "captured (not sent to a phone)" : "sent",
      );
    } catch (error) {
      await this.recordFailure(row, error, fields);
    }
  }

  /** True when Twilio already has this message (an earlier attempt's answer was lost). */
  private async reconcile(row: ClaimedSms): Promise<boolean> {
    const since = new Date(Date.parse(row.unconfirmed_attempt_at!) - RECONCILE_MARGIN_MS);
    const candidates = (await this.transport.findSent(row.to_e164, since)).filter(
      (m) => m.body === row.body,
    );
    const taken = await knownSids(
      this.ctx,
      candidates.map((m) => m.sid),
    );
    const match = candidates.find((m) => !taken.has(m.sid));
    const fields = { sms: row.id, to: row.to_e164, worker: this.workerId };
    if (!match) {
      this.log.info(fields, "reconciled: not found at Twilio, sending again");
      return false;
    }
    // Recorded as just accepted, then moved forward to what Twilio says now (delivered, failed...)
    // by the same rule the callbacks follow, along with any callback that arrived meanwhile.
    if (
      await markSent(this.ctx, row, this.workerId, {
        sid: match.sid,
        providerStatus: "queued",
        captured: false,
      })
    ) {
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

  private async recordFailure(
    row: ClaimedSms,
    error: unknown,
    fields: Record<string, unknown>,
  ): Promise<void> {
    const config = this.ctx.config;
    const failure = classifySendError(error, row.attempts, {
      baseDelayMs: config.SMS_RETRY_DELAY_SECONDS * 1000,
    });
    switch (failure.action) {
      case "retry": {
        if (failure.pauseAll) {
          const until = Date.now() + failure.delayMs;
          this.pausedUntil = Math.max(this.pausedUntil, until);
          await pauseAllUntil(this.ctx, new Date(until));
        }
        if (failure.countsAsAttempt && row.attempts > config.SMS_RETRY_ATTEMPTS) {
          const reason = `${failure.reason} (gave up after ${row.attempts} attempts)`;
          await markFinal(this.ctx, row, this.workerId, {
            status: "failed",
            code: failure.code,
            reason,
          });
          this.log.warn({ ...fields, code: failure.code, reason }, "failed");
          return;
        }
        await markRetry(this.ctx, row, this.workerId, failure);
        this.log.warn(
          {
            ...fields,
            code: failure.code,
            reason: failure.reason,
            delayMs: failure.delayMs,
            pauseAll: failure.pauseAll,
          },
          "retry later",
        );
        return;
      }
      case "fail":
        await markFinal(this.ctx, row, this.workerId, {
          status: "failed",
          code: failure.code,
          reason: failure.reason,
        });
        this.log.warn({ ...fields, code: failure.code, reason: failure.reason }, "failed");
        return;
      case "opted_out":
        await markFinal(this.ctx, row, this.workerId, {
          status: "failed",
          code: failure.code,
          reason: failure.reason,
        });
        if (row.student_id) await markStudentOptedOut(this.ctx, row.student_id);
        this.log.warn(
          { ...fields, code: failure.code },
          "failed: recipient opted out; student marked opted out",
        );
        return;
      case "credentials":
        this.credentialsRefused = true;
        this.lastCredentialsCheck = Date.now();
        await release(this.ctx, [row], this.workerId);
        await setCredentialsError(this.ctx, failure.reason);
        this.log.error(
          { ...fields, code: failure.code },
          "Twilio refused the credentials: sending is paused and messages stay queued until they work",
        );
        return;
    }
  }
}
