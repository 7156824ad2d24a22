import type { FastifyInstance } from "fastify";
import { ensureFirstAdmin } from "./accounts/service.ts";
import { buildApp } from "./app.ts";
import { announceSmsMode, openContext } from "./app-context.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import { type DispatcherHandle, startDispatcherThread } from "./dispatcher-thread.ts";
import { resolveSessionSecret } from "./web/session-secret.ts";

export interface RunningPortal {
  app: FastifyInstance;
  database: Database;
  dispatcher: DispatcherHandle | null;
  url: string;
  stop(): Promise<void>;
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

  // The dispatcher runs on its own thread (see dispatcher-thread.ts): its work never holds up a page.
  const dispatcher = options.dispatcher === false ? null : await startDispatcherThread(config);
  if (dispatcher) ctx.wakeSmsDispatcher = () => dispatcher.wake();

  const app = await buildApp(ctx, { sessionSecret: resolveSessionSecret(config) });
  const address = await app.listen({ port: config.PORT, host: config.HOST });
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
