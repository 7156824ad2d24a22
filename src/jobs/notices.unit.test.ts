import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, assertWithinBudget } from "#test/support/unicode.ts";
import { countSegments } from "../sms/encoding.ts";
import { jobPostedSms } from "./notices.ts";

describe("job alert SMS", () => {
  it("stays in GSM-7 when it cuts a long company and title", () => {
    const long = "x".repeat(500);
    const body = jobPostedSms.render({
      company: long,
      title: long,
      type: "placement",
      apply_by: "1 Dec 2026",
    });
    expect(body).toContain("...");
    expect(countSegments(body).encoding).toBe("GSM-7");
  });

  it("sends curly quotes, dashes and ₹ as GSM-7, in one segment when the text fits", () => {
    const body = jobPostedSms.render({
      company: "Tata Consultancy Services",
      title: "“Ninja” – Systems Engineer (₹3.6 LPA)",
      type: "placement",
      apply_by: "1 Dec 2026",
    });
    expect(body).toBe(
      'New opportunity: Tata Consultancy Services - "Ninja" - Systems Engineer (Rs.3.6 LPA) (placement). You are eligible. Apply by 1 Dec 2026 on the Placement Portal.',
    );
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it(`stays within ${jobPostedSms.maxSegments} segments, normalised, with no lone surrogate, for any unicode input`, () => {
    assertWithinBudget(
      fc
        .record({
          company: anyText(),
          title: anyText(),
          type: fc.constantFrom("placement", "internship", "drive"),
          apply_by: fc.constantFrom("1 Dec 2026", "31 Jan 2027"),
        })
        .map((vars) => jobPostedSms.render(vars)),
      jobPostedSms.maxSegments,
    );
  });
});
