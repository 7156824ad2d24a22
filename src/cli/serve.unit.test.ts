import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startServerProcess } from "#test/support/server.ts";
import { waitFor } from "#test/support/sms.ts";

describe("npm start on an empty data folder", () => {
  it("creates data/portal.db, prints a one-time admin password that works, and prints it only once", async () => {
    const first = await startServerProcess({}, undefined, { npmStart: true });
    let dataDir = first.dataDir;
    try {
      const printed = /First admin created: (\S+)\s+password: (\S+)/.exec(first.output());
      expect(printed?.[1]).toBe("admin@placement.local");
      expect(existsSync(join(dataDir, "portal.db"))).toBe(true);
      expect(first.output()).toContain("Write it down now");
      // It works: log in through the real server.
      const login = await fetch(`${first.url}/login`);
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const token = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
      const response = await fetch(`${first.url}/login`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: token, email: printed![1]!, password: printed![2]! }),
      });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/admin");
    } finally {
      await first.stop({ keepData: true });
    }
    // A second start on the same data prints no password.
    const second = await startServerProcess({}, dataDir, { npmStart: true });
    dataDir = second.dataDir;
    try {
      expect(second.output()).not.toContain("First admin created");
      // The compiled portal runs its SMS dispatcher on its own thread.
      await waitFor(() =>
        readFileSync(join(dataDir, "logs", "sms.log"), "utf8").includes("dispatcher started"),
      );
    } finally {
      await second.stop();
    }
  });
});
