/**
 * Whether this dispatcher may claim and start sends now: one state, changed only by the named
 * transitions below. Pure: reading and writing the shared `sms_dispatch_state` row, asking Twilio
 * and logging are the caller's (gate-keeper.ts); this module decides.
 *
 * The state is layered because the reasons to hold back stack rather than replace each other: an
 * admin pause covers whatever was there before it (refused credentials, an open circuit) and
 * hands it back unchanged when it is lifted, so a recheck of the credentials keeps its schedule
 * and a probe in flight is still ended by its own answer. Refused credentials cover the circuit
 * in the same way. A 429's pause and the outage count live in the innermost layer: sends already
 * under way keep reporting them, whatever covers it.
 */

/** What Twilio's own answers leave behind, kept under every pause. */
interface TwilioAnswers {
  /** Epoch ms before which no send starts: a 429's Retry-After, ours or (read at each poll) anyone's. */
  pausedUntil: number;
  /** Outage-like failures may be counted in the shared state: a definite answer must reset them. */
  failuresRecorded: boolean;
}

/** The circuit shared by every dispatcher (decision 010), as this process last saw it. */
export type Circuit =
  /** Closed: sends start at the pace, once `pausedUntil` has passed. */
  | (TwilioAnswers & { state: "open" })
  /** Open: no send starts. Half open, a poll may take the probe. */
  | (TwilioAnswers & { state: "circuit-open" })
  /**
   * This process claimed the probe's one row and waits for its answer. `circuitOpen` false: the
   * circuit closed meanwhile (another dispatcher's send was answered); the probe still ends with
   * its row, and the loop still waits for it.
   */
  | (TwilioAnswers & { state: "probing"; circuitOpen: boolean });

/** Twilio refused the account's credentials: nothing is sent until a recheck finds them good. */
export interface CredentialsRefused {
  state: "credentials-refused";
  /** Epoch ms of the last look at them (the refusal, or the last recheck). */
  lastCheck: number;
  beneath: Circuit;
}

/** An admin paused all sending (the console's button): nothing is claimed until resumed. */
export interface AdminPaused {
  state: "admin-paused";
  /** Polls that found the pause so far, this one included. */
  polls: number;
  beneath: Circuit | CredentialsRefused;
}

/** The outermost layer says what holds sending back first. */
export type Gate = AdminPaused | CredentialsRefused | Circuit;

/** The shared state a poll reads (`readDispatchTimers`), as far as the gate looks at it. */
export interface SharedDispatchState {
  pausedMs: number;
  credentialsError: string | null;
  consecutiveFailures: number;
  /** null: the circuit is closed; 0: half open (a probe may go); > 0: open for that long. */
  circuitOpenMs: number | null;
  adminPausedAt: string | null;
}

export interface GateSettings {
  pollMs: number;
  credentialsRecheckMs: number;
}

/** While an admin pause lasts, "still paused" is logged once every this many polls. */
export const ADMIN_PAUSE_LOG_EVERY = 20;

/** What a poll found that the log must tell. */
export type GateEvent =
  | { event: "admin-paused"; since: string }
  | { event: "still-admin-paused"; since: string }
  | { event: "admin-resumed" }
  | { event: "circuit-closed" };

export const initialGate: Gate = { state: "open", pausedUntil: 0, failuresRecorded: false };

// Queries.

function circuitOf(gate: Gate): Circuit {
  if (gate.state === "admin-paused") return circuitOf(gate.beneath);
  if (gate.state === "credentials-refused") return gate.beneath;
  return gate;
}

function credentialsOf(gate: Gate): CredentialsRefused | null {
  if (gate.state === "admin-paused") return credentialsOf(gate.beneath);
  return gate.state === "credentials-refused" ? gate : null;
}

export function isAdminPaused(gate: Gate): boolean {
  return gate.state === "admin-paused";
}

/** Refused credentials, even under an admin pause. */
export function isCredentialsRefused(gate: Gate): boolean {
  return credentialsOf(gate) !== null;
}

/** The circuit is open as this process knows it (probing or not), even under a pause. */
export function isCircuitOpen(gate: Gate): boolean {
  const circuit = circuitOf(gate);
  return circuit.state === "probing" ? circuit.circuitOpen : circuit.state === "circuit-open";
}

/** This process holds the probe's row. */
export function isProbing(gate: Gate): boolean {
  return circuitOf(gate).state === "probing";
}

export function pausedUntil(gate: Gate): number {
  return circuitOf(gate).pausedUntil;
}

