import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, LONE_SURROGATE } from "#test/support/unicode.ts";
import { APPLICATION_STATUSES } from "../db/schema.ts";
import { countSegments, normaliseForSms } from "./encoding.ts";
import {
  announcementSms,
  approvalSms,
  jobPostedSms,
  rejectionSms,
  statusUpdateSms,
  testSms,
} from "./templates.ts";

describe("SMS templates", () => {
  it("render the texts with their variables", () => {
    expect(approvalSms.render({ fullName: "Asha Rao", rollNumber: "1XY21CS001" })).toBe(
      "Dear Asha, your Placement Portal account (1XY21CS001) has been approved. You can now log in and apply for jobs.",
    );
    expect(
      statusUpdateSms.render({
        fullName: "Asha Rao",
        company: "Infosys",
        title: "SE",
        status: "shortlisted",
      }),
    ).toBe(
      "Dear Asha, your status for Infosys - SE has been updated to 'Shortlisted'. Check the Placement Portal for details.",
    );
    expect(testSms.render({ time: "T" })).toBe("Test message from Placement Portal. Time: T");
  });

  it("stay in GSM-7 (one price per segment) even when they cut a long variable", () => {
    const long = "x".repeat(500);
    const bodies = [
      rejectionSms.render({ fullName: "A B", rollNumber: "R1", reason: long }),
      announcementSms.render({ title: long, message: long }),
      jobPostedSms.render({ company: long, title: long, type: "placement", applyBy: "1 Dec 2026" }),
      statusUpdateSms.render({ fullName: "A", company: long, title: long, status: "selected" }),
    ];
    for (const body of bodies) {
      expect(body).toContain("...");
      expect(countSegments(body).encoding).toBe("GSM-7");
    }
    expect(countSegments(bodies[1]!).segments).toBe(2);
    expect(bodies[1]).toMatch(/x\.\.\. Read it all on the Placement Portal\.$/);
  });

  it("send curly quotes, dashes and ₹ as GSM-7, in one segment when the text fits", () => {
    const body = jobPostedSms.render({
      company: "Tata Consultancy Services",
      title: "“Ninja” – Systems Engineer (₹3.6 LPA)",
      type: "placement",
      applyBy: "1 Dec 2026",
    });
    expect(body).toBe(
      'New opportunity: Tata Consultancy Services - "Ninja" - Systems Engineer (Rs.3.6 LPA) (placement). You are eligible. Apply by 1 Dec 2026 on the Placement Portal.',
    );
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
    const announcement = announcementSms.render({
      title: "Pre-placement talk",
      message: "Infosys’ PPT on Monday — 10 am… fee ₹0",
    });
    expect(announcement).toBe(
      "Placement Office: Pre-placement talk. Infosys' PPT on Monday - 10 am... fee Rs.0",
    );
    expect(countSegments(announcement)).toMatchObject({ encoding: "GSM-7", segments: 1 });
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
const renders: [string, number, fc.Arbitrary<string>][] = [
  [
    "approval",
    approvalSms.maxSegments,
    fc.record({ fullName: anyText(), rollNumber }).map((vars) => approvalSms.render(vars)),
  ],
  [
    "rejection",
    rejectionSms.maxSegments,
    fc
      .record({ fullName: anyText(), rollNumber, reason: fc.option(anyText(), { nil: undefined }) })
      .map((vars) => rejectionSms.render(vars)),
  ],
  [
    "status_update",
    statusUpdateSms.maxSegments,
    fc
      .record({
        fullName: anyText(),
        company: anyText(),
        title: anyText(),
        status: fc.constantFrom(...APPLICATION_STATUSES),
      })
      .map((vars) => statusUpdateSms.render(vars)),
  ],
  [
    "job_posted",
    jobPostedSms.maxSegments,
    fc
      .record({
        company: anyText(),
        title: anyText(),
        type: fc.constantFrom("placement", "internship", "drive"),
        applyBy: fc.constantFrom("1 Dec 2026", "31 Jan 2027"),
      })
      .map((vars) => jobPostedSms.render(vars)),
  ],
  [
    "announcement",
    announcementSms.maxSegments,
    fc
      .record({ title: anyText(120), message: anyText(1200) })
      .map((vars) => announcementSms.render(vars)),
  ],
];

describe.each(renders)("the %s text, for any unicode input", (_id, maxSegments, bodies) => {
  it(`stays within ${maxSegments} segments, normalised, with no lone surrogate`, () => {
    fc.assert(
      fc.property(bodies, (body) => {
        expect(countSegments(body).segments).toBeLessThanOrEqual(maxSegments);
        expect(body).not.toMatch(LONE_SURROGATE);
        expect(normaliseForSms(body)).toBe(body);
      }),
      { numRuns: 200 },
    );
  });
});
