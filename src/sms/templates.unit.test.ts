import { describe, expect, it } from "vitest";
import { countSegments } from "./encoding.ts";
import { clip, firstName, testSms } from "./templates.ts";

describe("SMS template helpers", () => {
  it("render the test message", () => {
    expect(testSms.render({ time: "T" })).toBe("Test message from Placement Portal. Time: T");
  });

  it("cut a long variable with three dots, which stay GSM-7", () => {
    const cut = clip(`${"x".repeat(500)}  `, 40);
    expect(cut).toHaveLength(40);
    expect(cut.endsWith("...")).toBe(true);
    expect(countSegments(cut).encoding).toBe("GSM-7");
    expect(clip("  short \n text ", 40)).toBe("short text");
    expect(firstName("  Asha Rao ")).toBe("Asha");
  });
});