/** Milliseconds left of the 429 pause at `now` (0: none). */
export function pauseLeft(gate: Gate, now: number): number {
  return Math.max(0, pausedUntil(gate) - now);
}

/**
 * Whether a send claimed earlier may start (waiting out the 429 pause and the pace is the
 * caller's): not during an admin pause or refused credentials, and not while the circuit is open
 * unless it is this process's probe.
 */
export function sendMayStart(gate: Gate): boolean {
  if (gate.state === "admin-paused" || gate.state === "credentials-refused") return false;
  return !(isCircuitOpen(gate) && !isProbing(gate));
}

/** A definite answer from Twilio must be recorded in the shared state (count or circuit to reset). */
export function answerMustBeRecorded(gate: Gate): boolean {
  return circuitOf(gate).failuresRecorded || isCircuitOpen(gate);
}

// Transitions of the innermost layer: they apply under any pause.

function withCircuit(gate: Gate, change: (circuit: Circuit) => Circuit): Gate {
  if (gate.state === "admin-paused") {
    const beneath = gate.beneath;
    return {
      ...gate,
      beneath:
        beneath.state === "credentials-refused"
          ? { ...beneath, beneath: change(beneath.beneath) }
          : change(beneath),
    };
  }
  if (gate.state === "credentials-refused") return { ...gate, beneath: change(gate.beneath) };
  return change(gate);
}

function circuitWith(answers: TwilioAnswers, open: boolean, probing: boolean): Circuit {
  const { pausedUntil, failuresRecorded } = answers;
  if (probing) return { state: "probing", circuitOpen: open, pausedUntil, failuresRecorded };
  return { state: open ? "circuit-open" : "open", pausedUntil, failuresRecorded };
}

function setCircuit(gate: Gate, change: { open?: boolean; probing?: boolean }): Gate {
  return withCircuit(gate, (circuit) =>
    circuitWith(
      circuit,
      change.open ?? isCircuitOpen(circuit),
      change.probing ?? circuit.state === "probing",
    ),
  );
}

/** A 429 (ours, or another dispatcher's read at a poll): no send starts before `until`. */
export function rateLimited(gate: Gate, until: number): Gate {
  return withCircuit(gate, (circuit) => ({
    ...circuit,
    pausedUntil: Math.max(circuit.pausedUntil, until),
  }));
}

/** An outage-like failure was counted in the shared state (by us or, seen at a poll, anyone). */
export function outageCounted(gate: Gate): Gate {
  return withCircuit(gate, (circuit) => ({ ...circuit, failuresRecorded: true }));
}

/** The shared outage count is being reset (a definite answer). */
export function outageCountReset(gate: Gate): Gate {
  return withCircuit(gate, (circuit) => ({ ...circuit, failuresRecorded: false }));
}

/** The shared state says the circuit is open (or a failure of ours opened or kept it open). */
export function circuitOpened(gate: Gate): Gate {
  return setCircuit(gate, { open: true });
}

/** The shared state says the circuit is closed, or our definite answer closed it. */
export function circuitClosed(gate: Gate): Gate {
  return setCircuit(gate, { open: false });
}

/** This process claimed a row while the circuit was open: that row is the probe. */
export function probeClaimed(gate: Gate): Gate {
  return setCircuit(gate, { probing: true });
}

/** The probe reached no verdict (no row, or its row was given back), or Twilio answered. */
export function probeEnded(gate: Gate): Gate {
  return setCircuit(gate, { probing: false });
}

/** The probe's send failed like an outage: the circuit stays open. */
export function probeFailed(gate: Gate): Gate {
  return setCircuit(gate, { open: true, probing: false });
}

// Transitions of the credentials layer.

function withoutAdminPause(
  gate: Gate,
  change: (unpaused: Circuit | CredentialsRefused) => Circuit | CredentialsRefused,
): Gate {
  return gate.state === "admin-paused" ? { ...gate, beneath: change(gate.beneath) } : change(gate);
}

/** A send was refused for its credentials: the recheck is counted from `now`. */
export function credentialsRefused(gate: Gate, now: number): Gate {
  return withoutAdminPause(gate, (unpaused) =>
    unpaused.state === "credentials-refused"
      ? { ...unpaused, lastCheck: now }
      : { state: "credentials-refused", lastCheck: now, beneath: unpaused },
  );
}

/** A poll found the shared credentials error: counted from `now` unless already known. */
export function credentialsRefusalSeen(gate: Gate, now: number): Gate {
  return isCredentialsRefused(gate) ? gate : credentialsRefused(gate, now);
}

