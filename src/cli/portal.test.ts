import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "#test/support/database.ts";
import { portalCommand } from "#test/support/process.ts";
import { authenticate } from "../accounts/service.ts";
import { buildContext } from "../app-context.ts";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";

const run = promisify(execFile);
const portal = (args: string[], env: Record<string, string>) =>
  run(process.execPath, portalCommand(...args), {
    env: { ...process.env, LOG_LEVEL: "silent", ...env },
  });

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await database.destroy();
});

describe("portal command", () => {
  it("create-admin creates an admin who can log in, and resets the password when run again", async () => {
    const env = { DATABASE_URL: database.url };
    const created = await portal(
      ["create-admin", "--email", "TPO@College.test", "--password", "first-pass-1"],
      env,
    );
    expect(created.stdout).toBe("Created admin tpo@college.test\n");
    const generated = await portal(["create-admin", "--email", "tpo@college.test"], env);
    const password = /with password: (\S+)/.exec(generated.stdout)?.[1];
    expect(generated.stdout).toMatch(
      /^Updated the password of admin tpo@college\.test with password: /,
    );

    const ctx = buildContext(loadConfig({}, {}), database, {
      log: createLogger({ LOG_LEVEL: "silent" }),
      smsLog: createLogger({ LOG_LEVEL: "silent" }),
    });
    expect(await authenticate(ctx, "tpo@college.test", "first-pass-1")).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(await authenticate(ctx, "tpo@college.test", password!)).toMatchObject({
      ok: true,
      user: { role: "admin" },
    });
  });

  it("stops on a bad setting with one line naming it, and a non-zero exit", async () => {
    await expect(portal(["serve"], { PORT: "eighty" })).rejects.toMatchObject({
      code: 1,
      stderr: 'portal: Invalid PORT="eighty": expected a whole number from 0 to 65535\n',
    });
  });

  it("refuses to serve with NODE_ENV=test, whose password hashes are the test suite's cheap ones", async () => {
    await expect(portal(["serve"], { NODE_ENV: "test", PORT: "0" })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^portal: NODE_ENV=test is the test suite's/),
    });
  });

  it("refuses an unknown command with the usage", async () => {
    await expect(portal(["frobnicate"], {})).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("Usage:"),
    });
  });

  it("seed --demo refuses a portal set up to send real SMS through Twilio, unless --allow-real-sms", async () => {
    const twilio = {
      DATABASE_URL: database.url,
      SMS_BACKEND: "twilio",
      TWILIO_ACCOUNT_SID: `AC${"1".repeat(32)}`,
      TWILIO_AUTH_TOKEN: "not-a-real-token",
      TWILIO_PHONE_NUMBER: "+15005550006",
    };
    const students = () =>
      database.db
        .selectFrom("students")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
        .then((r) => Number(r.n));
    await expect(portal(["seed", "--demo", "--students", "3"], twilio)).rejects.toMatchObject({
      code: 1,
      stderr:
        "portal: seed --demo refused: this portal sends real SMS through Twilio (SMS_BACKEND=twilio); seed a portal without Twilio credentials, or add --allow-real-sms\n",
    });
    expect(await students()).toBe(0);

    const allowed = await portal(
      ["seed", "--demo", "--students", "3", "--jobs", "1", "--allow-real-sms"],
      twilio,
    );
    expect(allowed.stdout).toContain("Seeded 3 students");
    const capture = await portal(["seed", "--demo", "--students", "2", "--jobs", "1"], {
      DATABASE_URL: database.url,
    });
    expect(capture.stdout).toContain("Seeded 2 students");
    expect(await students()).toBe(5);
  });
});
