import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { dbEpochMs, larger } from "../db/dialect.ts";
import type { AdaptiveRate } from "./rate.ts";

/**
 * How much sending time one booking takes: the budget row is written about five times a second
 * whatever the rate and however many dispatchers share it, and no dispatcher holds more than
 * about one and a half of them ahead (a transactional message another one claimed waits for
 * at most that, per dispatcher).
 */
const STRETCH_MS = 200;
/**
 * Booked time is used this late at most: time left unused by then is let go (the send it was for
 * ended early), and a send that reaches Twilio later than this after its time takes new time
 * (pacing.ts). Used later, it would add to what the others send then: the portal's sends in any
 * second stay within the pace over that second and this much more.
 */
export const LATE_MS = 150;
/** The window a 429 is measured over (rate.ts): a share is known for the last two of them. */
const SHARE_WINDOW_MS = 1000;
/** After a 429, the ceiling is final once the answers still on their way are in (rate.ts). */
const MEASURING_MS = 2000;

export type Slot = { waitMs: number } | { retryInMs: number };

/**
 * SMS_RATE_PER_SECOND for the whole portal: every dispatcher, in every process, books its sending
 * time from the one row of `sms_send_budget` (decision 025). The row holds the instant from which
 * time is still free, on the database's clock; a booking moves it on by a short stretch with one
 * atomic UPDATE ... RETURNING, and the dispatcher spaces its own sends inside the stretches it
 * holds (a three-segment message takes three segments' time). A ceiling found after a 429 is
 * written to the row, and every dispatcher reads it back with its next booking.
 */
export class SendBudget {
  /** Booked time not yet used, on this process's clock (epoch ms): [from, to). */
  private from = 0;
  private to = 0;
  private booking: Promise<void> | null = null;
  /** All the time this dispatcher booked (ms). */
  private bookedHere = 0;
  /**
   * At each recent booking (local epoch ms), the time booked by the whole portal and by this
   * dispatcher so far: its share of the portal's sending over any recent second.
   */
  private readonly bookings: { at: number; portal: number; here: number }[] = [];

  constructor(
    private readonly ctx: AppContext,
    private readonly rate: AdaptiveRate,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Books the start of a message of `segments`: `waitMs` until its time, or `retryInMs` when
   * this process already holds a stretch ahead and may book no more before then.
   */
  async take(segments: number): Promise<Slot> {
    for (;;) {
      const now = this.now();
      const need = (Math.max(1, segments) * 1000) / this.rate.perSecond;
      this.from = Math.max(this.from, now - LATE_MS);
      if (this.to - this.from >= need - 1e-6) {
        const at = this.from;
        this.from += need;
        return { waitMs: Math.max(0, at - now) };
      }
      // The next stretch is booked once half the one held is past: never more than about one
      // and a half stretches ahead of now.
      const bookAt = this.to - STRETCH_MS / 2;
      if (bookAt > now) return { retryInMs: bookAt - now };
      this.booking ??= this.book(Math.max(need, STRETCH_MS)).finally(() => {
        this.booking = null;
      });
      await this.booking;
    }
  }

  /** Moves the shared free instant on by `ms` and holds the stretch it covered. */
  private async book(ms: number): Promise<void> {
    const { db, dialect } = this.ctx;
    const dbNow = dbEpochMs(dialect);
    const row = await db
      .updateTable("sms_send_budget")
      .set({
        next_free_ms: sql<number>`${larger(dialect, dbNow, sql`next_free_ms`)} + ${ms}`,
        booked_ms: sql<number>`booked_ms + ${ms}`,
      })
      .where("id", "=", 1)
      .returning([
        "next_free_ms",
        "booked_ms",
        "ceiling_per_second",
        "ceiling_until_ms",
        dbNow.as("now_ms"),
      ])
      .executeTakeFirstOrThrow();
    const now = this.now();
    this.bookedHere += ms;
    this.bookings.push({ at: now, portal: Number(row.booked_ms), here: this.bookedHere });
    while (this.bookings.length > 2 && this.bookings[1]!.at < now - 2 * SHARE_WINDOW_MS)
      this.bookings.shift();
    // The database's instants on this clock: off by the answer's travel time at most.
    const offset = now - Number(row.now_ms);
    const start = Number(row.next_free_ms) - ms + offset;
    // Contiguous with what is held (nobody booked in between): one longer stretch.
    if (Math.abs(start - this.to) < 1) this.to = start + ms;
    else [this.from, this.to] = [start, start + ms];
    if (row.ceiling_per_second !== null && Number(row.ceiling_until_ms) > Number(row.now_ms))
      this.rate.adoptCeiling(Number(row.ceiling_per_second), Number(row.ceiling_until_ms) + offset);
  }

  /**
   * Twilio answered 429 to a send started at `startedAt`: the pace is lowered here at once, for
   * the portal as estimated from this process's share of the second before; once the answers
   * still on their way are in, the ceiling found goes to the row for every dispatcher.
   */
  rateLimited(startedAt: number): void {
    this.rate.rateLimited(startedAt, this.shareBefore(startedAt));
    const timer = setTimeout(() => {
      this.shareCeiling().catch((error) =>
        this.ctx.smsLog.warn({ err: error }, "could not share the rate ceiling found"),
      );
    }, MEASURING_MS);
    timer.unref();
  }

  /**
   * This dispatcher's part of the time the portal booked in about the second before `at`, by
   * its bookings' records (1 when the others booked nothing).
   */
  private shareBefore(at: number): number {
    const atOrBefore = (t: number) => this.bookings.findLast((b) => b.at <= t) ?? this.bookings[0];
    const [start, end] = [atOrBefore(at - SHARE_WINDOW_MS), atOrBefore(at)];
    if (!start || !end || end.portal - start.portal <= 0) return 1;
    const share = (end.here - start.here) / (end.portal - start.portal);
    return Math.min(1, Math.max(0.05, share));
  }

  /** Writes the ceiling found here to the row, for every dispatcher (2 s after a 429). */
  async shareCeiling(): Promise<void> {
    const found = this.rate.ceilingFound;
    if (!found) return;
    const keepMs = Math.max(0, found.until - this.now());
    await this.ctx.db
      .updateTable("sms_send_budget")
      .set({
        ceiling_per_second: found.perSecond,
        ceiling_until_ms: sql<number>`${dbEpochMs(this.ctx.dialect)} + ${keepMs}`,
      })
      .where("id", "=", 1)
      .execute();
  }
}
