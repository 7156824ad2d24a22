import type { AppContext } from "../context.ts";
import type { SmsAttemptOutcome } from "../db/schema.ts";
import { applyEarlyCallbacks, applyStatusCallback } from "./delivery.ts";
import { backoffMs, classifySendError, type SendFailure } from "./errors.ts";
import { isCircuitOpen, isCredentialsRefused } from "./gate.ts";
import type { GateKeeper } from "./gate-keeper.ts";
import {
  type AttemptRecord,
  type ClaimedSms,
  knownSids,
  markCancelRequested,
  markFinal,
  markRetry,
  markSecretExpired,
  markSent,
  markStudentOptedOut,
  release,
  sendCheck,
  setCredentialsError,
} from "./outbox.ts";
import { lateReason } from "./outbox-api.ts";
import type { Pacing } from "./pacing.ts";
import type { Persist } from "./persist.ts";
import { quietUntil } from "./quiet-hours.ts";
import type { AdaptiveRate } from "./rate.ts";
import { candidatesFor } from "./reconcile.ts";
import { SentRecorder } from "./sent-recorder.ts";
import type { SmsTransport } from "./transport/types.ts";

/** How far before the unconfirmed attempt to look in Twilio's list, for clock skew. */
const RECONCILE_MARGIN_MS = 5 * 60 * 1000;

type LogFields = Record<string, unknown>;

/**
 * The sending of one claimed message: reconcile it first if an earlier attempt may have gone out
 * (decision 004), check it at the last moment, send it at the pace, and record the outcome on the
 * row (sent, retry, failed, skipped, given back), telling the gate what Twilio's answer means for
 * every other send.
 */
export class MessageSender {
  constructor(
    private readonly ctx: AppContext,
    private readonly workerId: string,
    private readonly transport: SmsTransport,
    private readonly rate: AdaptiveRate,
    private readonly gate: GateKeeper,
    private readonly pacing: Pacing,
    private readonly persist: Persist,
  ) {
    this.recorder = new SentRecorder(ctx, workerId, persist);
  }

  private readonly recorder: SentRecorder;

  private get log() {
    return this.ctx.smsLog;
  }

  private statusCallbackUrl(): string | undefined {
    const base = this.ctx.config.PUBLIC_BASE_URL;
    return base ? new URL("/webhooks/twilio/status", base).toString() : undefined;
  }

