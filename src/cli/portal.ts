import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { AccountError, upsertAdmin } from "../accounts/service.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { systemClock } from "../context.ts";
import { openDatabase } from "../db/database.ts";
import { migrateToLatest } from "../db/migrate.ts";
import { createLogger } from "../log.ts";
import { startPortal } from "../main.ts";

const USAGE = `Usage: npm run portal -- <command> [options]

Commands:
  serve                               run the web portal (what npm start does)
  migrate                             apply database migrations, then exit
  create-admin --email E [--password P]
                                      create an admin, or set a new password for one;
                                      without --password a password is generated and printed
`;

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
      const ctx = {
        db: database.db,
        dialect: database.dialect,
        config,
        clock: systemClock,
        log: createLogger({ LOG_LEVEL: "warn" }),
      };
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
  if (error instanceof ConfigError || error instanceof AccountError) fail(error.message);
  const message = error instanceof Error ? error.message : String(error);
  fail(message);
});
