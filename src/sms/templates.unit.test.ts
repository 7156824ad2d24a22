import { describe, expect, it } from "vitest";
import { countSegments } from "./encoding.ts";
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
    expect(countSegments(bodies[1]!).segments).toBeLessThanOrEqual(3);
  });
});
