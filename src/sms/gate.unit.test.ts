import { describe, expect, it } from "vitest";
import {
  ADMIN_PAUSE_LOG_EVERY,
  adminPaused,
  adminResumed,
  answerMustBeRecorded,
  circuitClosed,
  circuitOpened,
  credentialsAccepted,
  credentialsRechecked,
  credentialsRefusalSeen,
  credentialsRefused,
  type Gate,
  type GateEvent,
  initialGate,
  isAdminPaused,
  isCircuitOpen,
  isCredentialsRefused,
  isProbing,
  outageCounted,
  outageCountReset,
  pausedUntil,
  pauseLeft,
  pollCircuit,
  pollGate,
  probeClaimed,
  probeEnded,
  probeFailed,
  rateLimited,
  type SharedDispatchState,
  sendMayStart,
} from "./gate.ts";

const settings = { pollMs: 100, credentialsRecheckMs: 60_000 };
const calm: SharedDispatchState = {
  pausedMs: 0,
  credentialsError: null,
  consecutiveFailures: 0,
  circuitOpenMs: null,
  adminPausedAt: null,
};

function poll(gate: Gate, shared: Partial<SharedDispatchState>, now: number) {
  return pollGate(gate, { ...calm, ...shared }, now, settings);
}

const open = initialGate;
const circuitOpen = circuitOpened(open);
const refused = credentialsRefused(open, 1_000);

describe("the gate's state", () => {
  it("starts open: sends may start, nothing paused, nothing to record", () => {
    expect(open).toEqual({ state: "open", pausedUntil: 0, failuresRecorded: false });
    expect(sendMayStart(open)).toBe(true);
    expect(pauseLeft(open, 5)).toBe(0);
    expect(answerMustBeRecorded(open)).toBe(false);
  });

  it("a 429 pauses sends until its end, and a shorter one does not shorten it", () => {
    const limited = rateLimited(open, 5_000);
    expect(pauseLeft(limited, 4_000)).toBe(1_000);
    expect(pauseLeft(limited, 6_000)).toBe(0);
    expect(pausedUntil(rateLimited(limited, 3_000))).toBe(5_000);
    expect(pausedUntil(rateLimited(limited, 7_000))).toBe(7_000);
    // The pace waits a pause out; it does not forbid the start.
    expect(sendMayStart(limited)).toBe(true);
  });

  it("outages counted must be reset by the next definite answer", () => {
    const counted = outageCounted(open);
    expect(answerMustBeRecorded(counted)).toBe(true);
    expect(answerMustBeRecorded(outageCountReset(counted))).toBe(false);
    expect(outageCountReset(counted)).toEqual(open);
  });

  it("an open circuit stops sends but its probe, and must be closed by an answer", () => {
    expect(circuitOpen.state).toBe("circuit-open");
    expect(sendMayStart(circuitOpen)).toBe(false);
    expect(answerMustBeRecorded(circuitOpen)).toBe(true);
    const probing = probeClaimed(circuitOpen);
    expect(probing).toMatchObject({ state: "probing", circuitOpen: true });
    expect(sendMayStart(probing)).toBe(true);
    expect(isProbing(probing)).toBe(true);
    expect(probeEnded(probing)).toEqual(circuitOpen);
    expect(probeFailed(probing)).toEqual(circuitOpen);
    expect(circuitClosed(circuitOpen)).toEqual(open);
  });

  it("a probe outlives the circuit closing under it, and still ends with its row", () => {
    const outlived = circuitClosed(probeClaimed(circuitOpen));
    expect(outlived).toMatchObject({ state: "probing", circuitOpen: false });
    expect(isProbing(outlived)).toBe(true);
    expect(isCircuitOpen(outlived)).toBe(false);
    expect(sendMayStart(outlived)).toBe(true);
    expect(probeEnded(outlived)).toEqual(open);
    // A failure of that probe reopens the circuit as this process knows it.
    expect(probeFailed(outlived)).toEqual(circuitOpen);
    // And a failure elsewhere that finds the shared circuit open keeps the probe going.
    expect(circuitOpened(outlived)).toMatchObject({ state: "probing", circuitOpen: true });
  });

  it("refused credentials stop sends and cover the circuit, which comes back as it was", () => {
    const covered = credentialsRefused(probeClaimed(circuitOpen), 1_000);
    expect(covered).toMatchObject({ state: "credentials-refused", lastCheck: 1_000 });
    expect(sendMayStart(covered)).toBe(false);
    expect(isCredentialsRefused(covered)).toBe(true);
    expect(isProbing(covered)).toBe(true);
    expect(isCircuitOpen(covered)).toBe(true);
    expect(credentialsAccepted(covered)).toEqual(probeClaimed(circuitOpen));
  });

  it("a send's refusal restarts the recheck's count; a poll's sighting keeps it", () => {
    expect(credentialsRefused(refused, 9_000)).toMatchObject({ lastCheck: 9_000 });
    expect(credentialsRefusalSeen(refused, 9_000)).toEqual(refused);
    expect(credentialsRefusalSeen(open, 9_000)).toEqual(credentialsRefused(open, 9_000));
    expect(credentialsRechecked(refused, 9_000)).toMatchObject({ lastCheck: 9_000 });
    expect(credentialsRechecked(open, 9_000)).toEqual(open);
    expect(credentialsAccepted(open)).toEqual(open);
  });

  it("an admin pause covers everything and hands it back unchanged", () => {
    const under = rateLimited(outageCounted(refused), 4_000);
    const paused = adminPaused(under);
    expect(paused).toEqual({ state: "admin-paused", polls: 1, beneath: under });
    expect(adminPaused(paused)).toMatchObject({ polls: 2 });
    expect(isAdminPaused(paused)).toBe(true);
    expect(sendMayStart(adminPaused(open))).toBe(false);
    // The state under it is still seen by sends already under way...
    expect(isCredentialsRefused(paused)).toBe(true);
    expect(pauseLeft(paused, 3_000)).toBe(1_000);
    expect(answerMustBeRecorded(paused)).toBe(true);
    expect(adminResumed(paused)).toEqual(under);
    expect(adminResumed(open)).toEqual(open);
  });

  it("sends under way keep changing what an admin pause covers", () => {
    let gate = adminPaused(probeClaimed(circuitOpen));
    gate = rateLimited(gate, 8_000);
    gate = credentialsRefused(gate, 2_000);
    gate = probeFailed(gate);
    gate = outageCounted(gate);
    expect(gate).toEqual({
      state: "admin-paused",
      polls: 1,
      beneath: {
        state: "credentials-refused",
        lastCheck: 2_000,
        beneath: { state: "circuit-open", pausedUntil: 8_000, failuresRecorded: true },
      },
    });
    gate = credentialsAccepted(circuitClosed(gate));
    expect(adminResumed(gate)).toEqual({
      state: "open",
      pausedUntil: 8_000,
      failuresRecorded: true,
    });
  });
});

