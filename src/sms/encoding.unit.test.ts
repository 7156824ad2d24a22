import { describe, expect, it } from "vitest";
import { countSegments, MAX_BODY_CHARACTERS, MessageTooLongError } from "./encoding.ts";

describe("countSegments", () => {
  it.each([
    ["a".repeat(160), "GSM-7", 1],
    ["a".repeat(161), "GSM-7", 2],
    ["a".repeat(306), "GSM-7", 2],
    ["a".repeat(307), "GSM-7", 3],
    ["€".repeat(80), "GSM-7", 1], // extension characters count twice: 160 units
    ["€".repeat(81), "GSM-7", 2],
    [`${"a".repeat(152)}€`, "GSM-7", 1],
    ["अ".repeat(70), "UCS-2", 1],
    ["अ".repeat(71), "UCS-2", 2],
    ["अ".repeat(134), "UCS-2", 2],
    ["अ".repeat(135), "UCS-2", 3],
    [`${"a".repeat(69)}é`, "GSM-7", 1], // é is in GSM-7
    [`${"a".repeat(69)}ç`, "UCS-2", 1], // ç is not (only Ç is)
    [`${"a".repeat(70)}ç`, "UCS-2", 2],
  ])("%#: counts %s characters", (body, encoding, segments) => {
    expect(countSegments(body)).toMatchObject({ encoding, segments });
  });

  it("never splits an escape pair across segments", () => {
    // 152 plain characters and then a two-unit € do not fit 153 units: the € starts segment 2.
    const body = `${"a".repeat(152)}€${"a".repeat(153)}`;
    expect(countSegments(body).segments).toBe(3);
  });

  it("counts an emoji as two UTF-16 units", () => {
    expect(countSegments("😀".repeat(35))).toMatchObject({ encoding: "UCS-2", segments: 1 });
    expect(countSegments("😀".repeat(36))).toMatchObject({ encoding: "UCS-2", segments: 2 });
  });

  it("refuses a body over 1,600 characters with a clear error", () => {
    expect(() => countSegments("a".repeat(MAX_BODY_CHARACTERS))).not.toThrow();
    expect(() => countSegments("a".repeat(MAX_BODY_CHARACTERS + 1))).toThrowError(
      MessageTooLongError,
    );
    expect(() => countSegments("a".repeat(1601))).toThrowError(
      "at most 1600 characters; this one has 1601",
    );
  });
});
