import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, assertWithinBudget } from "#test/support/unicode.ts";
import { countSegments } from "../sms/encoding.ts";
import { approvalSms, rejectionSms } from "./notices.ts";

describe("registration SMS", () => {
  it("render the texts with their variables", () => {
    expect(approvalSms.render({ fullName: "Asha Rao", rollNumber: "1XY21CS001" })).toBe(
      "Dear Asha, your Placement Portal account (1XY21CS001) has been approved. You can now log in and apply for jobs.",
    );
  });

  it("stay in GSM-7 even when they cut a long reason", () => {
    const body = rejectionSms.render({
      fullName: "A B",
      rollNumber: "R1",
      reason: "x".repeat(500),
    });
    expect(body).toContain("...");
    expect(countSegments(body).encoding).toBe("GSM-7");
  });

  it("cut a Hindi name or reason to the UCS-2 budget, keeping the fixed text whole", () => {
    const body = rejectionSms.render({
      fullName: "स्नेहा पाटिल",
      rollNumber: "1XY21CS001",
      reason: "दस्तावेज़ अधूरे हैं। ".repeat(20),
    });
    expect(countSegments(body)).toMatchObject({ encoding: "UCS-2", segments: 2 });
    expect(body).toMatch(
      /^Dear स्नेहा, your Placement Portal registration \(1XY21CS001\) was not approved\. Reason: .+\.\.\.\. Please contact the placement office\.$/u,
    );
  });
});

const rollNumber = fc.stringMatching(/^[A-Z0-9/-]{3,20}$/);

describe("registration SMS, for any unicode input", () => {
  it(`the approval stays within ${approvalSms.maxSegments} segments, normalised, with no lone surrogate`, () => {
    assertWithinBudget(
      fc.record({ fullName: anyText(), rollNumber }).map((vars) => approvalSms.render(vars)),
      approvalSms.maxSegments,
    );
  });

  it(`the rejection stays within ${rejectionSms.maxSegments} segments, normalised, with no lone surrogate`, () => {
    assertWithinBudget(
      fc
        .record({
          fullName: anyText(),
          rollNumber,
          reason: fc.option(anyText(), { nil: undefined }),
        })
        .map((vars) => rejectionSms.render(vars)),
      rejectionSms.maxSegments,
    );
  });
});
