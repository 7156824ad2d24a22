import cluster, { type Worker } from "node:cluster";
import type { Config } from "../config.ts";
import { startDispatcherThread } from "../dispatcher-thread.ts";
import { createLogger, resolveLogFormat } from "../log.ts";
import { preparePortal, startWebProcess } from "../main.ts";

/**
 * `portal serve` with WEB_CONCURRENCY > 1: node:cluster's primary prepares the portal once
 * (migrations, first admin, session secret), runs the one SMS dispatcher (on its thread, as a
 * single process does) and forks the web processes, which share the port (the primary accepts and
 * hands connections round-robin). A web process that dies is replaced; SIGTERM or SIGINT stops
 * them all, then the dispatcher.
 */

/** Between a web process and the primary, over the cluster's IPC channel. */
type ClusterMessage = { type: "portal:listening"; url: string } | { type: "portal:wake" };

const isClusterMessage = (message: unknown): message is ClusterMessage =>
  typeof message === "object" &&
  message !== null &&
  typeof (message as { type?: unknown }).type === "string" &&
  (message as { type: string }).type.startsWith("portal:");

/** How long the web processes get to finish their requests on a stop before they are killed. */
const STOP_TIMEOUT_MS = 15_000;

export async function serveCluster(config: Config): Promise<void> {
  if (cluster.isPrimary) await runPrimary(config);
  else await runWebProcess(config);
}

async function runWebProcess(config: Config): Promise<void> {
  const send = (message: ClusterMessage) => {
    // The primary gone (killed) leaves nobody to tell; node's cluster ends this process then.
    if (process.connected) process.send?.(message);
  };
  const portal = await startWebProcess(config, () => send({ type: "portal:wake" }));
  send({ type: "portal:listening", url: portal.url });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    portal.app.log.info({ signal, pid: process.pid }, "web process shutting down");
    await portal.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

async function runPrimary(config: Config): Promise<void> {
  const log = createLogger(config);
  const { database } = await preparePortal(config);
  // The primary serves no page: its connection was for the preparation only.
  await database.destroy();
  // SMS_DISPATCHER=false: `portal worker` processes send; the web processes' wakes go nowhere.
  const dispatcher = config.SMS_DISPATCHER ? await startDispatcherThread(config) : null;

  let stopping = false;
  const stopAll = async () => {
    const running = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    const exited = running.map(
      (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once("exit", resolve))),
    );
    for (const w of running) w.process.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const w of running) if (!w.isDead()) w.process.kill("SIGKILL");
    }, STOP_TIMEOUT_MS);
    await Promise.all(exited);
    clearTimeout(timer);
    await dispatcher?.stop();
  };
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    await stopAll();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  // Settled when every first web process listens, or when one of them exits first (a port in
  // use, a database it cannot open): then the portal cannot start, and forking again would not help.
  let started!: { resolve: (url: string) => void; reject: (error: Error) => void };
  const allListening = new Promise<string>((resolve, reject) => {
    started = { resolve, reject };
  });
  let starting = true;
  const listening = new Set<Worker>();
  const fork = () => {
    // A web process writes its log through the primary's output: in the primary's format.
    const worker = cluster.fork({ LOG_FORMAT: resolveLogFormat(config) });
    worker.on("message", (message: unknown) => {
      if (!isClusterMessage(message)) return;
      if (message.type === "portal:wake") dispatcher?.wake();
      else {
        listening.add(worker);
        if (listening.size >= config.WEB_CONCURRENCY) started.resolve(message.url);
      }
    });
    return worker;
  };

  cluster.on("exit", (worker, code, signal) => {
    const wasListening = listening.delete(worker);
    if (stopping) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (starting) {
      started.reject(new Error(`a web process exited while starting (${how})`));
      return;
    }
    process.stderr.write(
      `portal: web process ${worker.process.pid} exited (${how}); starting another\n`,
    );
    // One that never came up waits a second, so a fault it keeps hitting is not a fork storm.
    if (wasListening) fork();
    else setTimeout(() => stopping || fork(), 1000).unref();
  });

  const workers = Array.from({ length: config.WEB_CONCURRENCY }, fork);
  let url: string;
  try {
    url = await allListening;
  } catch (error) {
    stopping = true;
    await stopAll();
    throw error;
  }
  starting = false;
  log.info({ url, webProcesses: workers.length }, "Placement Portal is running");
  process.stdout.write(
    `Placement Portal: open ${url} (${workers.length} web processes: pids ${workers
      .map((w) => w.process.pid)
      .join(", ")})\n`,
  );
}
