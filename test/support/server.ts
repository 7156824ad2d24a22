import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ServerProcess {
  url: string;
  dataDir: string;
  output: () => string;
  /** Stops the server; its data folder is removed unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Runs `portal serve` as its own process, exactly as `npm start` does, on a free port and a fresh
 * data folder (SQLite unless DATABASE_URL is given).
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  existingDataDir?: string,
): Promise<ServerProcess> {
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), "portal-server-"));
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/portal.ts", "serve"],
    {
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
    },
  );
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
    dataDir,
    output: () => output,
    async stop(options = {}) {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
