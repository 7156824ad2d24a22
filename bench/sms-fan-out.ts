/**
 * What the outbox's triggers cost a big write: a job alert's fan-out (`--messages N` rows queued
 * in one INSERT ... SELECT, as posting a job writes them) and a bulk status change of all of them
 * in one UPDATE (as a bulk cancel), each timed on a fresh, migrated database, `--runs` times; then
 * the dispatcher's fold of the count deltas both left (decision 024).
 * `npx tsx bench/sms-fan-out.ts [--messages 95000] [--runs 3] [--postgres URL]` (SQLite always;
 * PostgreSQL too when given an admin URL, on a database it creates and drops).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import pg from "pg";
import { openDatabase } from "#src/db/database.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { foldHourlyCounts } from "#src/sms/hourly-counts.ts";

const { values } = parseArgs({
  options: {
    postgres: { type: "string" },
    messages: { type: "string", default: "95000" },
    runs: { type: "string", default: "3" },
  },
});
const MESSAGES = Number(values.messages);
const RUNS = Number(values.runs);

async function freshDatabase(kind: "sqlite" | "postgres", run: number) {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "portal-fan-out-"));
    const database = openDatabase(`file:${join(dir, "bench.db")}`);
    return {
      database,
      drop: async () => {
        await database.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `portal_fan_out_${process.pid}_${run}`;
  const admin = new pg.Client({ connectionString: values.postgres });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(values.postgres!);
  url.pathname = `/${name}`;
  const database = openDatabase(url.toString());
  return {
    database,
    drop: async () => {
      await database.destroy();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

async function once(kind: "sqlite" | "postgres", run: number) {
  const { database, drop } = await freshDatabase(kind, run);
  try {
    const db = database.db;
    await migrateToLatest(db);
    const now = new Date().toISOString();
    const at = kind === "postgres" ? sql`cast(${now} as timestamptz)` : sql`${now}`;
    const numbers =
      kind === "postgres"
        ? sql`generate_series(1, ${MESSAGES}) as n(i)`
        : sql`(with recursive n(i) as (select 1 union all select i + 1 from n where i < ${MESSAGES}) select i from n) n`;
    const started = performance.now();
    await sql`insert into sms_messages (kind, priority, dedupe_key, reference, student_id, to_e164,
        body, encoding, segments, status, next_attempt_at, created_at, updated_at)
      select 'job_posted', 10, 'fan-out:' || cast(i as text), 'job:1', null,
        '+91' || cast(9000000000 + i as text), 'New job: SDE at Infosys. Apply by 12 Dec.',
        'GSM-7', 1, 'queued', ${at}, ${at}, ${at}
      from ${numbers}`.execute(db);
    const fanOut = performance.now() - started;
    const cancelStarted = performance.now();
    await sql`update sms_messages set status = 'cancelled' where status = 'queued'`.execute(db);
    const cancel = performance.now() - cancelStarted;
    const foldStarted = performance.now();
    const folded = await foldHourlyCounts(database);
    const fold = performance.now() - foldStarted;
    return {
      kind,
      messages: MESSAGES,
      fanOutS: (fanOut / 1000).toFixed(2),
      bulkCancelS: (cancel / 1000).toFixed(2),
      deltasFolded: folded,
      foldS: (fold / 1000).toFixed(2),
    };
  } finally {
    await drop();
  }
}

const kinds: ("sqlite" | "postgres")[] = values.postgres ? ["sqlite", "postgres"] : ["sqlite"];
console.log(`node ${process.version}, ${MESSAGES} messages, ${RUNS} runs each\n`);
for (const kind of kinds) {
  const rows = [];
  for (let run = 0; run < RUNS; run++) rows.push(await once(kind, run));
  console.table(rows);
}
process.exit(0);