  /** Sends one claimed message and records its outcome on the row, whatever it is. */
  async send(row: ClaimedSms): Promise<void> {
    const fields = {
      sms: row.id,
      kind: row.kind,
      to: row.to_e164,
      attempt: row.attempts,
      worker: this.workerId,
    };
    if (isCredentialsRefused(this.gate.state))
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
    if (row.quiet) {
      // Due just before quiet hours began, or their setting changed: it waits for the morning.
      const until = quietUntil(this.ctx.clock.now(), this.ctx.config.SMS_QUIET_HOURS);
      if (until) {
        await this.persist(() => release(this.ctx, [row], this.workerId, { until }));
        this.log.info({ ...fields, until: until.toISOString() }, "held: quiet hours");
        return;
      }
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
    if (!(await this.pacing.takeSlot(row)))
      return this.persist(() => release(this.ctx, [row], this.workerId));
    // Checked again at the last moment: settings, opt-out and the lease (by the database's clock).
    const check = await this.persist(() => sendCheck(this.ctx, row, this.workerId));
    if (!check.leaseHeld) {
      this.log.warn(fields, "lease lost before sending: left to its new holder");
      return;
    }
    if (check.cancelReason !== null) {
      // Cancelled while an earlier attempt was in doubt: it was not sent after all (reconciled
      // above, or never started), so the cancel applies now (decision 027).
      const reason = check.cancelReason;
      await this.persist(() => markCancelRequested(this.ctx, row, this.workerId, reason));
      this.log.info({ ...fields, reason }, "cancelled: not sent before the cancel, now known");
      return;
    }
    if (check.secretExpired) {
      // A code that arrives after it expired only confuses the student, who asks for another.
      await this.persist(() => markSecretExpired(this.ctx, row, this.workerId));
      this.log.info(fields, "cancelled: its code expired before it could be sent");
      return;
    }
    if (check.late && row.not_after) {
      // A reminder whose slot has started only misleads: the console says why it was not sent.
      const reason = lateReason(row.not_after);
      await this.persist(() =>
        markFinal(this.ctx, row, this.workerId, { status: "skipped", code: null, reason }),
      );
      this.log.info({ ...fields, reason }, "skipped: its time had passed");
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
    if (!(await this.pacing.admit(row)))
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
    await this.gate.answered();
    const outcome = await this.persist(() =>
      this.recorder.markSent({
        row,
        result: { ...result, captured },
        attempt: { startedAt: attemptStarted, outcome: captured ? "captured" : "sent" },
      }),
    );

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

  /** True when Twilio already has this message (an earlier attempt's answer was lost). */
  private async reconcile(row: ClaimedSms): Promise<boolean> {
    const lookupStarted = this.ctx.clock.now().toISOString();
    const since = new Date(Date.parse(row.unconfirmed_attempt_at!) - RECONCILE_MARGIN_MS);
    const candidates = candidatesFor(row, await this.transport.findSent(row.to_e164, since));
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
      await applyEarlyCallbacks(this.ctx, [match.sid]);
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
    // A 401 or 403 on the list may be a key without the right to list messages, not refused
    // credentials: sending pauses only when the account itself refuses them (decision 027).
    if (failure.action === "credentials" && (await this.gate.accountRefusesCredentials()))
      return this.credentialsFailed(row, failure, fields);
    const delayMs =
      failure.action === "retry" ? failure.delayMs : backoffMs(row.attempts, this.retryPolicy());
    if (failure.action === "retry" && failure.pauseAll) await this.gate.pause(failure.delayMs);
    if (failure.action === "retry" && failure.outage) await this.gate.outage();
    else await this.gate.answered();
    if (this.expired(row)) return this.outcomeUnknown(row, failure.code, reason, fields);
    await this.persist(() =>
      markRetry(this.ctx, row, this.workerId, {
        delayMs: isCircuitOpen(this.gate.state) ? 0 : delayMs,
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

  /** Too old to keep trying (SMS_GIVE_UP_HOURS after it was queued). */
  private expired(row: ClaimedSms): boolean {
    return (
      this.ctx.clock.now().getTime() - Date.parse(row.due_at ?? row.created_at) >
      this.ctx.config.SMS_GIVE_UP_HOURS * 3_600_000
    );
  }

  /**
   * Past SMS_GIVE_UP_HOURS and its last attempt may have gone out, but Twilio could not be asked:
   * final as `unknown` ("Outcome unknown: may have been sent"), never `failed` (it may have
   * arrived) nor sent again (it may arrive twice). An admin may resend it, warned (decision 027).
   */
  private async outcomeUnknown(
    row: ClaimedSms,
    code: number | null,
    reason: string,
    fields: LogFields,
  ): Promise<void> {
    const hours = this.ctx.config.SMS_GIVE_UP_HOURS;
    const final = `Outcome unknown: may have been sent. Gave up after ${hours} h; ${reason}`;
    await this.persist(() =>
      markFinal(this.ctx, row, this.workerId, { status: "unknown", code, reason: final }),
    );
    this.log.warn({ ...fields, code, reason }, "gave up: outcome unknown, may have been sent");
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
          this.pacing.rateLimited(startedAt);
          await this.gate.pause(failure.delayMs);
        }
        if (failure.outage) await this.gate.outage();
        else await this.gate.answered();
        if (failure.countsAsAttempt && this.expired(row))
          return this.giveUp(row, failure, fields, attempt("failed"));
        // While the circuit is open the circuit does the waiting: the row is due again as soon
        // as it closes, and the outage has not cost it anything.
        const inOutage = failure.outage && isCircuitOpen(this.gate.state);
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
            circuitOpen: isCircuitOpen(this.gate.state),
          },
          "retry later",
        );
        return;
      }
      case "fail":
        await this.gate.answered();
        return this.fail(row, failure.code, failure.reason, fields, attempt("failed"));
      case "opted_out":
        await this.gate.answered();
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
    this.gate.credentialsRefused();
    await this.persist(() => release(this.ctx, [row], this.workerId, { attempt }));
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
