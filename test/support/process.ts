import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { inject } from "vitest";

/**
 * Helpers for tests that run the `portal` command as real processes and look at them from the
 * outside: the OS process tree, plain HTTP on a new connection per request.
 */

export interface PortalProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * The node arguments that run the `portal` command: the bundle the global setup built from this
 * checkout's source, as `npm start` runs it, without tsx compiling the source again in every process.
 */
export function portalCommand(...args: string[]): string[] {
  return ["--enable-source-maps", inject("portalBundle"), ...args];
}

/** `node portal.js ARGS`, in its own process group (killed whole on cleanup). */
export function spawnPortal(
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): PortalProcess {
  const child = spawn(process.execPath, portalCommand(...args), {
    detached: true,
    cwd,
    env: { ...process.env, NODE_ENV: "development", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return watched(child);
}

/** A started process as the tests hold it: its output so far (both streams) and its exit. */
function watched(child: ChildProcess): PortalProcess {
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  return {
    child,
    pid: child.pid!,
    output: () => output,
    exited: once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>,
  };
}

/** Kills what is left of a process group (a test that failed half-way). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** The pids of the node processes `parent` started (not helpers such as esbuild's). */
export function childNodePids(parent: number): number[] {
  let text = "";
  try {
    text = execFileSync("ps", ["--ppid", String(parent), "-o", "pid=,args="], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there is none
  }
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, command]) => command !== undefined && /(^|\/)node$/.test(command))
    .map(([pid]) => Number(pid));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface HttpAnswer {
  status: number;
  location: string | undefined;
  setCookie: string[];
  body: string;
}

/**
 * One request on a new TCP connection (no keep-alive agent): the cluster's primary hands each
 * connection to the next web process, so successive requests reach different processes.
 */
export function httpRequest(
  url: string,
  options: { method?: string; cookie?: string; form?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (body ? "POST" : "GET"),
        agent: false,
        headers: {
          connection: "close",
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...(body
            ? {
                "content-type": "application/x-www-form-urlencoded",
                "content-length": Buffer.byteLength(body),
              }
            : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            setCookie: res.headers["set-cookie"] ?? [],
            body: text,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A browser's cookie jar for one site, enough for the session cookie. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(answer: HttpAnswer): HttpAnswer {
    for (const line of answer.setCookie) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return answer;
  }
  get header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

export function csrfToken(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error("no CSRF token in the page");
  return token;
}

/**
 * The environment of a newcomer's shell: this one without any of the portal's settings (nor
 * NODE_ENV, which vitest sets to "test"), plus `extra`. With a fresh folder as the working
 * directory the portal starts as on a fresh checkout: defaults, no `.env`, `data/` created there.
 */
export function newcomerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const settings =
    /^(NODE_ENV|PORT|HOST|DATA_DIR|DATABASE_URL|SESSION_SECRET|ADMIN_|LOG_|SMS_|TWILIO_|WEB_CONCURRENCY|TRUST_PROXY|PUBLIC_BASE_URL)/;
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !settings.test(key)) env[key] = value;
  return { ...env, ...extra };
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `node portal.js ARGS` on a pseudo-terminal (util-linux `script`), as in a person's terminal:
 * its standard output is a TTY. `output()` is what the terminal shows (colours and carriage
 * returns included); `pid` is `script`'s, `portalPid()` the portal's own (to signal it).
 */
export function spawnPortalOnTerminal(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): PortalProcess & { portalPid(): number | undefined } {
  const command = `exec ${[process.execPath, ...portalCommand(...args)].map(shellQuote).join(" ")}`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    detached: true,
    cwd,
    env: { ...env, SHELL: "/bin/sh" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  return { ...watched(child), portalPid: () => childNodePids(child.pid!)[0] };
}
