/**
 * Every admin GET page timed in-process (`app.inject`, a logged-in admin session) against a portal
 * already seeded with `portal seed --demo` (issue 10): `DATABASE_URL=... npx tsx bench/admin-pages.ts
 * [--runs 30] [--sms N]`. `--sms N` first fills the outbox with N job-alert rows (status mixed, as
 * a fan-out leaves them), so the SMS console is timed over an outbox of that size; rows it added
 * earlier are kept, so a second run adds none. Prints the median and p95 of each page.
 */
import { parseArgs } from "node:util";
import { type KyselyPlugin, sql } from "kysely";
import { pino } from "pino";
import { upsertAdmin } from "#src/accounts/service.ts";
import { buildApp, SMS_TEMPLATES } from "#src/app.ts";
import { loadConfig } from "#src/config.ts";
import { type AppContext, systemClock } from "#src/context.ts";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    sms: { type: "string", default: "0" },
    audit: { type: "string", default: "0" },
    only: { type: "string" },
    queries: { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs);

async function time(client: TestClient, url: string) {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const response = await client.get(url);
    samples.push(performance.now() - started);
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
    bytes = response.body.length;
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) =>
    samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!.toFixed(1);
  return { page: url, p50ms: at(50), p95ms: at(95), kB: (bytes / 1024).toFixed(0) };
}

/** Job-alert rows as a fan-out leaves them: mostly delivered, some failed, some still queued. */
async function fillOutbox(ctx: AppContext, wanted: number) {
  const have = await ctx.db
    .selectFrom("sms_messages")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("dedupe_key", "like", "bench:%")
    .executeTakeFirstOrThrow();
  const missing = wanted - Number(have.n);
  if (missing <= 0) return;
  const now = new Date();
  const iso = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();
  const jobs = await ctx.db.selectFrom("jobs").select("id").orderBy("id").limit(50).execute();
  const students = await ctx.db.selectFrom("students").select(["id", "phone_e164"]).execute();
  const statuses = ["delivered", "delivered", "delivered", "sent", "failed", "queued"] as const;
  let n = Number(have.n);
  while (n < wanted) {
    const rows = [];
    for (let i = 0; i < 500 && n < wanted; i++, n++) {
      const student = students[n % students.length]!;
      const job = jobs[Math.floor(n / students.length) % jobs.length]!;
      const status = statuses[n % statuses.length]!;
      const at = iso((n % (30 * 24 * 60)) * 60_000);
      rows.push({
        kind: "job_posted" as const,
        priority: 10,
        dedupe_key: `bench:${n}`,
        student_id: student.id,
        to_e164: student.phone_e164,
        body: `New job posted: bench ${job.id}. Apply on the portal.`,
        encoding: "GSM-7" as const,
        segments: 1,
        status,
        attempts: status === "queued" ? 0 : 1,
        next_attempt_at: at,
        created_at: at,
        updated_at: at,
        sent_at: status === "queued" ? null : at,
        delivered_at: status === "delivered" ? at : null,
        error_code: status === "failed" ? 21211 : null,
        error_message: status === "failed" ? "Invalid 'To' Phone Number" : null,
        reference: `job:${job.id}`,
      });
    }
    await ctx.db.insertInto("sms_messages").values(rows).execute();
  }
  await sql`analyze`.execute(ctx.db);
}

/** Admin actions as a term of approvals and status changes leaves them. */
async function fillAudit(ctx: AppContext, wanted: number) {
  const have = await ctx.db
    .selectFrom("audit_log")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  let n = Number(have.n);
  const start = Date.now() - wanted * 60_000;
  while (n < wanted) {
    const rows = [];
    for (let i = 0; i < 500 && n < wanted; i++, n++)
      rows.push({
        actor_user_id: null,
        actor_email: "bench@college.test",
        action: n % 3 === 0 ? "student.approve" : "application.status",
        subject: `bench subject ${n}`,
        details: JSON.stringify(n % 3 === 0 ? {} : { from: "applied", to: "shortlisted" }),
        at: new Date(start + n * 60_000).toISOString(),
      });
    await ctx.db.insertInto("audit_log").values(rows).execute();
  }
}

/** With --queries: each statement's time, summed per page, to name the slow ones. */
const started = new Map<unknown, { at: number; node: unknown }>();
const spent = new Map<string, { ms: number; n: number }>();
const timing: KyselyPlugin = {
  transformQuery(args) {
    started.set(args.queryId, { at: performance.now(), node: args.node });
    return args.node;
  },
  async transformResult(args) {
    const s = started.get(args.queryId);
    if (s) {
      started.delete(args.queryId);
      // biome-ignore lint/suspicious/noExplicitAny: the node is the one the executor compiles
      const text = database.db.getExecutor().compileQuery(s.node as any, args.queryId).sql;
      const entry = spent.get(text) ?? { ms: 0, n: 0 };
      entry.ms += performance.now() - s.at;
      entry.n++;
      spent.set(text, entry);
    }
    return args.result;
  },
};

