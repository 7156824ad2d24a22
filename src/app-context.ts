import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { type AppContext, type Clock, systemClock } from "./context.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createLogger } from "./log.ts";
import { createSmsLogger } from "./sms/log.ts";
import { importFileResumes } from "./students/resume-import.ts";

/**
 * Builds the app context, the one way: for the server, the worker, the CLI, the tests and the
 * benchmarks. Loads no route module, so a process that only dispatches SMS stays small.
 */

export interface ContextOptions {
  /** The application log; by default standard output at LOG_LEVEL. */
  log?: Logger;
  /** The SMS log; by default LOG_DIR/sms.log. */
  smsLog?: Logger;
  clock?: Clock;
}

/** The context on an open database. */
export function buildContext(
  config: Config,
  database: Pick<Database, "db" | "dialect">,
  options: ContextOptions = {},
): AppContext {
  return {
    db: database.db,
    dialect: database.dialect,
    config,
    clock: options.clock ?? systemClock,
    log: options.log ?? createLogger(config),
    smsLog: options.smsLog ?? createSmsLogger(config),
  };
}

/** config -> database -> migrations -> context: the start of every command that uses the database. */
export async function openContext(
  config: Config,
  options: ContextOptions = {},
): Promise<{ ctx: AppContext; database: Database }> {
  const log = options.log ?? createLogger(config);
  const database = openDatabase(config.DATABASE_URL, {
    onConnectionError: (error) =>
      log.warn({ err: error }, "database connection lost; reconnecting on next use"),
  });
  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) log.info({ migrations: applied }, "migrations applied");
  const ctx = buildContext(config, database, { ...options, log });
  // Resumes still named by students.resume_path (files under DATA_DIR/uploads) move into the
  // resumes table, once (decision 016).
  await importFileResumes(ctx);
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
