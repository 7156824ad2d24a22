import { describe, expect, it } from "vitest";
import { countSegments } from "../sms/encoding.ts";
import { announcementSms } from "./notices.ts";

describe("announcement SMS", () => {
  it("cuts a long announcement to at most three GSM-7 segments", () => {
    const long = "x".repeat(500);
    const body = announcementSms.render({ title: long, message: long });
    expect(body).toContain("...");
    expect(body.endsWith("Read it all on the Placement Portal.")).toBe(true);
    const { encoding, segments } = countSegments(body);
    expect(encoding).toBe("GSM-7");
    expect(segments).toBeLessThanOrEqual(3);
  });
});
