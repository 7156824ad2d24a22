import type { FastifyInstance } from "fastify";
import { ensureFirstAdmin } from "./accounts/service.ts";
import type { Config } from "./config.ts";
import { type AppContext, systemClock } from "./context.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createLogger } from "./log.ts";
import { Dispatcher } from "./sms/dispatcher.ts";
import { createSmsLogger } from "./sms/log.ts";
import { createTransport } from "./sms/transport/index.ts";
import { buildApp } from "./web/app.ts";
import { resolveSessionSecret } from "./web/session-secret.ts";

export interface RunningPortal {
  app: FastifyInstance;
  database: Database;
  dispatcher: Dispatcher | null;
  url: string;
  stop(): Promise<void>;
}

/** config -> database -> migrations: the start of every long-running command. */
export async function openContext(
  config: Config,
): Promise<{ ctx: AppContext; database: Database }> {
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
    smsLog: createSmsLogger(config),
  };
  return { ctx, database };
}

export function announceSmsMode(ctx: AppContext): void {
  const { config, log } = ctx;
  if (!config.SMS_ENABLED)
    log.warn("SMS is disabled (SMS_ENABLED=false): messages are recorded as skipped");
  else if (config.SMS_BACKEND === "capture") {
    log.warn(
      "SMS capture mode: no Twilio credentials, messages are captured locally and NOT sent to phones",
    );
  } else {
    log.info(
      { api: config.TWILIO_API_URL ?? "https://api.twilio.com" },
      "SMS are sent through Twilio",
    );
  }
}

/** config -> database -> migrations -> first admin -> web server + SMS dispatcher. */
export async function startPortal(
  config: Config,
  options: { dispatcher?: boolean } = {},
): Promise<RunningPortal> {
  const { ctx, database } = await openContext(config);
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
  announceSmsMode(ctx);

  const dispatcher =
    options.dispatcher === false
      ? null
      : new Dispatcher(ctx, { transport: createTransport(config) });
  if (dispatcher) ctx.wakeSmsDispatcher = () => dispatcher.wake();

  const app = await buildApp(ctx, { sessionSecret: resolveSessionSecret(config) });
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  dispatcher?.start();
  const url = address.replace("://127.0.0.1", "://localhost");
  ctx.log.info({ url }, "Placement Portal is running");
  return {
    app,
    database,
    dispatcher,
    url,
    async stop() {
      await app.close();
      await dispatcher?.stop();
      await database.destroy();
    },
  };
}
