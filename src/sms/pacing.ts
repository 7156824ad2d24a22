import { isConnectionError } from "../db/dialect.ts";
import { isAdminPaused, pausedUntil, sendMayStart } from "./gate.ts";
import type { GateKeeper } from "./gate-keeper.ts";
import type { ClaimedSms } from "./outbox.ts";
import type { AdaptiveRate } from "./rate.ts";
import { LATE_MS, type SendBudget } from "./send-budget.ts";

/** The longest single wait of a send waiting for its slot, so that a stop is noticed. */
const NAP_MS = 250;

/**
 * When a claimed message may start: the gate allows it, a 429's pause is over, and the portal's
 * one sending budget (send-budget.ts) has booked time for its segments at the adaptive pace
 * (rate.ts). Capturing reaches no API and no phone, so unpaced it waits for nothing but an admin
 * pause.
 */
export class Pacing {
  /** The rows waiting for sending time here, in the order they get it. */
  private readonly line = new WaitingLine();
  /** The time booked for each claimed row's send (epoch ms), once it has some. */
  private readonly slotAt = new WeakMap<ClaimedSms, number>();

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
    this.line.join(row);
    try {
      for (;;) {
        if (this.stopping() || !sendMayStart(this.gate.state)) return false;
        const pause = pausedUntil(this.gate.state) - Date.now();
        if (pause > 0) {
          await this.nap(pause);
          continue;
        }
        if (!this.line.isFirst(row)) {
          await this.line.moved(NAP_MS);
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
        this.slotAt.set(row, Date.now() + slot.waitMs);
        this.line.leave(row);
        for (let wait = slot.waitMs; wait > 0; wait -= NAP_MS)
          if (!(await this.nap(wait))) return false;
        // A 429 may have arrived while this one waited: wait that out too.
        if (Date.now() >= pausedUntil(this.gate.state)) return true;
        this.line.join(row);
      }
    } finally {
      this.line.leave(row);
    }
  }

  /**
   * The last gate, right before the HTTP call (after the database check, whose time varies): a
   * send that would start well after its booked time takes new time (the old time has gone by:
   * used now, it would add to the others' sends), and no more segments start here in any second
   * than the pace allows. False when stopping.
   */
  async admit(row: ClaimedSms): Promise<boolean> {
    if (!this.paced) return true;
    const late = Date.now() - (this.slotAt.get(row) ?? Date.now());
    if (late > LATE_MS && !(await this.takeSlot(row))) return false;
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

/**
 * The rows of one dispatcher waiting for sending time, by priority and then age: only the first
 * books, so an approval claimed while alerts of a fan-out wait here takes the next time booked.
 */
class WaitingLine {
  private readonly rows: ClaimedSms[] = [];
  private wakeUps: (() => void)[] = [];

  join(row: ClaimedSms): void {
    if (this.rows.includes(row)) return;
    const after = this.rows.findIndex(
      (r) => r.priority > row.priority || (r.priority === row.priority && r.id > row.id),
    );
    this.rows.splice(after === -1 ? this.rows.length : after, 0, row);
  }

  leave(row: ClaimedSms): void {
    const at = this.rows.indexOf(row);
    if (at === -1) return;
    this.rows.splice(at, 1);
    const wakeUps = this.wakeUps;
    this.wakeUps = [];
    for (const wake of wakeUps) wake();
  }

  isFirst(row: ClaimedSms): boolean {
    return this.rows[0] === row;
  }

  /** Resolves when a row leaves the line, or after `ms`. */
  moved(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUps.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
