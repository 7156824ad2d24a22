/**
 * Fault drills against the real portal processes and the Twilio emulator:
 * `npm run drill -- <kill|outage|throttle|database|dropped|memory|results-day|reminders> [--db sqlite|postgres]
 * [--messages N] [--postgres URL] [--timeout-seconds S] [--duration-seconds S]`. Prints one line per figure, then PASS
 * or FAIL (exit code 0 or 1; a drill that cannot run here prints SKIP and exits 0).
 * See "Fault drills" in bench/README.md.
 */
import { parseArgs } from "node:util";
import { abortDrills, DRILLS, type DrillName, FULL_MESSAGES, runDrill } from "./drill-lib.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: "string", default: "sqlite" },
    messages: { type: "string" },
    postgres: {
      type: "string",
      default: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    },
    "timeout-seconds": { type: "string" },
    "duration-seconds": { type: "string" },
    reduced: { type: "boolean", default: false },
    "portal-root": { type: "string" },
    run: { type: "string", default: "tsx" },
    help: { type: "boolean", default: false },
  },
});

const usage = `Usage: npm run drill -- <${DRILLS.join("|")}> [--db sqlite|postgres] [--messages N] [--postgres URL] [--timeout-seconds 600 (results-day: 1200)] [--duration-seconds S (results-day: 120)] [--reduced] [--portal-root DIR] [--run tsx|compiled]\n`;
const name = positionals[0] as DrillName | undefined;
if (
  values.help ||
  !name ||
  !DRILLS.includes(name) ||
  !["sqlite", "postgres"].includes(values.db) ||
  !["tsx", "compiled"].includes(values.run)
) {
  process.stdout.write(usage);
  process.exit(values.help ? 0 : 2);
}
const messages = values.messages ? Number(values.messages) : FULL_MESSAGES[name];
if (!Number.isInteger(messages) || messages < 10 || messages > 1_000_000) {
  process.stderr.write("drill: --messages must be a whole number from 10 to 1000000\n");
  process.exit(2);
}
// The results-day drill runs for a time and then drains its outbox: it gets longer by default.
const timeoutMs = Number(values["timeout-seconds"] ?? (name === "results-day" ? 1200 : 600)) * 1000;
const durationSeconds = values["duration-seconds"] ? Number(values["duration-seconds"]) : undefined;
if (durationSeconds !== undefined && !(durationSeconds >= 5 && durationSeconds <= 3600)) {
  process.stderr.write("drill: --duration-seconds must be from 5 to 3600\n");
  process.exit(2);
}

// A second line of defence: whatever happens, the process ends (children die with it).
const watchdog = setTimeout(() => {
  process.stdout.write("drill: watchdog fired (the drill did not end after its timeout)\nFAIL\n");
  process.exit(1);
}, timeoutMs + 60_000);
watchdog.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, async () => {
    process.stdout.write(`drill: ${signal}, cleaning up\n`);
    const cap = setTimeout(() => process.exit(1), 20_000);
    await abortDrills();
    clearTimeout(cap);
    process.stdout.write("FAIL\n");
    process.exit(1);
  });

const started = Date.now();
process.stdout.write(
  `drill: ${name} on ${name === "database" ? "postgres" : values.db}, ${messages} messages, portal run by ${values.run} (node ${process.version})\n`,
);
const result = await runDrill(name, {
  db: values.db as "sqlite" | "postgres",
  messages,
  reduced: values.reduced,
  postgresUrl: values.postgres,
  timeoutMs,
  say: (line) => process.stderr.write(`  ${line}\n`),
  ...(values["portal-root"] ? { portalRoot: values["portal-root"] } : {}),
  run: values.run as "tsx" | "compiled",
  ...(durationSeconds !== undefined ? { durationSeconds } : {}),
});
for (const line of result.figures) process.stdout.write(`${line}\n`);
process.stdout.write(`drill wall time: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
for (const failure of result.failures) process.stdout.write(`failure: ${failure}\n`);
if (result.logDir) process.stdout.write(`logs kept in ${result.logDir}\n`);
if (result.verdict === "SKIP") process.stdout.write(`SKIP: ${result.skipReason}\n`);
else process.stdout.write(`${result.verdict}\n`);
process.exit(result.verdict === "FAIL" ? 1 : 0);
