import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, assertWithinBudget } from "#test/support/unicode.ts";
import { APPLICATION_STATUSES } from "../db/schema.ts";
import { countSegments } from "../sms/encoding.ts";
import {
  decisionCorrectedSms,
  decisionCorrectedVars,
  statusUpdateSms,
  statusUpdateVars,
} from "./notices.ts";

describe("status update SMS", () => {
  it("renders the status's label", () => {
    expect(
      statusUpdateSms.render(
        statusUpdateVars({
          fullName: "Asha Rao",
          company: "Infosys",
          title: "SE",
          status: "shortlisted",
        }),
      ),
    ).toBe(
      "Dear Asha, your status for Infosys - SE has been updated to 'Shortlisted'. Check the Placement Portal for details.",
    );
  });

  it("stays in GSM-7 when it cuts a long company and title", () => {
    const long = "x".repeat(500);
    const body = statusUpdateSms.render(
      statusUpdateVars({ fullName: "A", company: long, title: long, status: "selected" }),
    );
    expect(body).toContain("...");
    expect(countSegments(body).encoding).toBe("GSM-7");
  });

  it(`stays within ${statusUpdateSms.maxSegments} segments, normalised, with no lone surrogate, for any unicode input`, () => {
    assertWithinBudget(
      fc
        .record({
          fullName: anyText(),
          company: anyText(),
          title: anyText(),
          status: fc.constantFrom(...APPLICATION_STATUSES),
        })
        .map((vars) => statusUpdateSms.render(statusUpdateVars(vars))),
      statusUpdateSms.maxSegments,
    );
  });
});

describe("decision corrected SMS", () => {
  it("says the stage it is back at and the decision undone", () => {
    expect(
      decisionCorrectedSms.render(
        decisionCorrectedVars({
          fullName: "Asha Rao",
          company: "Infosys",
          title: "SE",
          status: "interview",
          previous: "selected",
        }),
      ),
    ).toBe(
      "Dear Asha, a correction: your status for Infosys - SE is 'Interview', not 'Selected'. Check the Placement Portal for details.",
    );
  });

  it(`stays within ${decisionCorrectedSms.maxSegments} segments, normalised, for any unicode input`, () => {
    assertWithinBudget(
      fc
        .record({
          fullName: anyText(),
          company: anyText(),
          title: anyText(),
          status: fc.constantFrom(...APPLICATION_STATUSES),
          previous: fc.constantFrom("selected", "rejected" as const),
        })
        .map((vars) => decisionCorrectedSms.render(decisionCorrectedVars(vars))),
      decisionCorrectedSms.maxSegments,
    );
  });
});
