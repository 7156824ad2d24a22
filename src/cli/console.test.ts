import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  httpRequest,
  isAlive,
  killGroup,
  newcomerEnv,
  type PortalProcess,
  spawnPortal,
  spawnPortalOnTerminal,
} from "#test/support/process.ts";
import { waitFor } from "#test/support/sms.ts";

/**
 * What `npm start` prints: readable lines on a terminal (a pseudo-terminal here, util-linux
 * `script`), JSON lines when its output is not a terminal or NODE_ENV=production, and the first
 * admin's password once, in a box of its own, in both.
 */

let folder: string;
let running: (PortalProcess & { portalPid?(): number | undefined }) | undefined;
let portalPid: number | undefined;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "portal-console-"));
});
afterEach(() => {
  if (portalPid !== undefined && isAlive(portalPid)) process.kill(portalPid, "SIGKILL");
  if (running) killGroup(running.pid);
  running = undefined;
  portalPid = undefined;
  rmSync(folder, { recursive: true, force: true });
});

/** What a person reads: without colours and carriage returns. */
const plain = (text: string) => stripVTControlCharacters(text).replaceAll("\r", "");

/** Starts `serve`, asks for /login once, waits for its line, stops it with SIGTERM; the output. */
async function serveOnce(
  start: () => PortalProcess & { portalPid?(): number | undefined },
  answered: RegExp,
): Promise<string> {
  running = start();
  const serve = running;
  const url = await waitFor(
    () => /open (http:\/\/\S+)/.exec(plain(serve.output()))?.[1],
    30_000,
    `the portal to listen; it printed:\n${serve.output()}`,
  );
  expect((await httpRequest(`${url}/login`)).status).toBe(200);
  await waitFor(() => answered.test(plain(serve.output())), 10_000, "the request's log line");
  portalPid = serve.portalPid ? serve.portalPid() : serve.pid;
  expect(portalPid).toBeDefined();
  process.kill(portalPid!, "SIGTERM");
  await serve.exited;
  return plain(serve.output());
}

/** The first admin's box: a rule, the credentials, the warning, a rule, blank lines around. */
const BOX =
  /\n\n {2}\+-+\+\n {2}\| First admin created: admin@placement\.local {2}password: (\S{16}) \|\n {2}\| Write it down now: it will not be shown again\. +\|\n {2}\+-+\+\n\n/;

function passwordShownOnce(output: string): string {
  const password = BOX.exec(output)?.[1];
  expect(password, `no first-admin box in:\n${output}`).toBeDefined();
  expect(output.split(password!)).toHaveLength(2);
  return password!;
}

describe("the console of npm start", () => {
  it("on a terminal: one readable line per event (time, level, message), one per request, the password in a box", async () => {
    const output = await serveOnce(
      () => spawnPortalOnTerminal(["serve"], newcomerEnv({ PORT: "0" }), folder),
      /INFO: GET \/login 200/,
    );
    passwordShownOnce(output);
    const lines = output.split("\n").filter((line) => line.trim() !== "");
    expect(lines.filter((line) => line.trimStart().startsWith("{"))).toEqual([]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: GET \/login 200 \d+ ms$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] WARN: SMS capture mode: no Twilio credentials/),
    );
    // No line of a request's details (headers, addresses) on lines of its own.
    expect(output).not.toContain("incoming request");
    expect(output).not.toContain("remoteAddress");
  });

  it("not on a terminal: JSON lines for machines, the password in the same box, never in a JSON line", async () => {
    const output = await serveOnce(
      () => spawnPortal(["serve"], newcomerEnv({ PORT: "0" }), folder),
      /"request completed"/,
    );
    const password = passwordShownOnce(output);
    const outsideBox = output
      .replace(BOX, "\n")
      .split("\n")
      .filter((line) => line.trim() !== "");
    const notJson = outsideBox.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([expect.stringMatching(/^Placement Portal: open http:/)]);
    expect(outsideBox.filter((line) => line.includes(password))).toEqual([]);
    const answered = outsideBox
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg: string; res?: { statusCode: number } })
      .find((entry) => entry.msg === "request completed");
    expect(answered?.res?.statusCode).toBe(200);
  });

  it("on a terminal with NODE_ENV=production or LOG_FORMAT=json: JSON lines; the password is printed on the first start only", async () => {
    const production = await serveOnce(
      () =>
        spawnPortalOnTerminal(
          ["serve"],
          newcomerEnv({
            PORT: "0",
            NODE_ENV: "production",
            SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
          }),
          folder,
        ),
      /"request completed"/,
    );
    passwordShownOnce(production);
    expect(production).toMatch(/^\{"level":30,.*"msg":"request completed"\}$/m);
    const again = await serveOnce(
      () =>
        spawnPortalOnTerminal(["serve"], newcomerEnv({ PORT: "0", LOG_FORMAT: "json" }), folder),
      /"request completed"/,
    );
    expect(again).not.toContain("First admin created");
    expect(again).toMatch(/^\{"level":30,.*"msg":"request completed"\}$/m);
  });
});
