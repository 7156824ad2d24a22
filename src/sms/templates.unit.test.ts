import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countSegments } from "./encoding.ts";
import { firstName, testSms } from "./templates.ts";

// The features' own texts are tested beside them (students, jobs, applications, announcements:
// notices.unit.test.ts), within their budgets for any unicode input.

describe("SMS template helpers", () => {
  it("render the test message", () => {
    expect(testSms.render({ time: "T" })).toBe("Test message from Placement Portal. Time: T");
    expect(firstName("  Asha Rao ")).toBe("Asha");
  });

  it("keep the test message within its one-segment budget, in GSM-7, for any time", () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        const body = testSms.render({ time: date.toISOString() });
        expect(countSegments(body)).toMatchObject({ encoding: "GSM-7" });
        expect(countSegments(body).segments).toBeLessThanOrEqual(testSms.maxSegments);
      }),
    );
  });
});
