import type { AppContext } from "../context.ts";
import { applyEarlyCallbacks } from "./delivery.ts";
import { adoptSent, type MarkSentOutcome, markSentOwned, type SentRecord } from "./outbox.ts";

/** How long the first outcome of a gathering waits for others. */
export const GATHER_WINDOW_MS = 10;
/** Most outcomes in one statement (five CASE lists of this many). */
export const GATHER_MOST = 100;

/**
 * Records what Twilio accepted for one dispatcher, gathered: the acceptances that arrive within
 * GATHER_WINDOW_MS go into one UPDATE and one commit (`markSentOwned`), and then one look for
 * their early callbacks (`applyEarlyCallbacks`). At 145 sends a second a dispatcher sent three
 * statements and committed once per message (bench/README.md, results day). The look still
 * follows the commit, as the callback side's look follows its parking (delivery.ts): one of the
 * two always sees the other. A gathering that fails fails for each of its callers, whose
 * `persist` tries again; nothing of it was written (one statement).
 */
export class SentRecorder {
  private readonly owned: Gathering<SentRecord, boolean>;
  private readonly lookups: Gathering<string, undefined>;

  constructor(
    private readonly ctx: AppContext,
    workerId: string,
  ) {
    this.owned = new Gathering((records) => markSentOwned(ctx, workerId, records));
    this.lookups = new Gathering(async (sids) => {
      await applyEarlyCallbacks(ctx, sids);
      return sids.map(() => undefined);
    });
  }

  /** `markSent`, gathered with the others arriving now. */
  async markSent(record: SentRecord): Promise<MarkSentOutcome> {
    return (await this.owned.add(record)) ? "sent" : adoptSent(this.ctx, record);
  }

  /** `applyEarlyCallbacks` of one SID, gathered with the others arriving now. */
  applyEarlyCallbacks(sid: string): Promise<undefined> {
    return this.lookups.add(sid);
  }
}

/** Items added within a window, handed to `run` together; each caller gets its own result. */
class Gathering<In, Out> {
  private waiting: { item: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] =
    [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly run: (items: In[]) => Promise<Out[]>) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= GATHER_MOST) this.flush();
      // Not unref'd: the process must not end with outcomes it has not written.
      else this.timer ??= setTimeout(() => this.flush(), GATHER_WINDOW_MS);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken = this.waiting;
    this.waiting = [];
    this.run(taken.map((t) => t.item)).then(
      (outs) => {
        taken.forEach((t, i) => {
          t.resolve(outs[i] as Out);
        });
      },
      (error: unknown) => {
        for (const t of taken) t.reject(error);
      },
    );
  }
}