describe("a poll", () => {
  it("with nothing in the way goes on to the circuit", () => {
    expect(poll(open, {}, 1_000)).toEqual({
      gate: rateLimited(open, 1_000),
      events: [],
      step: { next: "circuit" },
    });
  });

  it("takes in the shared 429 pause, even under an admin pause", () => {
    expect(pausedUntil(poll(open, { pausedMs: 500 }, 1_000).gate)).toBe(1_500);
    const paused = poll(open, { pausedMs: 500, adminPausedAt: "t" }, 1_000).gate;
    expect(pauseLeft(paused, 1_000)).toBe(500);
    // A longer pause this process already knows is kept.
    expect(pausedUntil(poll(rateLimited(open, 9_000), { pausedMs: 500 }, 1_000).gate)).toBe(9_000);
  });

  it("counts the shared outages, unless an admin pause is in the way", () => {
    expect(answerMustBeRecorded(poll(open, { consecutiveFailures: 2 }, 0).gate)).toBe(true);
    const paused = poll(open, { consecutiveFailures: 2, adminPausedAt: "t" }, 0).gate;
    expect(answerMustBeRecorded(paused)).toBe(false);
  });

  it("finds an admin pause first: it wins over refused credentials and an open circuit", () => {
    const polled = poll(
      circuitOpen,
      { adminPausedAt: "t", credentialsError: "bad", circuitOpenMs: 5_000 },
      1_000,
    );
    expect(polled.step).toEqual({ next: "wait", ms: settings.pollMs });
    expect(polled.events).toEqual([{ event: "admin-paused", since: "t" }]);
    expect(polled.gate).toMatchObject({ state: "admin-paused", polls: 1 });
    // What it covers is left as it was: no refusal noted, the circuit as before.
    expect(isCredentialsRefused(polled.gate)).toBe(false);
    expect(adminResumed(polled.gate)).toEqual(rateLimited(circuitOpen, 1_000));
  });

  it("logs an admin pause on entry and then once every so many polls", () => {
    let gate: Gate = open;
    const logged: { poll: number; event: GateEvent }[] = [];
    for (let n = 1; n <= 2 * ADMIN_PAUSE_LOG_EVERY + 1; n++) {
      const polled = poll(gate, { adminPausedAt: "t" }, n);
      gate = polled.gate;
      for (const event of polled.events) logged.push({ poll: n, event });
    }
    expect(logged).toEqual([
      { poll: 1, event: { event: "admin-paused", since: "t" } },
      { poll: 21, event: { event: "still-admin-paused", since: "t" } },
      { poll: 41, event: { event: "still-admin-paused", since: "t" } },
    ]);
    expect(gate).toMatchObject({ polls: 41 });
    const resumed = poll(gate, {}, 50);
    expect(resumed.events).toEqual([{ event: "admin-resumed" }]);
    expect(resumed.gate.state).toBe("open");
  });

  it("after an admin pause, refused credentials keep their recheck's schedule", () => {
    let gate = adminPaused(refused);
    gate = poll(gate, { adminPausedAt: "t", credentialsError: "bad" }, 30_000).gate;
    const early = poll(gate, { credentialsError: "bad" }, 40_000);
    expect(early.events).toEqual([{ event: "admin-resumed" }]);
    expect(early.step).toEqual({ next: "wait", ms: 21_000 });
    const due = poll(gate, { credentialsError: "bad" }, 61_000);
    expect(due.step).toEqual({ next: "recheck-credentials" });
    expect(due.gate).toMatchObject({ state: "credentials-refused", lastCheck: 61_000 });
  });

  it("finds refused credentials next: they wait a whole recheck from when first seen", () => {
    const first = poll(circuitOpen, { credentialsError: "bad", circuitOpenMs: 0 }, 1_000);
    expect(first.step).toEqual({ next: "wait", ms: 60_000 });
    expect(first.gate).toMatchObject({ state: "credentials-refused", lastCheck: 1_000 });
    const later = poll(first.gate, { credentialsError: "bad" }, 31_000);
    expect(later.step).toEqual({ next: "wait", ms: 30_000 });
    expect(later.gate).toMatchObject({ lastCheck: 1_000 });
    const due = poll(first.gate, { credentialsError: "bad" }, 61_000);
    expect(due.step).toEqual({ next: "recheck-credentials" });
    expect(due.gate).toMatchObject({ lastCheck: 61_000 });
    // The circuit under them is not looked at yet.
    expect(isCircuitOpen(due.gate)).toBe(true);
    expect(isProbing(due.gate)).toBe(false);
  });

  it("drops refused credentials once the shared state no longer has the error", () => {
    const polled = poll(credentialsRefused(circuitOpen, 1_000), {}, 2_000);
    expect(polled.gate).toEqual(rateLimited(circuitOpen, 2_000));
    expect(polled.step).toEqual({ next: "circuit" });
  });
});

