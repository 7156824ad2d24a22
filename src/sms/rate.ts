/**
 * How fast the portal may start sends, in segments per second, as one dispatcher knows it: at
 * most the configured rate, and after Twilio answers 429, close to what Twilio actually accepted
 * rather than a fraction of it. The sending time itself is booked from the portal's one budget
 * (send-budget.ts), and a ceiling found here is shared through it with every dispatcher.
 * Additive increase, multiplicative decrease, with a memory of the ceiling found:
 *
 * - a 429 sets the rate to 98 % of the segments Twilio accepted from the sends started in the
 *   second before the refused one (what its window allowed), remembered as the ceiling for
 *   `ceilingMemoryMs`. Sends of that second still on their way are added as their answers come
 *   in: counting only the answers already back would set the ceiling too low. Further 429s within
 *   a second are echoes and change nothing;
 * - every `increaseEveryMs` without a 429 the rate grows by `increaseStep`, up to 98 % of a
 *   remembered ceiling, or up to the configured rate once the ceiling is forgotten (so a limit
 *   that was raised is found again).
 *
 * A plain halving would average 75 % of the allowed rate and pay a Retry-After pause on every
 * climb back; holding just under the ceiling found keeps 429s rare and throughput near it.
 */
export interface AdaptiveRateOptions {
  /** The configured rate (SMS_RATE_PER_SECOND): never exceeded. */
  maxPerSecond: number;
  now?: () => number;
  /** Share of the measured ceiling to settle at. */
  settleAt?: number;
  increaseEveryMs?: number;
  increaseStep?: number;
  ceilingMemoryMs?: number;
}

/** Sends by start time (epoch ms), oldest first, with their segments. */
type Starts = { at: number; segments: number }[];

function dropBefore(starts: Starts, at: number): void {
  while (starts.length > 0 && starts[0]!.at <= at) starts.shift();
}

/** Segments of the sends started in (from, to]. */
function segmentsBetween(starts: Starts, from: number, to: number): number {
  return starts.reduce((sum, s) => (s.at > from && s.at <= to ? sum + s.segments : sum), 0);
}

export class AdaptiveRate {
  private readonly max: number;
  private readonly now: () => number;
  private readonly settleAt: number;
  private readonly increaseEveryMs: number;
  private readonly increaseStep: number;
  private readonly ceilingMemoryMs: number;
  private current: number;
  private ceiling: { perSecond: number; until: number } | null = null;
  private lastChange: number;
  /** Sends started in the last second (admit), with their segments. */
  private readonly started: Starts = [];
  /** Segments Twilio accepted, by when their send started: the last two seconds of them. */
  private readonly accepted: Starts = [];
  /**
   * After a 429: the window whose accepted sends make the ceiling, open to late answers, and this
   * process's share of the portal's sending in it (each segment seen here stands for 1 / share).
   */
  private measuring: { from: number; to: number; until: number; share: number } | null = null;

  constructor(options: AdaptiveRateOptions) {
    this.max = options.maxPerSecond;
    this.now = options.now ?? Date.now;
    this.settleAt = options.settleAt ?? 0.98;
    this.increaseEveryMs = options.increaseEveryMs ?? 5_000;
    this.increaseStep = options.increaseStep ?? Math.max(0.1, this.max * 0.02);
    this.ceilingMemoryMs = options.ceilingMemoryMs ?? 300_000;
    this.current = this.max;
    this.lastChange = this.now();
  }

  /** Segments per second allowed now. */
  get perSecond(): number {
    this.grow();
    return this.current;
  }

  /**
   * The last gate before a send starts: how many ms to wait so that the segments started in any
   * second never exceed the pace (0: go now, and the start is counted). Even spacing alone is not
   * enough on a busy machine: timers that fire late release their sends together, and a burst of
   * catch-up sends overfills Twilio's sliding second although the average is right.
   */
  admit(segments: number): number {
    const now = this.now();
    dropBefore(this.started, now - 1000);
    const limit = Math.max(1, Math.floor(this.perSecond));
    let inWindow = segmentsBetween(this.started, now - 1000, now);
    const need = Math.min(Math.max(1, segments), limit);
    if (inWindow + need <= limit) {
      this.started.push({ at: now, segments });
      return 0;
    }
    // Wait until enough of the oldest starts have left the second.
    for (const s of this.started) {
      inWindow -= s.segments;
      if (inWindow + need <= limit) return Math.max(1, s.at + 1000 - now);
    }
    return 1000;
  }

  /** Twilio accepted a message of `segments` whose send started at `startedAt`. */
  recordAccepted(segments: number, startedAt: number): void {
    const now = this.now();
    this.accepted.push({ at: startedAt, segments });
    dropBefore(this.accepted, now - 2000);
    const m = this.measuring;
    if (m && this.ceiling && now <= m.until && startedAt > m.from && startedAt <= m.to) {
      this.ceiling.perSecond = Math.min(this.max, this.ceiling.perSecond + segments / m.share);
      this.current = Math.min(
        this.max,
        Math.max(this.current, this.ceiling.perSecond * this.settleAt),
      );
    }
  }

  /**
   * Twilio answered 429 to a send that started at `startedAt`. `share` is this process's part of
   * what the whole portal sent in the second before (1 when it sends alone): the ceiling is the
   * portal's, estimated from the segments accepted here.
   */
  rateLimited(startedAt: number, share = 1): void {
    const now = this.now();
    if (this.measuring && startedAt - this.measuring.to < 1000) return;
    const from = startedAt - 1000;
    const allowedSoFar = segmentsBetween(this.accepted, from, startedAt) / share;
    const allowed = allowedSoFar > 0 ? Math.min(allowedSoFar, this.current) : this.current / 2;
    this.measuring = { from, to: startedAt, until: now + 2000, share };
    this.ceiling = { perSecond: allowed, until: now + this.ceilingMemoryMs };
    this.current = Math.max(0.2, allowed * this.settleAt);
    this.lastChange = now;
  }

  /** The ceiling found after the last 429 and until when it is kept (epoch ms), if any. */
  get ceilingFound(): { perSecond: number; until: number } | null {
    this.grow();
    return this.ceiling ? { ...this.ceiling } : null;
  }

  /**
   * A dispatcher (maybe this one) found this ceiling after a 429, to be kept until `until` (epoch
   * ms): taken as if found here, unless this one knows of a newer one (found a second or more
   * later: the ceilings found after one burst of 429s are echoes of each other).
   */
  adoptCeiling(perSecond: number, until: number): void {
    if (this.ceiling && until < this.ceiling.until + 1000) return;
    this.measuring = null;
    this.ceiling = { perSecond, until };
    this.current = Math.max(0.2, Math.min(this.max, perSecond * this.settleAt));
    this.lastChange = this.now();
  }

  private grow(): void {
    const now = this.now();
    if (this.ceiling && now >= this.ceiling.until) this.ceiling = null;
    const cap = this.ceiling
      ? Math.min(this.max, this.ceiling.perSecond * this.settleAt)
      : this.max;
    // One step per quiet interval since the last change, however long the dispatcher idled.
    const steps = Math.floor((now - this.lastChange) / this.increaseEveryMs);
    if (steps <= 0) return;
    this.lastChange += steps * this.increaseEveryMs;
    if (this.current < cap) this.current = Math.min(cap, this.current + steps * this.increaseStep);
  }
}
