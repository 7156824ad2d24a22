import { describe, expect, it } from "vitest";
import { countSegments } from "../sms/encoding.ts";
import { statusUpdateSms } from "./notices.ts";

describe("status update SMS", () => {
  it("renders the status's label", () => {
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
  });

  it("stays in GSM-7 when it cuts a long company and title", () => {
    const long = "x".repeat(500);
    const body = statusUpdateSms.render({
      fullName: "A",
      company: long,
      title: long,
      status: "selected",
    });
    expect(body).toContain("...");
    expect(countSegments(body).encoding).toBe("GSM-7");
  });
});
