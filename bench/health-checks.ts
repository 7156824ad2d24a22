/**
 * What the stall check and /metrics cost (decision 026): `DATABASE_URL=... npx tsx
 * bench/health-checks.ts [--queued 50000] [--runs 200]`. Fills the outbox of a fresh or existing
 * database with `--queued` due job-alert rows (once: rows it added earlier are kept) and as many
 * attempt rows, then times `readLiveness` (the banner's and /healthz's one statement) and
 * `readSmsMetrics` (one /metrics scrape). Prints the median and p95 of each.
 */
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { loadConfig } from "#src/config.ts";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { readLiveness, recordHeartbeat } from "#src/sms/heartbeat.ts";
import { readSmsMetrics } from "#src/sms/metrics.ts";

const { values } = parseArgs({
  options: {
    queued: { type: "string", default: "50000" },
    runs: { type: "string", default: "200" },
  },
});
const QUEUED = Number(values.queued);
const RUNS = Number(values.runs);

const config = loadConfig();
const database = openDatabase(config.DATABASE_URL);
await migrateToLatest(database.db);
const ctx = { db: database.db, dialect: database.dialect, config };

const have = await ctx.db
  .selectFrom("sms_messages")
  .select((eb) => eb.fn.countAll<number>().as("n"))
  .where("dedupe_key", "like", "bench-health:%")
  .executeTakeFirstOrThrow();
const now = new Date().toISOString();
for (let from = Number(have.n); from < QUEUED; from += 1000) {
  const rows = Array.from({ length: Math.min(1000, QUEUED - from) }, (_, i) => ({
    kind: "job_posted" as const,
    priority: 10,
    dedupe_key: `bench-health:${from + i}`,
    student_id: null,
    to_e164: "+15555550100",
    body: "Bench alert",
    encoding: "GSM-7" as const,
    segments: 1,
    status: "queued" as const,
    next_attempt_at: now,
    created_at: now,
    updated_at: now,
  }));
  await ctx.db.insertInto("sms_messages").values(rows).execute();
}
if (Number(have.n) < QUEUED) {
  // One attempt per message, finished now: the worst case of /metrics' five-minute window.
  await sql`insert into sms_attempts (message_id, attempt, started_at, finished_at, outcome)
    select id, 1, ${now}, ${now}, 'retry' from sms_messages where dedupe_key like 'bench-health:%'`.execute(
    ctx.db,
  );
}
await recordHeartbeat(ctx, "bench:1:000000");

async function time(what: string, run: () => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) =>
    samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!.toFixed(2);
  return { what, p50ms: at(50), p95ms: at(95) };
}

console.log(`${database.dialect}, ${QUEUED} due messages, ${QUEUED} attempts in the window`);
console.table([
  await time("readLiveness (banner, /healthz)", () => readLiveness(ctx)),
  await time("readSmsMetrics (/metrics)", () => readSmsMetrics(ctx)),
]);
await database.destroy();
