import { describe, expect, it } from "vitest";
import { countSegments } from "../sms/encoding.ts";
import { jobPostedSms } from "./notices.ts";

describe("job alert SMS", () => {
  it("stays in GSM-7 when it cuts a long company and title", () => {
    const long = "x".repeat(500);
    const body = jobPostedSms.render({
      company: long,
      title: long,
      type: "placement",
      applyBy: "1 Dec 2026",
    });
    expect(body).toContain("...");
    expect(countSegments(body).encoding).toBe("GSM-7");
  });
});
