/**
 * Pages over HTTP, as a browser's load reaches them: the compiled portal (`npm run build`,
 * `node dist/portal.js serve`, NODE_ENV=production) on a seeded database, a session cookie from the
 * real login form, and wrk with 8 connections on each page in turn (wrk shares the machine's cores
 * with the server, as it did for the figures in issue 10). Reports requests/s, p50/p99 latency, any
 * non-2xx answer, and the resident memory of the server's processes once the runs are over.
 *
 *   npm run bench:http                                  # SQLite, 10,000 students, 1 and 2 processes
 *   npm run bench:http -- --sizes 1000,10000,100000 --db sqlite,postgres
 *   npm run bench:http -- --postgres postgres://postgres@127.0.0.1:5432/test --db postgres
 *   npm run bench:http -- --portal-root /path/to/older/checkout --processes 1   # "before" figures
 *   npm run bench:http -- --processes 1 --pages /student --cpu-prof /tmp/prof && npx tsx bench/profile.ts /tmp/prof
 *
 * Sizes are `portal seed --demo --students N` (N/20 jobs, 10 N applications).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { rssMb, startFlags, waitForUrl } from "./serve-lib.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000" },
    db: { type: "string", default: "sqlite" },
    processes: { type: "string", default: "1,2" },
    postgres: { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
    duration: { type: "string", default: "8" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "8" },
    pages: { type: "string", default: "" },
    port: { type: "string", default: "3190" },
    /** Keep each seeded database here and start later runs from a copy (seeding 100k takes minutes). */
    "seed-cache": { type: "string" },
    /** Write a V8 CPU profile of each server process here (read it with bench/profile.ts). */
    "cpu-prof": { type: "string" },
    /** Another checkout to measure (e.g. a worktree of an older commit, for "before" figures). */
    "portal-root": { type: "string" },
    /** Seconds to wait after the runs before the second RSS reading. */
    "idle-seconds": { type: "string", default: "30" },
  },
});

const ROOT = values["portal-root"] ?? join(import.meta.dirname, "..");
const PORTAL = join(ROOT, "dist", "portal.js");
const START_FLAGS = startFlags(ROOT);
const PORT = Number(values.port);
const BASE = `http://127.0.0.1:${PORT}`;
const ADMIN = { email: "bench.admin@college.test", password: "bench-admin-password" };

if (spawnSync("wrk", ["--version"]).error) {
  console.error("bench:http needs wrk: apt-get install -y wrk");
  process.exit(1);
}

interface Target {
  url: string;
  dsn: string;
}