describe("a poll's circuit part", () => {
  it("closed: sending may go on, and a circuit this process saw open is said to be closed", () => {
    expect(pollCircuit(open, null)).toEqual({ gate: open, events: [], step: { next: "claim" } });
    expect(pollCircuit(circuitOpen, null)).toEqual({
      gate: open,
      events: [{ event: "circuit-closed" }],
      step: { next: "claim" },
    });
    const outlived = pollCircuit(probeClaimed(circuitOpen), null);
    expect(outlived.gate).toMatchObject({ state: "probing", circuitOpen: false });
    expect(outlived.events).toEqual([{ event: "circuit-closed" }]);
  });

  it("open: waits out the circuit, which wins over a shorter or longer 429 pause", () => {
    const limited = rateLimited(open, 99_000);
    expect(pollCircuit(limited, 5_000)).toEqual({
      gate: circuitOpened(limited),
      events: [],
      step: { next: "wait", ms: 5_000 },
    });
  });

  it("half open: takes the probe, unless this process is already probing", () => {
    expect(pollCircuit(open, 0)).toEqual({
      gate: circuitOpen,
      events: [],
      step: { next: "take-probe" },
    });
    const probing = probeClaimed(circuitOpen);
    expect(pollCircuit(probing, 0).step).toEqual({ next: "claim" });
    expect(pollCircuit(circuitClosed(probing), 0).gate).toEqual(probing);
  });
});
