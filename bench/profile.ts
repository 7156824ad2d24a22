/**
 * What a V8 CPU profile (`node --cpu-prof`, or `bench:http --cpu-prof DIR`) spent its time on:
 * self time summed by package (a node_modules package, Node's own code, the portal, GC) and by
 * function, the biggest first. Reads every `.cpuprofile` in the directory (or the one file) given.
 *
 *   npx tsx bench/profile.ts /tmp/prof [--top 25]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const target = positionals[0];
if (!target) {
  console.error("usage: tsx bench/profile.ts DIR_OR_FILE [--top N]");
  process.exit(1);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(target, f))
  : [target];

/** Which package a frame's code belongs to. */
function packageOf(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "(gc)";
  if (functionName === "(idle)" || functionName === "(program)") return functionName;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1]) return modules[1];
  if (url.startsWith("node:")) return "node (internal)";
  if (url === "") return "(native)";
  return "portal";
}

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    if (!node) return;
    const micros = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url, functionName);
    if (pkg === "(idle)") return;
    total += micros;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
    const where = url
      ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\//, "")}:${lineNumber + 1}`
      : "";
    const key = `${functionName || "(anonymous)"} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  });
}

function table(title: string, entries: Map<string, number>, top: number) {
  console.log(`\n| ${title} | ms | % of busy |\n|---|---|---|`);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `| ${name} | ${(micros / 1000).toFixed(0)} | ${((100 * micros) / total).toFixed(1)} |`,
    );
}
console.log(`${files.length} profile(s), ${(total / 1000).toFixed(0)} ms busy (idle left out)`);
table("package", byPackage, 15);
table("function (self time)", byFunction, Number(values.top));
