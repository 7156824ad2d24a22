import { describe, expect, it } from "vitest";
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
});