const url = process.env.DATABASE_URL ?? "file:data/portal.db";
const database = openDatabase(url, { poolSize: 10 });
await migrateToLatest(database.db);
const config = loadConfig({ DATABASE_URL: url, SMS_ENABLED: "true", SMS_BACKEND: "capture" }, {});
const silent = pino({ level: "silent" });
const ctx: AppContext = {
  db: values.queries ? database.db.withPlugin(timing) : database.db,
  dialect: database.dialect,
  config,
  clock: systemClock,
  log: silent,
  smsLog: silent,
};
await fillOutbox(ctx, Number(values.sms));
await fillAudit(ctx, Number(values.audit));
const app = await buildApp(ctx, { sessionSecret: "bench-session-secret-0123456789abcdefghij" });
await upsertAdmin(ctx, "bench@college.test", "bench-password");
const admin = await loginAs(app, "bench@college.test", "bench-password");

const count = async (table: "students" | "applications" | "sms_messages" | "audit_log") =>
  Number(
    (
      await ctx.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );
const busiest = await ctx.db
  .selectFrom("applications")
  .select(["job_id", (eb) => eb.fn.countAll<number>().as("n")])
  .groupBy("job_id")
  .orderBy("n", "desc")
  .limit(1)
  .executeTakeFirstOrThrow();
const student = await ctx.db
  .selectFrom("students")
  .select("id")
  .where("approved_at", "is not", null)
  .orderBy("id", "desc")
  .limit(1)
  .executeTakeFirstOrThrow();
const message = await ctx.db
  .selectFrom("sms_messages")
  .select("id")
  .orderBy("id", "desc")
  .limit(1)
  .executeTakeFirst();
const students = await count("students");
const deepPage = Math.max(1, Math.floor(students / 2 / 25));

// Every admin GET route but the dashboard (another engineer's), from the route table itself.
const routes = app.routeTable
  .filter((r) => r.method === "GET" && /^\/admin\//.test(r.url))
  .map((r) => r.url);
const concrete = (route: string): string[] => {
  const job = String(busiest.job_id);
  switch (route) {
    case "/admin/students":
      return [
        "/admin/students?status=pending",
        "/admin/students?status=approved",
        "/admin/students?status=approved&page=3",
        `/admin/students?status=approved&page=${deepPage}`,
        "/admin/students?status=all",
        "/admin/students?status=approved&department=CSE&year=2027",
        "/admin/students?status=approved&q=rao&page=3",
        "/admin/students?status=all&q=demo.student12",
        "/admin/students?status=approved&sort=cgpa&dir=desc",
        "/admin/students?status=approved&sort=name",
      ];
    case "/admin/students/:id":
      return [`/admin/students/${student.id}`];
    case "/admin/students/:id/resume":
      return []; // demo students have no resume: a 404, not a page
    case "/admin/jobs":
      return ["/admin/jobs", "/admin/jobs?status=open", "/admin/jobs?status=closed"];
    case "/admin/jobs/:id":
      return [`/admin/jobs/${job}`];
    case "/admin/jobs/:id/applicants":
      return [
        `/admin/jobs/${job}/applicants`,
        `/admin/jobs/${job}/applicants?status=applied&department=CSE&min_cgpa=7`,
        `/admin/jobs/${job}/applicants?page=3`,
      ];
    case "/admin/jobs/:id/applicants.csv":
      return [`/admin/jobs/${job}/applicants.csv`];
    case "/admin/sms":
      return [
        "/admin/sms",
        "/admin/sms?status=failed",
        `/admin/sms?student_id=${student.id}`,
        `/admin/sms?job=${job}`,
      ];
    case "/admin/audit":
      return [
        "/admin/audit",
        "/admin/audit?page=3",
        `/admin/audit?page=${Math.max(1, Math.floor(Number(values.audit) / 2 / 50))}`,
      ];
    case "/admin/sms/:id":
      return message ? [`/admin/sms/${message.id}`] : [];
    case "/admin/sms/templates/:id":
      return SMS_TEMPLATES.map((t) => `/admin/sms/templates/${t.id}`);
    case "/admin/admins/:id/password":
      return []; // the accounts pages: one row each, not among the lists timed here
    default:
      return route.includes(":") ? [] : [route];
  }
};
const urls = [...new Set(routes.flatMap(concrete))].filter(
  (u) => !values.only || u.includes(values.only),
);
const skipped = routes.filter((r) => concrete(r).length === 0);

const rows = [];
for (const u of urls) {
  spent.clear();
  rows.push(await time(admin, u));
  if (values.queries) {
    const top = [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 4);
    console.log(`\n${u}`);
    for (const [text, { ms, n }] of top)
      console.log(`  ${(ms / n).toFixed(2)} ms x${n / RUNS}: ${text.slice(0, 400)}`);
  }
}
console.log(
  `\n${ctx.dialect}: ${students} students, ${await count("applications")} applications, ${await count("sms_messages")} SMS, ${await count("audit_log")} audit entries; busiest job ${busiest.job_id} has ${busiest.n} applicants; ${RUNS} runs each; not timed: ${skipped.join(", ") || "none"}`,
);
console.table(rows);
await app.close();
await database.destroy();
process.exit(0);
