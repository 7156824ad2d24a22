import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeQuietHours, parseQuietHours, type QuietHours, quietUntil } from "./quiet-hours.ts";

/** An instant given in India time, "2026-12-06T21:30". */
const ist = (local: string) => new Date(`${local}:00+05:30`);

describe("SMS_QUIET_HOURS", () => {
  it("reads a window, none, or refuses", () => {
    expect(parseQuietHours("21:00-09:00")).toEqual({ start: 1260, end: 540 });
    expect(parseQuietHours(" 13:30-14:00 ")).toEqual({ start: 810, end: 840 });
    expect(parseQuietHours("")).toBeNull();
    for (const bad of ["21-09", "9:00-21:00", "24:00-09:00", "21:00-21:00", "21:00 09:00", "x"])
      expect(parseQuietHours(bad), bad).toBeUndefined();
    expect(describeQuietHours(parseQuietHours("21:00-09:00") ?? null)).toBe(
      "21:00-09:00 India time",
    );
    expect(describeQuietHours(null)).toBe("off");
  });

  it("holds a message inside the window until it closes, in India time", () => {
    const night = parseQuietHours("21:00-09:00") as QuietHours;
    expect(quietUntil(ist("2026-12-06T20:59"), night)).toBeNull();
    expect(quietUntil(ist("2026-12-06T21:00"), night)).toEqual(ist("2026-12-07T09:00"));
    expect(quietUntil(ist("2026-12-06T23:59"), night)).toEqual(ist("2026-12-07T09:00"));
    // After local midnight (still the previous day in UTC until 05:30).
    expect(quietUntil(ist("2026-12-07T00:10"), night)).toEqual(ist("2026-12-07T09:00"));
    expect(quietUntil(ist("2026-12-07T08:59"), night)).toEqual(ist("2026-12-07T09:00"));
    expect(quietUntil(ist("2026-12-07T09:00"), night)).toBeNull();
    const lunch = parseQuietHours("13:00-14:00") as QuietHours;
    expect(quietUntil(ist("2026-12-07T13:15"), lunch)).toEqual(ist("2026-12-07T14:00"));
    expect(quietUntil(ist("2026-12-07T14:00"), lunch)).toBeNull();
    expect(quietUntil(ist("2026-12-07T13:15"), null)).toBeNull();
  });

  it("for any window and instant: the wait ends at the first minute outside it, within a day", () => {
    let inside = 0;
    let outside = 0;
    const minute = fc.integer({ min: 0, max: 24 * 60 - 1 });
    fc.assert(
      fc.property(
        minute,
        minute,
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
        (start, end, ms) => {
          fc.pre(start !== end);
          const window = { start, end };
          const at = new Date(Math.floor(ms / 60_000) * 60_000);
          const until = quietUntil(at, window);
          const localMinute = (at.getTime() / 60_000 + 330) % (24 * 60);
          const quiet =
            start < end
              ? localMinute >= start && localMinute < end
              : localMinute >= start || localMinute < end;
          if (!quiet) {
            outside += 1;
            expect(until).toBeNull();
            return;
          }
          inside += 1;
          expect(until).not.toBeNull();
          const wait = (until as Date).getTime() - at.getTime();
          expect(wait).toBeGreaterThan(0);
          expect(wait).toBeLessThanOrEqual(24 * 3_600_000);
          // The close is outside, the minute before it inside.
          expect(quietUntil(until as Date, window)).toBeNull();
          expect(quietUntil(new Date((until as Date).getTime() - 60_000), window)).toEqual(until);
        },
      ),
      { numRuns: 2000 },
    );
    expect(inside, "instants inside a window").toBeGreaterThan(200);
    expect(outside, "instants outside a window").toBeGreaterThan(200);
  });
});
