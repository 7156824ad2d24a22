import { describe, expect, it } from "vitest";
import { createLogger, prettyDestination, resolveLogFormat } from "./log.ts";

/** The readable console (log.ts): lines as a person reads them, with nothing the JSON log hides. */
function prettyLog() {
  const lines: string[] = [];
  const log = createLogger(
    { LOG_LEVEL: "info" },
    prettyDestination({ write: (text: string) => lines.push(text) }, { colorize: false }),
  );
  return { log, lines };
}

describe("the readable console", () => {
  it("writes one line per event: time, level, message and its details", () => {
    const { log, lines } = prettyLog();
    log.warn({ jobs: 3, reason: "closed early" }, "alerts cancelled");
    expect(lines).toEqual([
      expect.stringMatching(
        /^\[\d\d:\d\d:\d\d\] WARN: alerts cancelled jobs=3 reason="closed early"\n$/,
      ),
    ]);
  });

  it("writes a request once, when answered, as method, path, status and time", () => {
    const { log, lines } = prettyLog();
    log.info(
      { reqId: "req-7", req: { method: "GET", url: "/admin/jobs?page=2" } },
      "incoming request",
    );
    expect(lines).toEqual([]);
    log.info({ reqId: "req-7", res: { statusCode: 200 }, responseTime: 4.4 }, "request completed");
    expect(lines).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: GET \/admin\/jobs\?page=2 200 4 ms\n$/),
    ]);
  });

  it("keeps secrets redacted, and shows an error's stack", () => {
    const { log, lines } = prettyLog();
    log.info({ password: "hunter22", user: { password_hash: "$argon2id$x" } }, "signed in");
    log.error({ err: new Error("database gone") }, "page failed");
    const text = lines.join("");
    expect(text).not.toContain("hunter22");
    expect(text).not.toContain("argon2id");
    expect(text).toContain("[redacted]");
    expect(text).toMatch(/ERROR: page failed\n {4}Error: database gone\n +at /);
  });

  it("is chosen by LOG_FORMAT, else pretty only on a terminal and never in production", () => {
    expect(resolveLogFormat({ LOG_FORMAT: "json" })).toBe("json");
    expect(resolveLogFormat({ LOG_FORMAT: "pretty", NODE_ENV: "production" })).toBe("pretty");
    expect(resolveLogFormat({ LOG_FORMAT: "auto", NODE_ENV: "production" })).toBe("json");
    // The test runner's output is a pipe, not a terminal.
    expect(resolveLogFormat({ LOG_FORMAT: "auto", NODE_ENV: "development" })).toBe(
      process.stdout.isTTY ? "pretty" : "json",
    );
  });
});
