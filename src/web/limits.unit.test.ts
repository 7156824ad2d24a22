import { describe, expect, it } from "vitest";
import { limitAddress, minutesUntil, tryAgainIn } from "./limits.ts";

describe("limit addresses", () => {
  it("counts IPv4 as it is, also when written as IPv6", () => {
    expect(limitAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(limitAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts IPv6 by its /64, however it is written", () => {
    expect(limitAddress("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(limitAddress("2001:DB8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(limitAddress("2001:0db8:0001:0002:0:0:0:9")).toBe("2001:db8:1:2::/64");
    expect(limitAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(limitAddress("::1")).toBe("0:0:0:0::/64");
    expect(limitAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("leaves anything else alone", () => {
    expect(limitAddress("unknown")).toBe("unknown");
  });
});

describe("waiting times", () => {
  it("rounds up to whole minutes, at least one", () => {
    const now = new Date("2026-12-02T10:00:00Z");
    expect(minutesUntil(new Date("2026-12-02T10:15:00Z"), now)).toBe(15);
    expect(minutesUntil(new Date("2026-12-02T10:00:01Z"), now)).toBe(1);
    expect(minutesUntil(new Date("2026-12-02T09:59:00Z"), now)).toBe(1);
    expect(tryAgainIn(1)).toBe("Try again in 1 minute.");
    expect(tryAgainIn(14)).toBe("Try again in 14 minutes.");
  });
});
