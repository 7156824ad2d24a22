import { readFileSync } from "node:fs";
import { join } from "node:path";

/** What the HTTP benchmarks share about the compiled portal they start and watch. */

/** The node flags `npm start` runs the portal with, from the measured checkout's package.json. */
export function startFlags(root: string): string[] {
  const start: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.start;
  return (/\bnode\s+(.*?)\s*dist\/portal\.js/.exec(start)?.[1] ?? "").split(/\s+/).filter(Boolean);
}

/** A process's resident memory (VmRSS) in MB; 0 once it is gone. */
export function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Math.round(Number(kb ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** Until `url` answers 2xx, or throws after `timeoutMs`. */
export async function waitForUrl(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
