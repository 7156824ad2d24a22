import type { FastifyInstance } from "fastify";
import { ensureFirstAdmin } from "./accounts/service.ts";
import { announceSmsMode, buildContext, openContext } from "./app-context.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { type DispatcherHandle, startDispatcherThread } from "./dispatcher-thread.ts";
import { createLogger } from "./log.ts";
import { resolveSessionSecret } from "./web/session-secret.ts";

export interface RunningPortal {
  app: FastifyInstance;
  database: Database;
  dispatcher: DispatcherHandle | null;
  url: string;
  stop(): Promise<void>;
}

/**
 * The first admin's credentials in a plain-text box (ASCII, readable on any terminal and in the
 * journal), with a blank line before and after.
 */
export function firstAdminNotice(
  email: string,
  generatedPassword: string | null | undefined,
): string {
  const lines = [
    `First admin created: ${email}  password: ${generatedPassword ?? "(the ADMIN_PASSWORD you set)"}`,
    ...(generatedPassword ? ["Write it down now: it will not be shown again."] : []),
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const rule = `  +${"-".repeat(width + 2)}+`;
  const body = lines.map((line) => `  | ${line.padEnd(width)} |`);
  return `\n${[rule, ...body, rule].join("\n")}\n\n`;
}

/**
 * What runs once per portal before any page is served: migrations, the first admin (its password
 * printed once), the SMS mode announced, the session secret generated if it has to be. With
 * several web processes the primary does this before forking, so they never race at it.
 */
export async function preparePortal(
  config: Config,
): Promise<{ ctx: AppContext; database: Database }> {
  const { ctx, database } = await openContext(config);
  const firstAdmin = await ensureFirstAdmin(ctx);
  if (firstAdmin) {
    // Printed once, to the terminal only (never through the log, JSON or not): it exists nowhere
    // else. A box with blank lines around it, so it stands apart from the log lines in either format.
    process.stdout.write(firstAdminNotice(firstAdmin.email, firstAdmin.generatedPassword));
  }
  announceSmsMode(ctx);
  resolveSessionSecret(config);
  return { ctx, database };
}

/** The web app of a prepared portal, listening; `wake` tells the SMS dispatcher about a commit. */
export async function listenWeb(
  ctx: AppContext,
  wake: (() => void) | undefined,
): Promise<{ app: FastifyInstance; url: string }> {
  if (wake) ctx.wakeSmsDispatcher = wake;
  // Loaded here, not at the top: a cluster's primary imports this module and serves no page.
  const { buildApp } = await import("./app.ts");
  const app = await buildApp(ctx, { sessionSecret: resolveSessionSecret(ctx.config) });
  const address = await app.listen({ port: ctx.config.PORT, host: ctx.config.HOST });
  const url = address.replace("://127.0.0.1", "://localhost");
  ctx.log.info({ url }, "Placement Portal is running");
  return { app, url };
}

/**
 * config -> database -> migrations -> first admin -> web server + SMS dispatcher (none with
 * SMS_DISPATCHER=false, where `portal worker` processes send, or when `options.dispatcher` is false).
 */
export async function startPortal(
  config: Config,
  options: { dispatcher?: boolean } = {},
): Promise<RunningPortal> {
  const { ctx, database } = await preparePortal(config);

  // The dispatcher runs on its own thread (see dispatcher-thread.ts): its work never holds up a page.
  const runsDispatcher = options.dispatcher ?? config.SMS_DISPATCHER;
  const dispatcher = runsDispatcher ? await startDispatcherThread(config) : null;
  if (!config.SMS_DISPATCHER)
    ctx.log.info(
      "SMS_DISPATCHER=false: this process sends no SMS; run `portal worker` processes to send them",
    );

  const { app, url } = await listenWeb(ctx, dispatcher ? () => dispatcher.wake() : undefined);
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

/**
 * One web process of a cluster: the portal is prepared already (by the primary), so no
 * migrations, no first admin and no dispatcher here; `wake` reaches the primary's dispatcher.
 */
export async function startWebProcess(
  config: Config,
  wake: () => void,
): Promise<Omit<RunningPortal, "dispatcher">> {
  const log = createLogger(config);
  const database = openDatabase(config.DATABASE_URL, {
    onConnectionError: (error) =>
      log.warn({ err: error }, "database connection lost; reconnecting on next use"),
  });
  const ctx = buildContext(config, database, { log });
  const { app, url } = await listenWeb(ctx, wake);
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
