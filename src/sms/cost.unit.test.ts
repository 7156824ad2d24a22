import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../config.ts";
import { estimatedCost, smsNeedsConfirmation } from "./cost.ts";

describe("SMS cost estimate", () => {
  it("is off without SMS_PRICE_PER_SEGMENT, and priced in INR by default with it", () => {
    expect(estimatedCost(loadConfig({}, {}), 2480)).toBeNull();
    const config = loadConfig({ SMS_PRICE_PER_SEGMENT: "0.25" }, {});
    expect(config.SMS_PRICE_PER_SEGMENT).toBe(0.25);
    expect(estimatedCost(config, 2480)).toBe("about INR 620.00");
    // Indian digit grouping, as the counts beside it.
    expect(estimatedCost(config, 1_000_000)).toBe("about INR 2,50,000.00");
    expect(
      estimatedCost(
        loadConfig({ SMS_PRICE_PER_SEGMENT: "0.0079", SMS_PRICE_CURRENCY: "usd" }, {}),
        3,
      ),
    ).toBe("about USD 0.02");
  });

  it("refuses a price or currency that is not plain", () => {
    for (const bad of ["-1", "1e3", "0,25", "abc"])
      expect(() => loadConfig({ SMS_PRICE_PER_SEGMENT: bad }, {})).toThrowError(
        /^Invalid SMS_PRICE_PER_SEGMENT=.*: expected a decimal amount such as 0.25/,
      );
    expect(() => loadConfig({ SMS_PRICE_CURRENCY: "RUPEES" }, {})).toThrowError(ConfigError);
  });
});

describe("when an SMS fan-out asks first", () => {
  it("above 100 recipients, or any priced recipient; never for nobody", () => {
    const free = loadConfig({}, {});
    expect(smsNeedsConfirmation(free, 100)).toBe(false);
    expect(smsNeedsConfirmation(free, 101)).toBe(true);
    const priced = loadConfig({ SMS_PRICE_PER_SEGMENT: "0.25" }, {});
    expect(smsNeedsConfirmation(priced, 1)).toBe(true);
    expect(smsNeedsConfirmation(priced, 0)).toBe(false);
    expect(smsNeedsConfirmation(loadConfig({ SMS_PRICE_PER_SEGMENT: "0" }, {}), 100)).toBe(false);
  });
});
