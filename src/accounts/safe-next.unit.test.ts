import { describe, expect, it } from "vitest";
import { safeNext } from "./routes.tsx";

describe("where login may send you back to", () => {
  it.each([
    ["/admin/audit", "/admin/audit"],
    ["/admin/students?status=pending&page=2", "/admin/students?status=pending&page=2"],
    ["//evil.example/x", ""],
    ["/\\evil.example", ""],
    ["/\t/evil.example", ""],
    ["/\n/evil.example", ""],
    ["/%0a", "/%0a"],
    ["https://evil.example", ""],
    ["evil.example", ""],
    [undefined, ""],
  ])("%j -> %j", (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
