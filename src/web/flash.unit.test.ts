import { describe, expect, it } from "vitest";
import { MAX_FLASH_BYTES, summariseForFlash, truncateBytes } from "./auth.ts";

describe("flash text", () => {
  it("cuts a long message to its byte budget at a whole character, marking the cut", () => {
    const long = "अ".repeat(1000);
    const cut = truncateBytes(long, MAX_FLASH_BYTES);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_FLASH_BYTES);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut.slice(0, -1)).toMatch(/^अ+$/);
    expect(truncateBytes("short", MAX_FLASH_BYTES)).toBe("short");
  });

  it("summarises a list as a few examples, repeats counted, and how many more", () => {
    expect(summariseForFlash(["a", "b"])).toBe("a; b");
    expect(summariseForFlash(["x", "x", "x", "a", "b", "c", "d"])).toBe("x (×3); a; b; and 2 more");
    const many = Array.from({ length: 100_000 }, (_, i) => `student ${i}: not allowed`);
    expect(summariseForFlash(many).length).toBeLessThan(200);
    expect(summariseForFlash(many)).toContain("and 99,997 more");
  });
});