async function freshDatabase(
  kind: string,
  size: number,
): Promise<Target & { drop(): Promise<void> }> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "portal-bench-http-"));
    return {
      url: `file:${join(dir, "portal.db")}`,
      dsn: dir,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `portal_bench_http_${size}_${process.pid}`;
  const admin = new pg.Client({ connectionString: values.postgres });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(values.postgres);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dsn: mkdtempSync(join(tmpdir(), "portal-bench-http-data-")),
    async drop() {
      const client = new pg.Client({ connectionString: values.postgres });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

function portalEnv(target: Target, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    DATABASE_URL: target.url,
    DATA_DIR: target.dsn,
    LOG_DIR: join(target.dsn, "logs"),
    LOG_LEVEL: "warn",
    SESSION_SECRET: "bench-http-session-secret-0123456789abcdefghij",
    ...extra,
  };
}

function portal(target: Target, args: string[]): string {
  return execFileSync(process.execPath, [PORTAL, ...args], {
    env: portalEnv(target),
    encoding: "utf8",
  });
}

/** The cookie header a browser would send after logging in through the form. */
async function login(email: string, password: string): Promise<string> {
  const form = await fetch(`${BASE}/login`);
  const cookies = form.headers.getSetCookie().map((c) => c.split(";")[0]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error("no CSRF token on /login");
  const answer = await fetch(`${BASE}/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: cookies.join("; "),
    },
    body: new URLSearchParams({ _csrf: csrf, email, password }).toString(),
  });
  if (answer.status !== 303) throw new Error(`login as ${email} answered ${answer.status}`);
  // A cookie set again by the login answer replaces the one of the same name (the new session).
  const jar = new Map<string, string>();
  for (const c of [...cookies, ...answer.headers.getSetCookie().map((c) => c.split(";")[0])])
    if (c) jar.set(c.split("=")[0]!, c);
  return [...jar.values()].join("; ");
}

/** Every process the server runs: the one we started and its cluster workers. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const all = [root];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]!) ?? []));
  return all;
}

interface WrkResult {
  rps: number;
  requests: number;
  p50: string;
  p99: string;
  errors: number;
}

/**
 * CPU seconds (user + system) the processes have used so far. Throughput on this 2-core machine
 * swings with whatever else runs; the CPU a request costs the server and the database does not.
 */
function cpuSeconds(pids: number[]): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
      used.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone meanwhile
    }
  }
  return used;
}

/** CPU ms per request between two readings (a process that appeared in between started at 0). */
function cpuPerRequest(
  before: Map<number, number>,
  after: Map<number, number>,
  requests: number,
): number {
  let seconds = 0;
  for (const [pid, total] of after) seconds += total - (before.get(pid) ?? 0);
  return requests > 0 ? (seconds * 1000) / requests : 0;
}

/** The PostgreSQL server processes serving `target`'s database (its backends), by pid. */
async function backendPids(target: Target, kind: string): Promise<number[]> {
  if (kind !== "postgres") return [];
  const list = await sqlValue(
    target,
    kind,
    "select string_agg(pid::text, ',') from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
  );
  return list && list !== "null" ? list.split(",").map(Number) : [];
}

function wrk(url: string, cookie: string, seconds = values.duration): WrkResult {
  const out = execFileSync(
    "wrk",
    [
      "-t2",
      `-c${values.connections}`,
      `-d${seconds}s`,
      "--latency",
      "-H",
      `Cookie: ${cookie}`,
      url,
    ],
    { encoding: "utf8" },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const p50 = /\s50%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "?";
  const p99 = /\s99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? "?";
  const errors =
    Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0) +
    Number(/Socket errors:.*?(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, requests, p50, p99, errors };
}

async function sqlValue(target: Target, kind: string, query: string): Promise<string> {
  if (kind === "postgres") {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      return String(Object.values((await client.query(query)).rows[0] ?? {})[0]);
    } finally {
      await client.end();
    }
  }
  const { default: Sqlite } = await import("better-sqlite3");
  const db = new Sqlite(target.url.replace(/^file:/, ""), { readonly: true });
  try {
    return String(Object.values((db.prepare(query).get() ?? {}) as object)[0]);
  } finally {
    db.close();
  }
}

async function pagesFor(
  target: Target,
  kind: string,
): Promise<{ student: string[]; admin: string[] }> {
  const busiest = await sqlValue(
    target,
    kind,
    "select job_id from applications group by job_id order by count(*) desc, job_id limit 1",
  );
  const someStudent = await sqlValue(
    target,
    kind,
    "select id from students where approved_at is not null order by id limit 1 offset 100",
  );
  // The season report's year: the first graduation year with students from this year on (the
  // batch in its final year), as the report itself opens on.
  const season = await sqlValue(
    target,
    kind,
    `select min(graduation_year) from students where graduation_year >= ${new Date().getUTCFullYear()}`,
  );
  const student = ["/student", "/student/jobs", "/student/applications"];
  const admin = [
    "/admin",
    "/admin?department=CSE",
    "/admin?company=Infosys",
    "/admin/students",
    "/admin/students?status=pending",
    "/admin/students?status=approved&page=3",
    "/admin/students?status=approved&q=rao",
    `/admin/students/${someStudent}`,
    "/admin/jobs",
    "/admin/jobs?status=open",
    `/admin/jobs/${busiest}`,
    `/admin/jobs/${busiest}/applicants`,
    `/admin/jobs/${busiest}/applicants?status=applied&department=CSE`,
    "/admin/jobs/new",
    "/admin/announcements",
    "/admin/sms",
    "/admin/sms/templates",
    "/admin/audit",
    "/admin/admins",
    `/admin/reports/season?year=${season}`,
    `/admin/reports/season?year=${season}&department=CSE&tier=1`,
    `/admin/reports/season?year=${season}&unplaced_page=all`,
    `/admin/reports/season.csv?year=${season}`,
    `/admin/reports/season.csv?year=${season}&table=companies`,
    `/admin/reports/season.csv?year=${season}&table=unplaced`,
  ];
  const only = values.pages ? values.pages.split(",") : null;
  const keep = (url: string) => !only || only.some((p) => url === p || url.startsWith(`${p}?`));
  return { student: student.filter(keep), admin: admin.filter(keep) };
}

interface Row {
  db: string;
  students: number;
  processes: number;
  page: string;
  result: WrkResult;
}

const rows: Row[] = [];
const memory: {
  db: string;
  students: number;
  processes: number;
  rss: number[];
  idle: number[];
}[] = [];

async function pgQuery(url: string, query: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(query);
  } finally {
    await client.end();
  }
}

/** The seeded copy kept by --seed-cache: its SQLite file or PostgreSQL database, and the student. */
function cached(kind: string, size: number) {
  const dir = values["seed-cache"];
  if (!dir) return null;
  mkdirSync(dir, { recursive: true });
  return {
    facts: join(dir, `${kind}-${size}.json`),
    sqlite: join(dir, `sqlite-${size}.db`),
    database: `portal_bench_http_seed_${size}`,
  };
}

async function seedOrCopy(kind: string, size: number, target: Target): Promise<string> {
  const cache = cached(kind, size);
  if (cache && existsSync(cache.facts)) {
    if (kind === "sqlite") copyFileSync(cache.sqlite, target.url.replace(/^file:/, ""));
    else {
      const name = new URL(target.url).pathname.slice(1);
      await pgQuery(values.postgres, `drop database ${name} with (force)`);
      await pgQuery(values.postgres, `create database ${name} template ${cache.database}`);
    }
    process.stderr.write(
      `${kind} ${size}: copied the seeded database from ${values["seed-cache"]}\n`,
    );
    return (JSON.parse(readFileSync(cache.facts, "utf8")) as { studentEmail: string }).studentEmail;
  }
  const started = performance.now();
  process.stderr.write(`${kind} ${size}: seeding...\n`);
  const seeded = portal(target, ["seed", "--demo", "--students", String(size)]);
  const studentEmail = /Log in as a student: (\S+)/.exec(seeded)?.[1];
  if (!studentEmail) throw new Error(`seed printed no student: ${seeded}`);
  portal(target, ["create-admin", "--email", ADMIN.email, "--password", ADMIN.password]);
  process.stderr.write(
    `${kind} ${size}: ${seeded.trim().split("\n")[0]} (${((performance.now() - started) / 1000).toFixed(0)} s with the admin)\n`,
  );
  if (cache) {
    if (kind === "sqlite") copyFileSync(target.url.replace(/^file:/, ""), cache.sqlite);
    else {
      const name = new URL(target.url).pathname.slice(1);
      await pgQuery(values.postgres, `drop database if exists ${cache.database}`);
      await pgQuery(values.postgres, `create database ${cache.database} template ${name}`);
    }
    writeFileSync(cache.facts, JSON.stringify({ studentEmail }));
  }
  return studentEmail;
}

async function runOne(kind: string, size: number, processCounts: number[]) {
  const target = await freshDatabase(kind, size);
  try {
    const studentEmail = await seedOrCopy(kind, size, target);
    // A copy seeded by an older checkout gets this one's migrations now, not while timed.
    portal(target, ["migrate"]);
    if (kind === "postgres") {
      // What autovacuum would have done by the time a seeded portal is used (it is off on this
      // machine's server): statistics for the planner and a visibility map for index-only scans.
      await pgQuery(target.url, "vacuum analyze");
    }
    const pages = await pagesFor(target, kind);
    for (const processes of processCounts) {
      const profile = values["cpu-prof"]
        ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`]
        : [];
      const server = spawn(process.execPath, [...START_FLAGS, ...profile, PORTAL, "serve"], {
        env: portalEnv(target, {
          PORT: String(PORT),
          HOST: "127.0.0.1",
          WEB_CONCURRENCY: String(processes),
          MALLOC_ARENA_MAX: "2",
        }),
        stdio: ["ignore", "ignore", "inherit"],
      });
      try {
        await waitForUrl(`${BASE}/healthz`, 120_000);
        if (processes > 1) {
          // Every worker listening: the tree has the primary and N workers.
          const deadline = Date.now() + 30_000;
          while (processTree(server.pid!).length < processes + 1 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 100));
        }
        const studentCookie = await login(studentEmail, "demo-student");
        const adminCookie = await login(ADMIN.email, ADMIN.password);
        for (const [list, cookie] of [
          [pages.student, studentCookie],
          [pages.admin, adminCookie],
        ] as const) {
          for (const page of list) {
            const check = await fetch(`${BASE}${page}`, {
              headers: { cookie },
              redirect: "manual",
            });
            if (check.status !== 200) throw new Error(`${page} answered ${check.status}`);
            await check.arrayBuffer();
            // One untimed second first: the page's code compiled by the JIT, its rows in the caches.
            if (Number(values.warmup) > 0) wrk(`${BASE}${page}`, cookie, values.warmup);
            const servers = processTree(server.pid!);
            const serverBefore = cpuSeconds(servers);
            const databaseBefore = cpuSeconds(await backendPids(target, kind));
            const result = wrk(`${BASE}${page}`, cookie);
            const serverMs = cpuPerRequest(serverBefore, cpuSeconds(servers), result.requests);
            const databaseMs = cpuPerRequest(
              databaseBefore,
              cpuSeconds(await backendPids(target, kind)),
              result.requests,
            );
            rows.push({ db: kind, students: size, processes, page, result });
            process.stderr.write(
              `  ${kind} ${size} x${processes} ${page}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50}, p99 ${result.p99}, CPU per request: portal ${serverMs.toFixed(2)} ms${kind === "postgres" ? `, PostgreSQL ${databaseMs.toFixed(2)} ms` : ""}${result.errors ? `, ${result.errors} errors` : ""}\n`,
            );
          }
        }
        // "Steady": after the runs, once a collection has had the chance to run.
        await new Promise((r) => setTimeout(r, 2000));
        const rss = processTree(server.pid!).map(rssMb);
        process.stderr.write(`  RSS after the runs: ${rss.join(" + ")} MB\n`);
        // And again after an idle wait: the size a server holds between bursts of traffic, not
        // only the moment the last burst ends (V8's memory reducer may shrink the heap by then).
        await new Promise((r) => setTimeout(r, Number(values["idle-seconds"]) * 1000));
        const idle = processTree(server.pid!).map(rssMb);
        process.stderr.write(`  RSS ${values["idle-seconds"]} s later: ${idle.join(" + ")} MB\n`);
        memory.push({ db: kind, students: size, processes, rss, idle });
      } finally {
        server.kill("SIGTERM");
        await new Promise((r) => server.once("exit", r));
      }
    }
  } finally {
    await target.drop();
  }
}

process.stderr.write("building dist/ (npm run build)...\n");
execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
const processCounts = values.processes.split(",").map(Number);
for (const kind of values.db.split(",")) {
  for (const size of values.sizes.split(",").map(Number)) await runOne(kind, size, processCounts);
}

const header = "| db | students | processes | page | req/s | p50 | p99 | non-2xx |";
console.log(`\n${header}\n|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(
    `| ${r.db} | ${r.students} | ${r.processes} | \`${r.page}\` | ${r.result.rps.toFixed(0)} | ${r.result.p50} | ${r.result.p99} | ${r.result.errors} |`,
  );
}
console.log(
  `\n| db | students | processes | RSS after the runs (MB, per process) | ${values["idle-seconds"]} s later |\n|---|---|---|---|---|`,
);
/** "104 + 148 + 134 = 386": each process's RSS and their sum. */
const perProcess = (mb: number[]) => `${mb.join(" + ")} = ${mb.reduce((a, b) => a + b, 0)}`;
for (const m of memory)
  console.log(
    `| ${m.db} | ${m.students} | ${m.processes} | ${perProcess(m.rss)} | ${perProcess(m.idle)} |`,
  );
process.exit(0);
