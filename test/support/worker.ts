import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { portalCommand } from "./process.ts";

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker has said it runs. */
  ready: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** `portal worker` as its own process: what a second SMS sender on the same database is. */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, portalCommand("worker"), {
    env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes("SMS worker")) resolve();
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
  ready.catch(() => {});
  return {
    child,
    output: () => output,
    ready,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, "exit");
    },
  };
}
