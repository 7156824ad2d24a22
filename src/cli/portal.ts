import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { AccountError, upsertAdmin } from "../accounts/service.ts";
import { announceSmsMode, buildContext, openContext } from "../app-context.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { isPostgresUrl, openDatabase, sqlitePath } from "../db/database.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { createLogger } from "../log.ts";
import { newDispatcher } from "../maintenance.ts";
import { seedDemo } from "../seed/demo.ts";
import { currentTemplateVersion } from "../sms/template-store.ts";
import { testSms } from "../sms/templates.ts";
import { runTestSms, TestSmsError } from "../sms/test-sms.ts";
import { formatNumber } from "../web/format.ts";

const USAGE = `Usage: npm run portal -- <command> [options]

Commands:
  serve                               run the web portal and the SMS dispatcher (what npm start does);
                                      WEB_CONCURRENCY=N runs N web processes on the port;
                                      SMS_DISPATCHER=false runs no dispatcher (workers send)
  worker                              run an SMS dispatcher alone (more senders on one PostgreSQL)
  test-sms NUMBER [--dry-run]         show the SMS settings, check the credentials and send a test SMS
  migrate                             apply database migrations, then exit
  seed --demo [--students N] [--jobs N] [--applications N] [--allow-real-sms]
                                      add demo students (password "demo-student"), jobs and
                                      applications and rounds; queues no SMS; demo students are opted out
                                      and have fictional numbers; refused when Twilio is set up,
                                      unless --allow-real-sms
  backup [--to PATH]                  SQLite: an online backup of the database (while the portal
                                      runs) into PATH, by default DATA_DIR/backups/portal-<time>.db;
                                      PostgreSQL: pg_dump --format=custom into PATH (.dump)
  restore --from PATH                 SQLite: put a backup in place of the database (the portal
                                      stopped; refused while it runs); the replaced database is kept
  create-admin --email E [--password P]
                                      create an admin, or set a new password for one;
                                      without --password a password is generated and printed
`;

/**
 * The office's current text of the test message; the default text when the database cannot be
 * read (test-sms checks Twilio, and must work before the portal's database is set up).
 */
async function currentTestText(url: string): Promise<string | undefined> {
  // Opening a SQLite file that is not there would create it: leave that to migrate and serve.
  if (!isPostgresUrl(url) && !existsSync(sqlitePath(url))) return undefined;
  let database: ReturnType<typeof openDatabase> | undefined;
  try {
    database = openDatabase(url, { poolSize: 1 });
    return (await currentTemplateVersion(database.db, testSms)).text;
  } catch {
    return undefined;
  } finally {
    await database?.destroy().catch(() => {});
  }
}

