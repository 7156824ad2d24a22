import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AUDIT_ACTION_KINDS } from "./words.ts";

describe("the audit log's What filter", () => {
  it("offers every action the log has words for", () => {
    // The words are a switch over the action; each case is an action the log can hold.
    const source = readFileSync(new URL("./words.ts", import.meta.url), "utf8");
    const worded = [...source.matchAll(/case "([a-z_]+\.[a-z_]+)":/g)].map((m) => m[1] ?? "");
    expect(worded.length).toBeGreaterThan(20);
    const offered = new Set(AUDIT_ACTION_KINDS.map((k) => k.action));
    expect(worded.filter((action) => !offered.has(action))).toEqual([]);
  });
});
