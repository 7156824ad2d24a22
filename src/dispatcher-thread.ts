import { Worker } from "node:worker_threads";
import type { Config } from "./config.ts";
import { resolveLogFormat } from "./log.ts";

/**
 * The SMS dispatcher of `portal serve`, on a thread of its own (decision 011). A fan-out at full
 * speed keeps a dispatcher busy (HTTP calls and their answers, claims and outcome writes through
 * SQLite's synchronous driver, the garbage of thousands of requests a second); on the web
 * server's event loop it would make pages wait. On its own thread it has its own event loop, heap and
 * database connection; the web thread only tells it "something was queued" after a commit.
 */

export type ToDispatcherThread = { type: "wake" } | { type: "stop"; timeoutMs: number };
export type FromDispatcherThread =
  | { type: "started"; workerId: string }
  | { type: "stopped" }
  | { type: "failed"; message: string };

export interface DispatcherHandle {
  readonly workerId: string;
  wake(): void;
  stop(timeoutMs?: number): Promise<void>;
}

/** The thread's heap: its live data is small, and a cap keeps a burst of garbage from growing the process. */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };

function threadEntry(): URL {
  // From TypeScript source (tsx: tests, npm run dev) a small JavaScript file registers tsx's
  // loader, which threads do not inherit; compiled (npm start), the bundle beside this one.
  return import.meta.url.endsWith(".ts")
    ? new URL("./dispatcher-thread-boot.mjs", import.meta.url)
    : new URL("./dispatcher-thread-main.js", import.meta.url);
}

/** Starts one thread and waits for its dispatcher to run. */
async function spawnThread(config: Config): Promise<{ worker: Worker; workerId: string }> {
  const worker = new Worker(threadEntry(), {
    // Its log lines go out through this thread's output: written as this thread decided (a
    // thread's own standard output is never a terminal).
    workerData: { config: { ...config, LOG_FORMAT: resolveLogFormat(config) } },
    resourceLimits: THREAD_LIMITS,
  });
  const workerId = await new Promise<string>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (message: FromDispatcherThread) => {
      if (message.type === "started") resolve(message.workerId);
      else
        reject(
          new Error(message.type === "failed" ? message.message : "the dispatcher did not start"),
        );
    });
  });
  return { worker, workerId };
}

/**
 * Starts the dispatcher thread. A thread that dies (a bug, its heap cap) is reported and started
 * again after a second, so SMS never stop for good while pages go on; rows it held are taken over
 * when their leases run out, and reconciled first.
 */
export async function startDispatcherThread(config: Config): Promise<DispatcherHandle> {
  let current = await spawnThread(config);
  let stopping = false;
  const watch = (worker: Worker) => {
    worker.on("error", (error) => {
      process.stderr.write(`portal: the SMS dispatcher thread failed: ${error.message}\n`);
    });
    worker.once("exit", (code) => {
      if (stopping) return;
      process.stderr.write(`portal: the SMS dispatcher thread exited (${code}); restarting it\n`);
      setTimeout(() => {
        if (stopping) return;
        spawnThread(config).then(
          (next) => {
            current = next;
            watch(next.worker);
          },
          (error: Error) => process.stderr.write(`portal: restart failed: ${error.message}\n`),
        );
      }, 1000).unref();
    });
  };
  watch(current.worker);
  const send = (message: ToDispatcherThread) => current.worker.postMessage(message);
  return {
    get workerId() {
      return current.workerId;
    },
    wake: () => send({ type: "wake" }),
    async stop(timeoutMs = 10_000) {
      stopping = true;
      const { worker } = current;
      const stopped = new Promise<void>((resolve) => {
        worker.on("message", (message: FromDispatcherThread) => {
          if (message.type === "stopped") resolve();
        });
        worker.once("exit", () => resolve());
      });
      send({ type: "stop", timeoutMs });
      await stopped;
      await worker.terminate();
    },
  };
}
