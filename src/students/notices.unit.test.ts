import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, assertWithinBudget } from "#test/support/unicode.ts";
import { countSegments } from "../sms/encoding.ts";
import { checkTemplateText, type SmsTemplate } from "../sms/templates.ts";
import {
  approvalSms,
  approvalVars,
  phoneCodeSms,
  phoneCodeVars,
  phoneCorrectedSms,
  phoneRegisteredSms,
  phoneReplacedSms,
  rejectionSms,
  rejectionVars,
} from "./notices.ts";

describe("registration SMS", () => {
  it("render the texts with their variables", () => {
    expect(
      approvalSms.render(approvalVars({ full_name: "Asha Rao", roll_number: "1XY21CS001" })),
    ).toBe(
      "Dear Asha, your Placement Portal account (1XY21CS001) has been approved. You can now log in and apply for jobs.",
    );
  });

  it("stay in GSM-7 even when they cut a long reason", () => {
    const body = rejectionSms.render(
      rejectionVars({ full_name: "A B", roll_number: "R1" }, "x".repeat(500)),
    );
    expect(body).toContain("...");
    expect(countSegments(body).encoding).toBe("GSM-7");
  });

  it("cut a Hindi name or reason to the UCS-2 budget, keeping the fixed text whole", () => {
    const body = rejectionSms.render(
      rejectionVars(
        { full_name: "स्नेहा पाटिल", roll_number: "1XY21CS001" },
        "दस्तावेज़ अधूरे हैं। ".repeat(20),
      ),
    );
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
      fc
        .record({ full_name: anyText(), roll_number: rollNumber })
        .map((student) => approvalSms.render(approvalVars(student))),
      approvalSms.maxSegments,
    );
  });

  it(`the rejection stays within ${rejectionSms.maxSegments} segments, normalised, with no lone surrogate`, () => {
    assertWithinBudget(
      fc
        .record({
          full_name: anyText(),
          roll_number: rollNumber,
          reason: fc.option(anyText(), { nil: undefined }),
        })
        .map(({ reason, ...student }) => rejectionSms.render(rejectionVars(student, reason))),
      rejectionSms.maxSegments,
    );
  });
});

describe("rejection without a reason", () => {
  it('says the reason was "not stated": one registered text serves both cases', () => {
    expect(
      rejectionSms.render(rejectionVars({ full_name: "Asha Rao", roll_number: "R1" }, "  ")),
    ).toBe(
      "Dear Asha, your Placement Portal registration (R1) was not approved. Reason: not stated. Please contact the placement office.",
    );
  });
});

describe("rejection with a reason that ends a sentence", () => {
  it("puts one full stop after it, never two", () => {
    const student = { full_name: "Asha Rao", roll_number: "R1" };
    for (const reason of [
      "Upload your marks card.",
      "Upload your marks card. ",
      "Upload your marks card!",
    ])
      expect(rejectionSms.render(rejectionVars(student, reason))).toBe(
        "Dear Asha, your Placement Portal registration (R1) was not approved. Reason: Upload your marks card. Please contact the placement office.",
      );
    // Only what closes it: a full stop inside the reason stays.
    expect(rejectionVars(student, "Marks card (sem. 5) missing.").reason).toBe(
      "Marks card (sem. 5) missing",
    );
    expect(rejectionVars(student, " . ").reason).toBe("not stated");
  });
});

describe("change of number SMS", () => {
  it("fit their budget in GSM-7 with the longest roll number, and name the other number by 4 digits", () => {
    const templates: SmsTemplate[] = [
      phoneCodeSms,
      phoneReplacedSms,
      phoneCorrectedSms,
      phoneRegisteredSms,
    ];
    for (const template of templates)
      expect(checkTemplateText(template, template.defaultText), template.id).toEqual({ ok: true });
    expect(phoneCodeSms.render(phoneCodeVars("042917", 10))).toBe(
      "Placement Portal: 042917 is your code to confirm this mobile number. It expires in 10 minutes. Did not ask for it? Ignore this SMS.",
    );
    const told = phoneReplacedSms.render({ roll_number: "1XY21CS001", ending: "6789" });
    expect(told).toBe(
      "Placement Portal: the mobile number of account 1XY21CS001 was changed to a number ending 6789. SMS no longer come here. Not you? Contact the placement office at once.",
    );
    expect(countSegments(told).encoding).toBe("GSM-7");
  });
});