/** The credentials are being checked again at `now`. */
export function credentialsRechecked(gate: Gate, now: number): Gate {
  return withoutAdminPause(gate, (unpaused) =>
    unpaused.state === "credentials-refused" ? { ...unpaused, lastCheck: now } : unpaused,
  );
}

/** The credentials work (a recheck passed, or the shared state has no error). */
export function credentialsAccepted(gate: Gate): Gate {
  return withoutAdminPause(gate, (unpaused) =>
    unpaused.state === "credentials-refused" ? unpaused.beneath : unpaused,
  );
}

// Transitions of the outermost layer.

/** A poll found the admin pause: one more poll under it. */
export function adminPaused(gate: Gate): Gate {
  return gate.state === "admin-paused"
    ? { ...gate, polls: gate.polls + 1 }
    : { state: "admin-paused", polls: 1, beneath: gate };
}

/** A poll found the admin pause lifted: what it covered is back as it was. */
export function adminResumed(gate: Gate): Gate {
  return gate.state === "admin-paused" ? gate.beneath : gate;
}

// A poll, in the order its checks win: the admin pause, then refused credentials, then the
// circuit, then a 429's pause.

/** What the dispatcher does after the first part of a poll. */
export type PollStep =
  /** Claim nothing for this long (the loop sleeps at most five polls of it, then polls again). */
  | { next: "wait"; ms: number }
  /** The credentials recheck is due: ask Twilio, then go on to the circuit if they work. */
  | { next: "recheck-credentials" }
  /** Go on to the circuit (`pollCircuit`). */
  | { next: "circuit" };

/**
 * First part of a poll, on the shared state just read at `now`: takes in the 429 pause, then an
 * admin pause wins over everything (the rest stays as it was), then the outage count and refused
 * credentials, which wait for their recheck.
 */
export function pollGate(
  gate: Gate,
  shared: SharedDispatchState,
  now: number,
  settings: GateSettings,
): { gate: Gate; events: GateEvent[]; step: PollStep } {
  const events: GateEvent[] = [];
  let next = rateLimited(gate, now + shared.pausedMs);
  if (shared.adminPausedAt) {
    // Logged on entry and then every so many polls: the log shows each dispatcher still
    // honouring the pause (the two-process test waits on those lines).
    if (next.state !== "admin-paused")
      events.push({ event: "admin-paused", since: shared.adminPausedAt });
    else if (next.polls % ADMIN_PAUSE_LOG_EVERY === 0)
      events.push({ event: "still-admin-paused", since: shared.adminPausedAt });
    return { gate: adminPaused(next), events, step: { next: "wait", ms: settings.pollMs } };
  }
  if (next.state === "admin-paused") {
    next = adminResumed(next);
    events.push({ event: "admin-resumed" });
  }
  if (shared.consecutiveFailures > 0) next = outageCounted(next);
  if (!shared.credentialsError)
    return { gate: credentialsAccepted(next), events, step: { next: "circuit" } };
  next = credentialsRefusalSeen(next, now);
  const sinceCheck = now - credentialsOf(next)!.lastCheck;
  if (sinceCheck < settings.credentialsRecheckMs)
    return {
      gate: next,
      events,
      step: { next: "wait", ms: settings.credentialsRecheckMs - sinceCheck },
    };
  return {
    gate: credentialsRechecked(next, now),
    events,
    step: { next: "recheck-credentials" },
  };
}

/** What the dispatcher does after the circuit's part of a poll. */
export type CircuitStep =
  | { next: "wait"; ms: number }
  /** Half open and no probe of ours out: try to take the probe (not taken: wait a poll). */
  | { next: "take-probe" }
  /** Claim once the 429 pause has passed (`pauseLeft`). */
  | { next: "claim" };

/** Second part of a poll: the circuit as the shared state had it (`circuitOpenMs`). */
export function pollCircuit(
  gate: Gate,
  circuitOpenMs: number | null,
): { gate: Gate; events: GateEvent[]; step: CircuitStep } {
  if (circuitOpenMs === null) {
    const events: GateEvent[] = isCircuitOpen(gate) ? [{ event: "circuit-closed" }] : [];
    return { gate: circuitClosed(gate), events, step: { next: "claim" } };
  }
  const next = circuitOpened(gate);
  if (circuitOpenMs > 0)
    return { gate: next, events: [], step: { next: "wait", ms: circuitOpenMs } };
  return { gate: next, events: [], step: { next: isProbing(next) ? "claim" : "take-probe" } };
}
