import { isConnectionError } from "../db/dialect.ts";
import { isAdminPaused, pausedUntil, sendMayStart } from "./gate.ts";
import type { GateKeeper } from "./gate-keeper.ts";
import type { ClaimedSms } from "./outbox.ts";
import type { AdaptiveRate } from "./rate.ts";
import type { SendBudget } from "./send-budget.ts";

/** The longest single wait of a send waiting for its slot, so that a stop is noticed. */
const NAP_MS = 250;

/**
 * When a claimed message may start: the gate allows it, a 429's pause is over, and the portal's
 * one sending budget (send-budget.ts) has booked time for its segments at the adaptive pace
 * (rate.ts). Capturing reaches no API and no phone, so unpaced it waits for nothing but an admin
 * pause.
 */
export class Pacing {
  constructor(
    private readonly rate: AdaptiveRate,
    private readonly budget: SendBudget,
    private readonly paced: boolean,
    private readonly gate: GateKeeper,
    private readonly stopping: () => boolean,
  ) {}

  /**
   * Waits for a sending slot: time booked from the portal's budget for its segments, no start
   * during a 429 pause or while the circuit is open (except the probe). False when the row should
   * go back untried. A database that cannot be reached for the booking is waited for.
   */
  async takeSlot(row: ClaimedSms): Promise<boolean> {
    if (!this.paced) return !this.stopping() && !isAdminPaused(this.gate.state);
    for (;;) {
      if (this.stopping() || !sendMayStart(this.gate.state)) return false;
      const pause = pausedUntil(this.gate.state) - Date.now();
      if (pause > 0) {
        await this.nap(pause);
        continue;
      }
      const slot = await this.budget.take(row.segments).catch((error: unknown) => {
        if (isConnectionError(error)) return { retryInMs: NAP_MS };
        throw error;
      });
      if ("retryInMs" in slot) {
        await this.nap(slot.retryInMs);
        continue;
      }
      for (let wait = slot.waitMs; wait > 0; wait -= NAP_MS)
        if (!(await this.nap(wait))) return false;
      // A 429 may have arrived while this one waited: wait that out too.
      if (Date.now() >= pausedUntil(this.gate.state)) return true;
    }
  }

  /**
   * The last gate, right before the HTTP call (after the database check, whose time varies):
   * no more segments start in any second than the pace allows. False when stopping.
   */
  async admit(row: ClaimedSms): Promise<boolean> {
    if (!this.paced) return true;
    for (let wait = this.rate.admit(row.segments); wait > 0; wait = this.rate.admit(row.segments))
      if (!(await this.nap(wait))) return false;
    return true;
  }

  /** Twilio answered 429 to a send started at `startedAt`: the portal's pace comes down. */
  rateLimited(startedAt: number): void {
    if (this.paced) this.budget.rateLimited(startedAt);
  }

  /** Waits `ms`, in slices short enough to notice a stop; false when stopping. */
  private async nap(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, Math.min(NAP_MS, ms)));
    return !this.stopping();
  }
}