function fail(message: string): never {
  process.stderr.write(`portal: ${message}\n`);
  process.exit(1);
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help") {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadConfig();

  if (command === "serve") {
    if (config.NODE_ENV === "test")
      throw new Error(
        "NODE_ENV=test is the test suite's (it hashes passwords at a cost too low for real accounts); serve with development or production",
      );
    if (config.WEB_CONCURRENCY > 1) {
      // Several web processes on one port; this same command runs in each of them (node:cluster).
      const { serveCluster } = await import("../ops/web-cluster.ts");
      await serveCluster(config);
      return;
    }
    const { startPortal } = await import("../main.ts"); // the web app: not loaded by a worker
    const portal = await startPortal(config);
    process.stdout.write(`Placement Portal: open ${portal.url}\n`);
    const stop = async (signal: string) => {
      portal.app.log.info({ signal }, "shutting down");
      await portal.stop();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return;
  }

  if (command === "worker") {
    const { ctx, database } = await openContext(config);
    announceSmsMode(ctx);
    const dispatcher = newDispatcher(ctx);
    dispatcher.start();
    process.stdout.write(`SMS worker ${dispatcher.workerId} running\n`);
    const stop = async (signal: string) => {
      ctx.log.info({ signal }, "worker shutting down");
      await dispatcher.stop();
      await database.destroy();
      process.exit(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return;
  }

  if (command === "test-sms") {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { "dry-run": { type: "boolean", default: false } },
    });
    const number = positionals[0];
    if (!number) fail("test-sms needs a phone number, e.g. npm run portal -- test-sms 9876543210");
    await runTestSms(
      config,
      number,
      { dryRun: values["dry-run"] ?? false, text: await currentTestText(config.DATABASE_URL) },
      (line) => process.stdout.write(`${line}\n`),
    );
    return;
  }

  if (command === "seed") {
    const { values } = parseArgs({
      args: rest,
      options: {
        demo: { type: "boolean", default: false },
        students: { type: "string", default: "200" },
        jobs: { type: "string" },
        applications: { type: "string" },
        "allow-real-sms": { type: "boolean", default: false },
      },
    });
    if (!values.demo) fail("seed adds demo data to the database: say so with --demo");
    if (config.SMS_BACKEND === "twilio" && !values["allow-real-sms"])
      fail(
        "seed --demo refused: this portal sends real SMS through Twilio (SMS_BACKEND=twilio); seed a portal without Twilio credentials, or add --allow-real-sms",
      );
    const students = Number(values.students);
    const jobs = values.jobs ? Number(values.jobs) : Math.max(10, Math.round(students / 20));
    const applications = values.applications ? Number(values.applications) : students * 10;
    for (const [name, n] of Object.entries({ students, jobs, applications })) {
      if (!Number.isInteger(n) || n < 0 || n > 1_000_000)
        fail(`--${name} must be a whole number from 0 to 1000000`);
    }
    const { ctx, database } = await openContext(config);
    try {
      const result = await seedDemo(ctx, {
        students,
        jobs,
        applications,
        password: "demo-student",
      });
      process.stdout.write(
        `Seeded ${formatNumber(result.students)} students, ${formatNumber(result.jobs)} jobs, ${formatNumber(result.applications)} applications, ${formatNumber(result.rounds)} rounds and ${formatNumber(result.offers)} offers in ${result.seconds.toFixed(1)} s.\n` +
          (result.firstStudentEmail
            ? `Log in as a student: ${result.firstStudentEmail} / demo-student\n`
            : ""),
      );
    } finally {
      await database.destroy();
    }
    return;
  }

  if (command === "migrate") {
    const database = openDatabase(config.DATABASE_URL);
    try {
      const applied = await migrateToLatest(database.db);
      process.stdout.write(
        applied.length > 0 ? `Applied: ${applied.join(", ")}\n` : "The database is up to date.\n",
      );
    } finally {
      await database.destroy();
    }
    return;
  }

  if (command === "backup" || command === "restore") {
    const { values } = parseArgs({
      args: rest,
      options: { to: { type: "string" }, from: { type: "string" } },
    });
    const { backupDatabase, restoreDatabase } = await import("../ops/backup.ts");
    if (command === "backup") {
      process.stdout.write(`${await backupDatabase(config, { to: values.to })}\n`);
    } else {
      if (!values.from) fail("restore needs --from PATH (a file written by portal backup)");
      process.stdout.write(`${await restoreDatabase(config, { from: values.from })}\n`);
    }
    return;
  }

  if (command === "create-admin") {
    const { values } = parseArgs({
      args: rest,
      options: { email: { type: "string" }, password: { type: "string" } },
    });
    if (!values.email) fail("create-admin needs --email");
    const password = values.password ?? randomBytes(12).toString("base64url");
    const database = openDatabase(config.DATABASE_URL);
    try {
      await migrateToLatest(database.db);
      const ctx = buildContext(config, database, {
        log: createLogger({ LOG_LEVEL: "warn" }),
        smsLog: createLogger({ LOG_LEVEL: "silent" }),
      });
      const { created } = await upsertAdmin(ctx, values.email, password);
      process.stdout.write(
        `${created ? "Created admin" : "Updated the password of admin"} ${values.email.toLowerCase()}` +
          (values.password ? "\n" : ` with password: ${password}\n`),
      );
    } finally {
      await database.destroy();
    }
    return;
  }

  fail(`unknown command "${command}"\n\n${USAGE}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    error instanceof AccountError ||
    error instanceof TestSmsError
  ) {
    fail(error.message);
  }
  const message = error instanceof Error ? error.message : String(error);
  fail(message);
});
