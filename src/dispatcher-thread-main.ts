import { parentPort, workerData } from "node:worker_threads";
import { openContext } from "./app-context.ts";
import type { Config } from "./config.ts";
import type { FromDispatcherThread, ToDispatcherThread } from "./dispatcher-thread.ts";
import { newDispatcher } from "./maintenance.ts";

/** The dispatcher thread itself (started by dispatcher-thread.ts): a dispatcher and its context. */

const port = parentPort;
if (!port) throw new Error("dispatcher-thread-main runs as a worker thread only");
const reply = (message: FromDispatcherThread) => port.postMessage(message);
const config = (workerData as { config: Config }).config;
try {
  const { ctx, database } = await openContext(config);
  const dispatcher = newDispatcher(ctx);
  dispatcher.start();
  port.on("message", async (message: ToDispatcherThread) => {
    if (message.type === "wake") dispatcher.wake();
    else {
      await dispatcher.stop(message.timeoutMs);
      await database.destroy();
      reply({ type: "stopped" });
      port.close();
    }
  });
  reply({ type: "started", workerId: dispatcher.workerId });
} catch (error) {
  reply({ type: "failed", message: error instanceof Error ? error.message : String(error) });
}
