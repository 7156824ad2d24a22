import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "#src/config.ts";
import {
  CookieJar,
  csrfToken,
  httpRequest,
  killGroup,
  newcomerEnv,
  type PortalProcess,
  portalCommand,
  spawnPortal,
} from "#test/support/process.ts";
import { waitFor } from "#test/support/sms.ts";

/**
 * The README's "First steps", walked as a newcomer would: this test reads the section, runs the
 * commands it gives (the compiled portal, as `npm start` runs it, in a fresh folder with no
 * settings), and logs in with the credentials it tells the reader to use, looking for the pages it
 * names. A README whose command, login or page no longer works fails here.
 */

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
const packageJson = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"),
) as { scripts: Record<string, string> };

/** The "First steps" section, up to the next heading of its level. */
function firstSteps(): string {
  const start = readme.indexOf("\n## First steps\n");
  expect(start, 'README.md has no "## First steps" section').toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The `npm ...` commands the section gives, in order, each as the words a shell would see. */
function commands(section: string): string[][] {
  return [...section.matchAll(/`(npm [^`]+)`/g)].map((m) => m[1]!.trim().split(/\s+/));
}

/** What `npm start` / `npm run portal -- ARGS` run: the `portal` command's arguments. */
function portalArgs(words: string[]): string[] {
  const [, script, ...rest] = words;
  if (script === "start") {
    // npm start builds the bundle and runs `node dist/portal.js serve`: the global setup built it.
    expect(packageJson.scripts.start).toMatch(/node .*dist\/portal\.js serve$/);
    return ["serve"];
  }
  if (script === "run" && rest[0] === "portal" && rest[1] === "--") {
    expect(packageJson.scripts.portal).toMatch(/src\/cli\/portal\.ts$/);
    return rest.slice(2);
  }
  throw new Error(`the README's first steps say \`${words.join(" ")}\`: walk it in this test`);
}

function linkTo(html: string, label: string): string {
  const escaped = label.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const href = new RegExp(`<a href="([^"]+)"[^>]*>\\s*${escaped}\\s*</a>`).exec(html)?.[1];
  expect(href, `no link "${label}" on the page`).toBeDefined();
  return href!.replaceAll("&amp;", "&");
}

let folder: string;
let serve: PortalProcess | undefined;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "portal-first-steps-"));
});
afterEach(() => {
  if (serve) killGroup(serve.pid);
  serve = undefined;
  rmSync(folder, { recursive: true, force: true });
});

