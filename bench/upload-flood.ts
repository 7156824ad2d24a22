/**
 * A flood of large multipart bodies (issue 20): the compiled portal (`npm run build`, `node
 * dist/portal.js serve`, NODE_ENV=production, one web process) on a fresh SQLite database, and
 * 200 clients in this process, each POSTing a 5 MB multipart body again and again for 15 s. The
 * server's resident memory (VmRSS of /proc/PID/status) is sampled every 100 ms; the report gives
 * its peak per scenario, with the requests answered and their status codes.
 *
 *   npm run bench:upload-flood                                   # /login, then /register with a bad token
 *   npm run bench:upload-flood -- --scenarios login,register-bad-token,register
 *   npm run bench:upload-flood -- --portal-root /path/to/older/checkout   # "before" figures
 *
 * Scenarios (each on a server of its own, so each peak is its own):
 * - `login`: /login with the session's real CSRF token, an email and a password, then the file.
 * - `register-bad-token`: /register with a wrong token, then the file.
 * - `register`: /register with the real token and the file (the fields are not a valid
 *   registration): what a client may still make the one anonymous upload route read.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { rssMb, startFlags, waitForUrl } from "./serve-lib.ts";

const { values } = parseArgs({
  options: {
    scenarios: { type: "string", default: "login,register-bad-token" },
    clients: { type: "string", default: "200" },
    duration: { type: "string", default: "15" },
    "body-mb": { type: "string", default: "5" },
    /** Milliseconds between two readings of the server's RSS. */
    interval: { type: "string", default: "100" },
    port: { type: "string", default: "3191" },
    /** Another checkout to measure (e.g. a worktree of an older commit, for "before" figures). */
    "portal-root": { type: "string" },
  },
});

const ROOT = values["portal-root"] ?? join(import.meta.dirname, "..");
const PORTAL = join(ROOT, "dist", "portal.js");
const START_FLAGS = startFlags(ROOT);
const PORT = Number(values.port);
const BASE = `http://127.0.0.1:${PORT}`;
const CLIENTS = Number(values.clients);
const BOUNDARY = "----upload-flood-boundary";

const SCENARIOS: Record<string, { path: string; fields(csrf: string): Record<string, string> }> = {
  login: {
    path: "/login",
    fields: (csrf) => ({ _csrf: csrf, email: "nobody@college.test", password: "not-a-password" }),
  },
  "register-bad-token": {
    path: "/register",
    fields: () => ({ _csrf: "not-the-token", full_name: "Flood" }),
  },
  register: { path: "/register", fields: (csrf) => ({ _csrf: csrf, full_name: "Flood" }) },
};

/** A session cookie and its CSRF token, from the login form as a browser gets them. */
async function session(): Promise<{ cookie: string; csrf: string }> {
  const form = await fetch(`${BASE}/login`);
  const cookie = form.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error("no CSRF token on /login");
  return { cookie, csrf };
}

/** Fields first (the token among them, as the portal's forms put it), then one large file. */
function multipartBody(fields: Record<string, string>, fileBytes: number): Buffer {
  let head = "";
  for (const [name, value] of Object.entries(fields))
    head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="resume"; filename="cv.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
  return Buffer.concat([
    Buffer.from(head),
    Buffer.alloc(fileBytes, 0x25),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

interface Tally {
  statuses: Map<number, number>;
  errors: Map<string, number>;
  answered: number;
  sentMb: number;
}

/** One POST of the body; resolves with the status, or the error's code when the socket failed. */
function post(agent: Agent, path: string, cookie: string, body: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      `${BASE}${path}`,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
          "content-length": body.length,
          cookie,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(body);
  });
}

async function flood(name: string): Promise<{ idle: number; peak: number; tally: Tally }> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`no scenario ${name}: ${Object.keys(SCENARIOS).join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), "portal-bench-upload-"));
  const server = spawn(process.execPath, [...START_FLAGS, PORTAL, "serve"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      DATABASE_URL: `file:${join(dir, "portal.db")}`,
      DATA_DIR: dir,
      LOG_DIR: join(dir, "logs"),
      LOG_LEVEL: "warn",
      SESSION_SECRET: "bench-upload-flood-session-secret-0123456789",
      PORT: String(PORT),
      HOST: "127.0.0.1",
      WEB_CONCURRENCY: "1",
      MALLOC_ARENA_MAX: "2",
      // To measure another number of upload turns than the default.
      ...(process.env.UPLOADS_AT_ONCE ? { UPLOADS_AT_ONCE: process.env.UPLOADS_AT_ONCE } : {}),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = server.pid!;
  try {
    await waitForUrl(`${BASE}/healthz`, 120_000);
    const { cookie, csrf } = await session();
    const body = multipartBody(
      scenario.fields(csrf),
      Math.round(Number(values["body-mb"]) * 1024 * 1024),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMb(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, Number(values.interval));
    const tally: Tally = { statuses: new Map(), errors: new Map(), answered: 0, sentMb: 0 };
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const deadline = Date.now() + Number(values.duration) * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (Date.now() < deadline) {
          const outcome = await post(agent, scenario.path, cookie, body);
          tally.sentMb += body.length / 1024 / 1024;
          if (typeof outcome === "number") {
            tally.answered++;
            tally.statuses.set(outcome, (tally.statuses.get(outcome) ?? 0) + 1);
          } else tally.errors.set(outcome, (tally.errors.get(outcome) ?? 0) + 1);
        }
      }),
    );
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid));
    agent.destroy();
    const health = await fetch(`${BASE}/healthz`);
    if (!health.ok) throw new Error(`/healthz answered ${health.status} after the flood`);
    return { idle, peak, tally };
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stderr.write("building dist/ (npm run build)...\n");
execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
const rows: { name: string; idle: number; peak: number; tally: Tally }[] = [];
for (const name of values.scenarios.split(",")) {
  process.stderr.write(
    `${name}: ${CLIENTS} clients, ${values["body-mb"]} MB each, ${values.duration} s...\n`,
  );
  const result = await flood(name);
  rows.push({ name, ...result });
  process.stderr.write(`  peak RSS ${result.peak} MB (idle ${result.idle} MB)\n`);
}

const counts = (map: Map<number | string, number>) =>
  [...map].map(([key, n]) => `${key} ×${n}`).join(", ") || "none";
console.log(
  "\n| scenario | path | RSS idle (MB) | peak RSS (MB) | answered | statuses | socket errors | MB sent |\n|---|---|---|---|---|---|---|---|",
);
for (const r of rows)
  console.log(
    `| ${r.name} | \`${SCENARIOS[r.name]!.path}\` | ${r.idle} | ${r.peak} | ${r.tally.answered} | ${counts(r.tally.statuses)} | ${counts(r.tally.errors)} | ${Math.round(r.tally.sentMb).toLocaleString("en-IN")} |`,
  );
process.exit(0);
