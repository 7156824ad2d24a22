import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { portalCommand } from "./process.ts";

export interface ServerProcess {
  url: string;
  /** Its process group (the server and any children): for a kill when a stop does not end it. */
  pid: number;
  dataDir: string;
  output: () => string;
  /** Stops the server; its data folder is removed unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Runs `portal serve` as its own process on a free port and a fresh data folder (SQLite unless
 * DATABASE_URL is given): compiled by the global setup, or with `npmStart` through `npm start`
 * itself (build, then the compiled bundle), as a newcomer runs it.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  existingDataDir?: string,
  options: { npmStart?: boolean } = {},
): Promise<ServerProcess> {
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), "portal-server-"));
  const [command, args] = options.npmStart
    ? ["npm", ["start", "--silent"]]
    : [process.execPath, portalCommand("serve")];
  const child: ChildProcess = spawn(command, args, {
    // Its own process group: npm start's children (the build, the server) stop with it.
    detached: true,
    env: {
      ...process.env,
      NODE_ENV: "development",
      PORT: "0",
      DATA_DIR: dataDir,
      LOG_DIR: join(dataDir, "logs"),
      LOG_LEVEL: "warn",
      DATABASE_URL: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = /open (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    dataDir,
    output: () => output,
    async stop(options = {}) {
      if (child.exitCode === null) {
        const exited = once(child, "exit");
        process.kill(-child.pid!, "SIGTERM");
        await exited;
      }
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
