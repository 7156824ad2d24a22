import type { AppContext } from "../context.ts";
import { classifySendError } from "./errors.ts";
import * as gate from "./gate.ts";
import {
  pauseAllFor,
  probeFailed,
  readDispatchTimers,
  recordApiAnswered,
  recordOutageFailure,
  setCredentialsError,
  takeProbe,
} from "./outbox.ts";
import type { Persist } from "./persist.ts";
import type { SmsTransport } from "./transport/types.ts";

/** How long a dispatcher may hold the circuit's one probe before another may take it. */
const PROBE_HOLD_SECONDS = 60;

/** How long an account check that accepted the credentials stands for other 401s on a look-up. */
const ACCOUNT_CHECK_STANDS_MS = 60_000;

/**
 * This dispatcher's gate (gate.ts), kept in step with the shared `sms_dispatch_state` row that
 * every dispatcher and the admin pages read: each transition here writes or reads that row, asks
 * Twilio or logs what the transition means, around the pure decision.
 */
export class GateKeeper {
  private current: gate.Gate = gate.initialGate;
  /** When the account last accepted our credentials (Date.now()), for accountRefusesCredentials. */
  private accountAcceptedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: AppContext,
    private readonly workerId: string,
    private readonly transport: SmsTransport,
    private readonly persist: Persist,
  ) {}

  /** The gate as this process knows it now (query it with gate.ts's functions). */
  get state(): gate.Gate {
    return this.current;
  }

  private get log() {
    return this.ctx.smsLog;
  }

  /**
   * Milliseconds until sending may resume: an admin pause, refused credentials, an open circuit
   * or a shared rate-limit pause. Half open, it takes the probe if it can (and then claims one row
   * only).
   */
  async poll(): Promise<number> {
    const now = Date.now();
    const shared = await readDispatchTimers(this.ctx);
    const settings = this.settings();
    const polled = gate.pollGate(this.current, shared, now, settings);
    this.current = polled.gate;
    this.logEvents(polled.events);
    if (polled.step.next === "wait") return polled.step.ms;
    if (polled.step.next === "recheck-credentials") {
      try {
        await this.transport.checkAccount();
        await setCredentialsError(this.ctx, null);
        this.current = gate.credentialsAccepted(this.current);
        this.log.info({ worker: this.workerId }, "credentials accepted again: sending resumes");
      } catch (error) {
        this.log.warn(
          { worker: this.workerId, reason: (error as Error).message },
          "credentials still refused",
        );
        return settings.credentialsRecheckMs;
      }
    }
    const circuit = gate.pollCircuit(this.current, shared.circuitOpenMs);
    this.current = circuit.gate;
    this.logEvents(circuit.events);
    if (circuit.step.next === "wait") return circuit.step.ms;
    if (
      circuit.step.next === "take-probe" &&
      !(await takeProbe(this.ctx, this.workerId, PROBE_HOLD_SECONDS))
    )
      return settings.pollMs;
    return gate.pauseLeft(this.current, now);
  }

  private settings(): gate.GateSettings {
    return {
      pollMs: this.ctx.config.SMS_POLL_MS,
      credentialsRecheckMs: this.ctx.config.SMS_CREDENTIALS_RECHECK_SECONDS * 1000,
    };
  }

  private logEvents(events: gate.GateEvent[]): void {
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

  /** The row just claimed while the circuit is open is the probe. */
  probeClaimed(): void {
    this.current = gate.probeClaimed(this.current);
  }

  /** Nothing to probe with (no due row): give the probe back for whoever queues next. */
  async endProbe(): Promise<void> {
    this.current = gate.probeEnded(this.current);
    await probeFailed(this.ctx, this.workerId, 0);
  }

  /** A 429: no dispatcher starts a send for `ms`. */
  async pause(ms: number): Promise<void> {
    this.current = gate.rateLimited(this.current, Date.now() + ms);
    await this.persist(() => pauseAllFor(this.ctx, ms));
  }

  /** Twilio gave a definite answer: the outage count restarts (and a probe closes the circuit). */
  async answered(): Promise<void> {
    this.current = gate.probeEnded(this.current);
    if (!gate.answerMustBeRecorded(this.current)) return;
    this.current = gate.outageCountReset(this.current);
    if (await this.persist(() => recordApiAnswered(this.ctx))) {
      if (gate.isCircuitOpen(this.current))
        this.log.info({ worker: this.workerId }, "Twilio answers again: circuit closed");
    }
    this.current = gate.circuitClosed(this.current);
  }

  /** One more outage-like failure, counted for every dispatcher; may open (or keep open) the circuit. */
  async outage(): Promise<void> {
    const { SMS_CIRCUIT_FAILURES: threshold, SMS_CIRCUIT_OPEN_SECONDS: openSeconds } =
      this.ctx.config;
    this.current = gate.outageCounted(this.current);
    if (gate.isProbing(this.current)) {
      this.current = gate.probeFailed(this.current);
      await this.persist(() => probeFailed(this.ctx, this.workerId, openSeconds));
      this.log.warn({ worker: this.workerId, openSeconds }, "probe failed: circuit stays open");
      return;
    }
    const result = await this.persist(() => recordOutageFailure(this.ctx, threshold, openSeconds));
    if (result.open) this.current = gate.circuitOpened(this.current);
    if (result.opened)
      this.log.warn(
        { worker: this.workerId, failures: result.failures, openSeconds },
        "Twilio looks down: circuit open, sending stopped for every dispatcher; one probe at a time",
      );
  }

  /**
   * A look-up (not a send) was refused with 401 or 403: are the credentials themselves bad? Asks
   * the account resource, as the credentials re-check does; true only when it refuses them too.
   * Its acceptance stands for a minute, so a key without list rights and many rows to reconcile
   * cost one account fetch a minute, not one per row. An account check that gets no answer is no
   * proof either way: sending goes on.
   */
  async accountRefusesCredentials(): Promise<boolean> {
    if (Date.now() - this.accountAcceptedAt < ACCOUNT_CHECK_STANDS_MS) return false;
    try {
      await this.transport.checkAccount();
    } catch (error) {
      const refused =
        classifySendError(error, 1, { baseDelayMs: 0, maxDelayMs: 0 }).action === "credentials";
      this.log.warn(
        { worker: this.workerId, reason: (error as Error).message, refused },
        refused
          ? "a look-up was refused and so are the credentials"
          : "a look-up was refused; the account check got no answer either: sending goes on",
      );
      return refused;
    }
    this.accountAcceptedAt = Date.now();
    this.log.warn(
      { worker: this.workerId },
      "a look-up was refused but the account accepts the credentials (a key without list rights?): sending goes on",
    );
    return false;
  }

  /**
   * Twilio refused the credentials: no send starts here from now on (the shared error, which
   * stops the others at their next poll, is the caller's to write with the row it gives back).
   */
  credentialsRefused(): void {
    this.current = gate.credentialsRefused(this.current, Date.now());
  }
}
