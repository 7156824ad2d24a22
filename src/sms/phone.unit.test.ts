import { describe, expect, it } from "vitest";
import {
  formatPhoneE164,
  InvalidPhoneNumberError,
  maskPhone,
  maskPhoneNumbersIn,
} from "./phone.ts";

describe("formatPhoneE164", () => {
  it.each([
    ["9876543210", "+919876543210"],
    ["98765 43210", "+919876543210"],
    ["98765-43210", "+919876543210"],
    ["09876543210", "+919876543210"],
    ["919876543210", "+919876543210"],
    ["+91 98765 43210", "+919876543210"],
    ["+91-98765-43210", "+919876543210"],
    ["  (+91) 98765 43210 ", "+919876543210"],
    ["+1 415 555 2671", "+14155552671"],
    ["+44 7400 123456", "+447400123456"],
  ])("normalises %j to %s", (raw, e164) => {
    expect(formatPhoneE164(raw, "IN")).toBe(e164);
  });

  it("uses the default region for numbers written without +", () => {
    expect(formatPhoneE164("(415) 555-2671", "US")).toBe("+14155552671");
  });

  it.each([
    ["", "Enter a mobile number."],
    ["12345", "This is not a valid phone number."],
    ["98765", "This is not a valid phone number."],
    ["987654321012345", "This is not a valid phone number."],
    ["phone: 9876543210", "A phone number may contain only digits"],
    ["+91 80 2345 6789", "cannot receive SMS"], // a Bengaluru landline
  ])("refuses %j", (raw, reason) => {
    expect(() => formatPhoneE164(raw, "IN")).toThrowError(InvalidPhoneNumberError);
    expect(() => formatPhoneE164(raw, "IN")).toThrowError(reason);
  });
});

describe("maskPhone", () => {
  it("keeps the country code and the last four digits", () => {
    expect(maskPhone("+919876543210")).toBe("+91******3210");
    expect(maskPhone("+14155552671")).toBe("+1******2671");
  });
  it("reveals nothing of something that is not a number", () => {
    expect(maskPhone("12")).toBe("***");
  });
});

describe("maskPhoneNumbersIn", () => {
  it("masks numbers inside free text and URLs, and leaves other numbers alone", () => {
    expect(maskPhoneNumbersIn("The 'To' number +919876543210 is not a valid phone number.")).toBe(
      "The 'To' number +********3210 is not a valid phone number.",
    );
    expect(maskPhoneNumbersIn("/admin/sms?to=%2B919876543210&page=2")).toBe(
      "/admin/sms?to=********3210&page=2",
    );
    expect(maskPhoneNumbersIn("/admin/sms?to=98765 43210")).toBe("/admin/sms?to=******3210");
    expect(maskPhoneNumbersIn("/admin/jobs/42/applicants?page=3")).toBe(
      "/admin/jobs/42/applicants?page=3",
    );
  });
});
