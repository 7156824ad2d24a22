import type { AppContext } from "../context.ts";
import { applyEarlyCallbacks } from "./delivery.ts";
import { adoptSent, type MarkSentOutcome, markSentOwned, type SentRecord } from "./outbox.ts";
import type { Persist } from "./persist.ts";

/** How long the first acceptance of a gathering waits for others. */
export const GATHER_WINDOW_MS = 10;
/** Most acceptances in one statement (five CASE lists of this many). */
export const GATHER_MOST = 100;

/**
 * Records what Twilio accepted for one dispatcher, gathered: the acceptances that arrive within
 * GATHER_WINDOW_MS go into one UPDATE and one commit (`markSentOwned`), followed by one look for
 * their early callbacks (`applyEarlyCallbacks`): fewer round trips and commits per message sent
 * (decision 031). The look follows the commit, as the callback side's look follows its parking (delivery.ts), so one of
 * the two always sees the other. A gathering whose UPDATE fails fails for each of its callers,
 * whose `persist` tries again: nothing of it was written (one statement).
 */
export class SentRecorder {
  private waiting: {
    record: SentRecord;
    /** Whether this worker still held the row's lease, and so wrote it. */
    resolve: (owned: boolean) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly workerId: string,
    private readonly persist: Persist,
  ) {}

  /** `markSent` and then `applyEarlyCallbacks`, gathered with the others arriving now. */
  async markSent(record: SentRecord): Promise<MarkSentOutcome> {
    const owned = await new Promise<boolean>((resolve, reject) => {
      this.waiting.push({ record, resolve, reject });
      if (this.waiting.length >= GATHER_MOST) this.flush();
      // Not unref'd: the process must not end with acceptances it has not written.
      else this.timer ??= setTimeout(() => this.flush(), GATHER_WINDOW_MS);
    });
    if (owned) return "sent";
    // The lease was lost meanwhile: rare, one at a time.
    const adopted = await this.persist(() => adoptSent(this.ctx, record));
    if (adopted !== "lost")
      await this.persist(() => applyEarlyCallbacks(this.ctx, [record.result.sid]));
    return adopted;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken = this.waiting;
    this.waiting = [];
    this.record(taken.map((t) => t.record)).then(
      (owned) => {
        taken.forEach((t, i) => {
          t.resolve(owned[i] === true);
        });
      },
      (error: unknown) => {
        for (const t of taken) t.reject(error);
      },
    );
  }

  private async record(records: SentRecord[]): Promise<boolean[]> {
    const owned = await markSentOwned(this.ctx, this.workerId, records);
    const sids = records.filter((_, i) => owned[i]).map((r) => r.result.sid);
    // Written already: from here on the look is retried on its own, never the write.
    await this.persist(() => applyEarlyCallbacks(this.ctx, sids));
    return owned;
  }
}
