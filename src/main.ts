import type { FastifyInstance } from "fastify";
import { ensureFirstAdmin } from "./accounts/service.ts";
import type { Config } from "./config.ts";
import { type AppContext, systemClock } from "./context.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createLogger } from "./log.ts";
import { buildApp } from "./web/app.ts";
import { resolveSessionSecret } from "./web/session-secret.ts";

export interface RunningPortal {
  app: FastifyInstance;
  database: Database;
  url: string;
  stop(): Promise<void>;
}

/** config -> database -> migrations -> first admin -> web server. */
export async function startPortal(config: Config): Promise<RunningPortal> {
  const log = createLogger(config);
  const database = openDatabase(config.DATABASE_URL, {
    onConnectionError: (error) =>
      log.warn({ err: error }, "database connection lost; reconnecting on next use"),
  });
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) log.info({ migrations: applied }, "migrations applied");
  const ctx: AppContext = {
    db: database.db,
    dialect: database.dialect,
    config,
    clock: systemClock,
    log,
  };

  const firstAdmin = await ensureFirstAdmin(ctx);
  if (firstAdmin) {
    // Printed once, to the terminal only (never to a log file): it exists nowhere else.
    const password = firstAdmin.generatedPassword ?? "(the ADMIN_PASSWORD you set)";
    process.stdout.write(
      `\n  First admin created: ${firstAdmin.email}  password: ${password}\n` +
        (firstAdmin.generatedPassword
          ? "  Write it down now: it will not be shown again.\n\n"
          : "\n"),
    );
  }
  if (config.SMS_BACKEND === "capture") {
    log.warn(
      "SMS capture mode: no Twilio credentials, messages are captured locally and NOT sent to phones",
    );
  }
  if (!config.SMS_ENABLED)
    log.warn("SMS is disabled (SMS_ENABLED=false): messages are recorded as skipped");

  const app = await buildApp(ctx, { sessionSecret: resolveSessionSecret(config) });
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const url = address.replace("://127.0.0.1", "://localhost");
  log.info({ url }, "Placement Portal is running");
  return {
    app,
    database,
    url,
    async stop() {
      await app.close();
      await database.destroy();
    },
  };
}
