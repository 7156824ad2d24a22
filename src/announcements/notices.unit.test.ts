import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, assertWithinBudget } from "#test/support/unicode.ts";
import { countSegments } from "../sms/encoding.ts";
import { announcementSms } from "./notices.ts";

describe("announcement SMS", () => {
  it("cuts a long announcement to two GSM-7 segments and points to the portal", () => {
    const long = "x".repeat(500);
    const body = announcementSms.render({ title: long, message: long });
    expect(body).toMatch(/x\.\.\. Read it all on the Placement Portal\.$/);
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 2 });
  });

  it("sends curly quotes, dashes and ₹ as GSM-7, whole and in one segment when it fits", () => {
    const body = announcementSms.render({
      title: "Pre-placement talk",
      message: "Infosys’ PPT on Monday — 10 am… fee ₹0",
    });
    expect(body).toBe(
      "Placement Office: Pre-placement talk. Infosys' PPT on Monday - 10 am... fee Rs.0",
    );
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it(`stays within ${announcementSms.maxSegments} segments, normalised, with no lone surrogate, for any unicode input`, () => {
    assertWithinBudget(
      fc
        .record({ title: anyText(120), message: anyText(1200) })
        .map((vars) => announcementSms.render(vars)),
      announcementSms.maxSegments,
    );
  });
});
