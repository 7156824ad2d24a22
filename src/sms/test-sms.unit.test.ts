import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portalCommand } from "#test/support/process.ts";
import { startEmulator, TEST_AUTH_TOKEN, twilioEnv } from "#test/support/sms.ts";
import type { TwilioEmulator } from "#tools/twilio-emulator/emulator.ts";
import { loadConfig } from "../config.ts";
import { runTestSms, TestSmsError } from "./test-sms.ts";

let emulator: TwilioEmulator;
let logDir: string;
beforeAll(async () => {
  emulator = await startEmulator();
  logDir = mkdtempSync(join(tmpdir(), "portal-test-sms-"));
});
afterAll(async () => {
  await emulator.close();
  rmSync(logDir, { recursive: true, force: true });
});

/** The SMS log's lines, parsed. */
function smsLog(dir: string): { msg: string; [field: string]: unknown }[] {
  return readFileSync(join(dir, "sms.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const run = promisify(execFile);
const portalTestSms = (args: string[], env: Record<string, string>) =>
  run(process.execPath, portalCommand("test-sms", ...args), {
    env: { ...process.env, LOG_LEVEL: "silent", LOG_DIR: logDir, DATABASE_URL: "", ...env },
  });

describe("portal test-sms", () => {
  it("prints the settings with the token masked, checks the credentials, formats the number and sends", async () => {
    const lines: string[] = [];
    const config = loadConfig({ ...twilioEnv(emulator), LOG_DIR: logDir }, {});
    const { sid } = await runTestSms(
      config,
      "98765 43210",
      { dryRun: false, now: new Date("2026-11-25T10:00:00Z") },
      (l) => lines.push(l),
    );
    const out = lines.join("\n");
    expect(out).toContain("SMS_BACKEND            twilio");
    expect(out).toContain(
      `TWILIO_AUTH_TOKEN      ${TEST_AUTH_TOKEN.slice(0, 4)}…(${TEST_AUTH_TOKEN.length} characters)`,
    );
    expect(out).not.toContain(TEST_AUTH_TOKEN);
    expect(out).toContain("Number: 98765 43210 -> +919876543210");
    expect(out).toContain("Credentials: OK");
    expect(out).toContain(`Sent: SID ${sid}`);
    const message = emulator.messages.find((m) => m.sid === sid)!;
    expect(message).toMatchObject({
      to: "+919876543210",
      body: "Test message from Placement Portal. Time: 2026-11-25T10:00:00.000Z",
    });
  });

  it("--dry-run stops before sending", async () => {
    const before = emulator.messages.length;
    const { stdout } = await portalTestSms(["9876543210", "--dry-run"], twilioEnv(emulator));
    expect(stdout).toContain("Dry run: not sent.");
    expect(emulator.messages.length).toBe(before);
  });

  it("exits non-zero with a one-line reason on an invalid number or refused credentials", async () => {
    await expect(portalTestSms(["12345"], twilioEnv(emulator))).rejects.toMatchObject({
      code: 1,
      stderr: 'portal: "12345" is not a usable number: This is not a valid phone number.\n',
    });
    await expect(
      portalTestSms(["9876543210"], twilioEnv(emulator, { TWILIO_AUTH_TOKEN: "wrong-token" })),
    ).rejects.toMatchObject({
      code: 1,
      stderr:
        "portal: credentials check failed: HTTP 401, Twilio error 20003: Authentication Error - invalid username\n",
    });
  });

  it("refuses a TWILIO_PHONE_NUMBER that is not in E.164 before sending anything", async () => {
    const before = emulator.messages.length;
    const refused = portalTestSms(
      ["9876543210"],
      twilioEnv(emulator, { TWILIO_PHONE_NUMBER: "my-office-number" }),
    );
    await expect(refused).rejects.toMatchObject({ code: 1 });
    const { stdout, stderr } = await refused.catch((error) => error);
    expect(stderr).toContain('Invalid TWILIO_PHONE_NUMBER="my-office-number"');
    expect(stderr).toContain("E.164");
    expect(stdout).not.toContain("Sent");
    expect(emulator.messages.length).toBe(before);
  });

  it("sends through the CLI and prints the SID", async () => {
    const { stdout } = await portalTestSms(["+91 98765 43210"], twilioEnv(emulator));
    expect(stdout).toMatch(/Sent: SID SM[0-9a-f]{32} \(status queued\)/);
  });

  it("says captured, not sent, without Twilio credentials", async () => {
    const { stdout } = await portalTestSms(["9876543210"], {});
    expect(stdout).toContain("capture mode");
    expect(stdout).toMatch(/Captured \(not sent to a phone\): SID CP/);
  });

  it("writes its steps to the SMS log with the number masked and no secret", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portal-test-sms-log-"));
    try {
      const config = loadConfig({ ...twilioEnv(emulator), LOG_DIR: dir, LOG_LEVEL: "info" }, {});
      const { sid } = await runTestSms(config, "98765 43210", { dryRun: false }, () => {});
      const lines = smsLog(dir);
      expect(lines.map((l) => l.msg)).toEqual([
        "test-sms: settings checked",
        "test-sms: credentials ok",
        "test-sms: sending",
        "test-sms: sent",
      ]);
      expect(lines[0]).toMatchObject({ kind: "test", backend: "twilio", enabled: true });
      expect(lines[2]).toMatchObject({ to: "+91******3210", encoding: "GSM-7", segments: 1 });
      expect(lines[3]).toMatchObject({ kind: "test", to: "+91******3210", sid, status: "queued" });
      const text = readFileSync(join(dir, "sms.log"), "utf8");
      expect(text).not.toContain("9876543210");
      expect(text).not.toContain(TEST_AUTH_TOKEN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("logs a refused send with Twilio's code", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portal-test-sms-log-"));
    try {
      const config = loadConfig({ ...twilioEnv(emulator), LOG_DIR: dir, LOG_LEVEL: "info" }, {});
      emulator.setKnobs({ failNext: { count: 1, status: 400, code: 21211 } });
      await expect(
        runTestSms(config, "9876543210", { dryRun: false }, () => {}),
      ).rejects.toThrowError(TestSmsError);
      const failed = smsLog(dir).at(-1)!;
      expect(failed).toMatchObject({
        msg: "test-sms: failed",
        kind: "test",
        to: "+91******3210",
        code: 21211,
        httpStatus: 400,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("logs refused credentials from the CLI", async () => {
    const dir = mkdtempSync(join(tmpdir(), "portal-test-sms-log-"));
    try {
      await expect(
        portalTestSms(
          ["9876543210"],
          twilioEnv(emulator, {
            TWILIO_AUTH_TOKEN: "wrong-token",
            LOG_DIR: dir,
            LOG_LEVEL: "info",
          }),
        ),
      ).rejects.toMatchObject({ code: 1 });
      const lines = smsLog(dir);
      expect(lines.map((l) => l.msg)).toEqual([
        "test-sms: settings checked",
        "test-sms: credentials refused",
      ]);
      expect(lines[1]).toMatchObject({ level: 50, kind: "test", code: 20003, httpStatus: 401 });
      expect(readFileSync(join(dir, "sms.log"), "utf8")).not.toContain("wrong-token");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