describe("README: First steps", () => {
  it("works exactly as written: npm start prints the first admin, the demo seed adds demo.student1, both log in and see the pages named", async () => {
    const section = firstSteps();
    const steps = commands(section).map((words) => ({ words, args: portalArgs(words) }));
    const start = steps.find((step) => step.args[0] === "serve");
    expect(start, "the first steps start the portal").toBeDefined();
    expect(steps[0], "the first step starts the portal").toBe(start);

    // The only setting given: a free port instead of the README's 3000 (the default; checked).
    const readmeUrl = /<(http:\/\/localhost:(\d+))>/.exec(section);
    expect(readmeUrl, "the first steps give the portal's address").not.toBeNull();
    expect(Number(readmeUrl![2])).toBe(loadConfig({}, {}).PORT);
    const env = newcomerEnv({ PORT: "0" });

    serve = spawnPortal(start!.args, env, folder);
    const running = serve;
    const url = await waitFor(
      () => /open (http:\/\/localhost:\d+)/.exec(running.output())?.[1],
      30_000,
      `the portal to listen; it printed:\n${running.output()}`,
    );
    const said = /creates `([^`]+)`/.exec(section)?.[1];
    expect(said, "the first steps say where the database goes").toBeDefined();
    expect(existsSync(join(folder, said!))).toBe(true);

    // What it prints once, as the README shows it, with the generated password in place.
    const block = /It prints, once[^\n]*\n\n\s*```\n([\s\S]*?)\n\s*```/.exec(section)?.[1];
    expect(block, "the first steps show what npm start prints").toBeDefined();
    const [, adminEmail, examplePassword] =
      /First admin created: (\S+)\s+password: (\S+)/.exec(block!) ?? [];
    expect(adminEmail && examplePassword).toBeTruthy();
    const adminPassword = new RegExp(
      `First admin created: ${adminEmail!.replaceAll(".", "\\.")}\\s+password: (\\S+)`,
    ).exec(running.output())?.[1];
    expect(adminPassword, `no first admin in:\n${running.output()}`).toBeDefined();
    for (const line of block!.split("\n").map((l) => l.trim()))
      expect(running.output()).toContain(line.replace(examplePassword!, adminPassword!));

    // Every other command, in order, against the running portal.
    const run = promisify(execFile);
    const printed: string[] = [];
    for (const step of steps) {
      if (step === start) continue;
      // Run after the logins below: it changes the admin's password.
      if (step.args[0] === "create-admin") continue;
      const { stdout } = await run(process.execPath, portalCommand(...step.args), {
        cwd: folder,
        env,
      });
      printed.push(stdout);
    }

    async function logIn(email: string, password: string) {
      const jar = new CookieJar();
      const form = jar.take(await httpRequest(`${url}/login`));
      const answer = jar.take(
        await httpRequest(`${url}/login`, {
          cookie: jar.header,
          form: { email, password, _csrf: csrfToken(form.body) },
        }),
      );
      // Logged in: sent on to the person's own pages (a refused login answers the form again).
      expect(
        `${answer.status} ${answer.location}`,
        `logging in as ${email}: ${answer.body.slice(0, 300)}`,
      ).toMatch(/^30[23] \/(admin|student)/);
      const home = await httpRequest(`${url}${answer.location}`, { cookie: jar.header });
      expect(home.status).toBe(200);
      return {
        home: home.body,
        open: async (label: string, html = home.body) => {
          const page = await httpRequest(`${url}${linkTo(html, label)}`, { cookie: jar.header });
          expect(page.status, `${label} for ${email}`).toBe(200);
          return page.body;
        },
      };
    }

    // Step 2: the home page offers Register.
    const registerLabel = /\(\*\*(Register)\*\*\)/.exec(section)?.[1];
    expect(registerLabel).toBe("Register");
    linkTo((await httpRequest(`${url}/login`)).body, registerLabel!);

    // Step 3 and 5: the admin, with the printed password, opens the pages named.
    const admin = await logIn(adminEmail!, adminPassword!);
    const adminPages = [
      /Log in as the admin, open \*\*([^*]+)\*\*/.exec(section)?.[1],
      /\*\*([^*]+)\*\* \(admin\)/.exec(section)?.[1],
    ];
    expect(adminPages).toEqual([expect.any(String), expect.any(String)]);
    for (const label of adminPages) await admin.open(label!);

    // The demo login the README gives, made by its seed command.
    const [, demoPassword, demoEmail] =
      /password `([^`]+)`, e\.g\. `([^`]+@[^`]+)`/.exec(section) ?? [];
    expect(demoEmail && demoPassword, "the first steps give a demo login").toBeTruthy();
    expect(printed.join("")).toContain(`Log in as a student: ${demoEmail} / ${demoPassword}`);
    // Step 4: the student sees their dashboard and the page named.
    const student = await logIn(demoEmail!, demoPassword!);
    const studentPage = /Log in as the student: [^*]*\*\*([^*]+)\*\*/.exec(section)?.[1];
    expect(studentPage).toBeDefined();
    const profile = await student.open(studentPage!);
    expect(profile).toContain(demoEmail!);

    // "Lost it?": the create-admin command prints a new password that logs in.
    const reset = steps.find((step) => step.args[0] === "create-admin");
    expect(reset, "the first steps say how to set a lost password").toBeDefined();
    const { stdout } = await run(process.execPath, portalCommand(...reset!.args), {
      cwd: folder,
      env,
    });
    const newPassword = /with password: (\S+)/.exec(stdout)?.[1];
    expect(newPassword, stdout).toBeDefined();
    await logIn(adminEmail!, newPassword!);
  });
});
