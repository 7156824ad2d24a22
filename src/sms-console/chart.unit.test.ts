import { describe, expect, it } from "vitest";
import { bucketKey, type ChartData, chartSummary, formatBucket } from "./chart.tsx";
import { filterRange, indiaDayStart, parseInstant } from "./console.ts";
import { explainError } from "./error-explanations.ts";

describe("chart buckets in India time", () => {
  it("puts an instant in its India hour and day (UTC+05:30)", () => {
    expect(bucketKey(new Date("2026-12-01T18:29:59.999Z"), "day")).toBe("2026-12-01");
    expect(bucketKey(new Date("2026-12-01T18:30:00.000Z"), "day")).toBe("2026-12-02");
    expect(bucketKey(new Date("2026-12-01T08:29:00Z"), "hour")).toBe("2026-12-01T13");
    expect(bucketKey(new Date("2026-12-01T08:30:00Z"), "hour")).toBe("2026-12-01T14");
  });

  it("names buckets in words and sums a chart up for screen readers", () => {
    expect(formatBucket("2026-12-02T14", "hour")).toBe("2 Dec 14:00");
    expect(formatBucket("2026-12-02", "day")).toBe("2 Dec 2026");
    const chart: ChartData = {
      unit: "hour",
      title: "Messages per hour",
      buckets: [
        {
          key: "2026-12-02T13",
          counts: { delivered: 1, sent: 0, captured: 0, queued: 0, failed: 0, unknown: 0 },
        },
        {
          key: "2026-12-02T14",
          counts: { delivered: 2, sent: 1, captured: 0, queued: 0, failed: 3, unknown: 0 },
        },
      ],
    };
    expect(chartSummary(chart)).toBe(
      "Messages per hour: 7 messages (3 delivered, 1 sent, awaiting report, 3 failed or not delivered); the busiest hour was 2 Dec 14:00 with 6.",
    );
    expect(chartSummary({ ...chart, buckets: [] })).toBe("Messages per hour: no messages.");
  });
});

describe("console dates", () => {
  it("reads India days and instants, refusing ones that do not exist", () => {
    expect(indiaDayStart("2026-12-02")?.toISOString()).toBe("2026-12-01T18:30:00.000Z");
    expect(indiaDayStart("2026-02-30")).toBeNull();
    expect(parseInstant("2026-12-02T10:00:00+05:30")?.toISOString()).toBe(
      "2026-12-02T04:30:00.000Z",
    );
    expect(parseInstant("2026-12-02T10:00:00")).toBeNull();
    expect(parseInstant("2026-02-30T10:00:00Z")).toBeNull();
    const range = filterRange({ page: 1, from: "2026-12-01", until: "2026-12-02" });
    expect(range.start?.toISOString()).toBe("2026-11-30T18:30:00.000Z");
    expect(range.end?.toISOString()).toBe("2026-12-02T18:30:00.000Z");
  });
});

describe("Twilio errors in words", () => {
  it("explains the codes the portal relies on and names any other by number", () => {
    expect(explainError(21211)).toMatchObject({ short: "Not a valid mobile number", known: true });
    expect(explainError(30007).action).toContain("DLT template");
    expect(explainError(21610).short).toBe("The student replied STOP");
    for (const code of [20003, 20429, 429, 21408, 21612, 21614, 30003, 30005, 30006, 30008])
      expect(explainError(code).known, String(code)).toBe(true);
    expect(explainError(63999)).toEqual({
      code: 63999,
      short: "Twilio error 63999",
      moreInfoUrl: "https://www.twilio.com/docs/errors/63999",
      known: false,
    });
  });
});
