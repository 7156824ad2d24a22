// @both-databases: hourly counts are kept by triggers per dialect.
import fc from "fast-check";
import { type Kysely, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldDeltas, indiaTimeBucket } from "#src/db/dialect.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { migrations } from "#src/db/migrations/index.ts";
import type { DB, SmsKind, SmsStatus } from "#src/db/schema.ts";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { createTestDatabase, testDialect } from "#test/support/database.ts";
import { waitFor } from "#test/support/sms.ts";
import { Dispatcher } from "./dispatcher.ts";
import { foldHourlyCounts, HOURLY_COUNTS_FOLD } from "./hourly-counts.ts";
import { createTransport } from "./transport/index.ts";

/**
 * sms_hourly_counts (migration 2026-12-03h) plus the deltas not folded into it yet
 * (sms_count_deltas, 2026-12-07b) must equal the messages grouped by India hour of creation, kind
 * and status after any writes, however they are made: one row or thousands per statement (a job
 * alert's INSERT ... SELECT, a bulk cancel), status, kind and creation time changed, rows
 * deleted, updates that touch none of the key; and so must the counts alone once the deltas are
 * folded. Written in SQL, so the database's triggers are what is tested, not a service.
 */

const SEED = Number(process.env.SMS_COUNTS_SEED ?? 20261203);
const RUNS = Number(process.env.SMS_COUNTS_RUNS ?? 25);

const KINDS: SmsKind[] = ["approval", "job_posted", "status_update", "custom"];
const STATUSES: SmsStatus[] = ["queued", "sending", "sent", "delivered", "failed", "captured"];
const BASE = Date.parse("2026-12-02T18:29:59.500Z"); // 23:59:59.5 in India: next to two edges

// Instants around India hour and day edges (xx:30 UTC), and a few days apart.
const instant = fc
  .tuple(fc.integer({ min: -72, max: 72 }), fc.integer({ min: -1500, max: 1500 }))
  .map(([hours, ms]) => new Date(BASE + hours * 3_600_000 + ms).toISOString());
const kind = fc.constantFrom(...KINDS);
const status = fc.constantFrom(...STATUSES);
const picker = fc.record({
  mod: fc.integer({ min: 1, max: 4 }),
  rem: fc.integer({ min: 0, max: 3 }),
});

const operation = fc.oneof(
  fc.record({
    op: fc.constant("insert" as const),
    rows: fc.array(fc.tuple(instant, kind, status), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({ op: fc.constant("copyAll" as const), status }),
  fc.record({ op: fc.constant("setStatus" as const), status, which: picker }),
  fc.record({ op: fc.constant("setKind" as const), kind, which: picker }),
  fc.record({ op: fc.constant("setCreated" as const), at: instant, which: picker }),
  fc.record({ op: fc.constant("touch" as const) }),
  fc.record({ op: fc.constant("delete" as const), which: picker }),
);

let t: TestApp;
let serial = 0;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

function message(at: string, k: SmsKind, s: SmsStatus) {
  serial += 1;
  return {
    kind: k,
    priority: 10,
    dedupe_key: `hourly-counts:${serial}`,
    student_id: null,
    to_e164: "+919845012345",
    body: "Counts test",
    encoding: "GSM-7" as const,
    segments: 1,
    status: s,
    next_attempt_at: at,
    created_at: at,
    updated_at: at,
  };
}

type Step = typeof operation extends fc.Arbitrary<infer T> ? T : never;

async function apply(db: Kysely<DB>, step: Step) {
  const chosen = (w: { mod: number; rem: number }) =>
    sql<boolean>`${sql.ref("id")} % ${w.mod} = ${w.rem % w.mod}`;
  switch (step.op) {
    case "insert":
      await db
        .insertInto("sms_messages")
        .values(step.rows.map(([at, k, s]) => message(at, k, s)))
        .execute();
      break;
    case "copyAll":
      // One INSERT ... SELECT of every row, as a job alert fans out in one statement.
      serial += 1;
      await sql`insert into sms_messages (kind, priority, dedupe_key, student_id, to_e164, body,
          encoding, segments, status, next_attempt_at, created_at, updated_at)
        select kind, priority, ${`copy:${serial}:`} || id, student_id, to_e164, body, encoding,
          segments, ${step.status}, next_attempt_at, created_at, updated_at from sms_messages`.execute(
        db,
      );
      break;
    case "setStatus":
      await db
        .updateTable("sms_messages")
        .set({ status: step.status })
        .where(chosen(step.which))
        .execute();
      break;
    case "setKind":
      await db
        .updateTable("sms_messages")
        .set({ kind: step.kind })
        .where(chosen(step.which))
        .execute();
      break;
    case "setCreated":
      await db
        .updateTable("sms_messages")
        .set({ created_at: step.at })
        .where(chosen(step.which))
        .execute();
      break;
    case "touch":
      await db
        .updateTable("sms_messages")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .execute();
      break;
    case "delete":
      await db.deleteFrom("sms_messages").where(chosen(step.which)).execute();
      break;
  }
}

type Counts = Record<string, number>;
const asMap = (rows: Array<{ hour: string; kind: string; status: string; n: number | string }>) =>
  Object.fromEntries(
    rows
      .filter((r) => Number(r.n) !== 0)
      .map((r) => [`${r.hour} ${r.kind} ${r.status}`, Number(r.n)]),
  );

/** The messages grouped by India hour, kind and status: what the counts must say. */
async function messageCounts(db: Kysely<DB>): Promise<Counts> {
  const hour = indiaTimeBucket(testDialect(), "created_at", "hour");
  return asMap(
    await db
      .selectFrom("sms_messages")
      .select([hour.as("hour"), "kind", "status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy([hour, "kind", "status"])
      .execute(),
  );
}

/** sms_hourly_counts alone, zero counts left out. */
async function foldedCounts(db: Kysely<DB>): Promise<Counts> {
  return asMap(await db.selectFrom("sms_hourly_counts").selectAll().execute());
}

/** What readers see: the counts plus the deltas not folded yet, per key. */
async function liveCounts(db: Kysely<DB>): Promise<Counts> {
  const rows = await db
    .selectFrom(
      db
        .selectFrom("sms_hourly_counts")
        .select(["hour", "kind", "status", "n"])
        .unionAll(db.selectFrom("sms_count_deltas").select(["hour", "kind", "status", "n"]))
        .as("c"),
    )
    .select(["hour", "kind", "status", (eb) => eb.fn.sum<number>("n").as("n")])
    .groupBy(["hour", "kind", "status"])
    .execute();
  return asMap(rows);
}

async function deltaCount(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom("sms_count_deltas")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("sms_hourly_counts", () => {
  it("with its deltas equals the messages grouped by India hour, kind and status after any writes, and alone once folded", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 12 }),
        async (steps, foldAfter) => {
          await t.ctx.db.deleteFrom("sms_messages").execute();
          for (const [i, step] of steps.entries()) {
            await apply(t.ctx.db, step);
            // A fold between writes: what is folded and what comes after add up.
            if (i === foldAfter) await foldHourlyCounts(t.ctx);
          }
          const raw = await messageCounts(t.ctx.db);
          expect(await liveCounts(t.ctx.db)).toEqual(raw);
          await foldHourlyCounts(t.ctx);
          expect(await deltaCount(t.ctx.db)).toBe(0);
          expect(await foldedCounts(t.ctx.db)).toEqual(raw);
          expect(await liveCounts(t.ctx.db)).toEqual(raw);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);

  it("is backfilled by its migration from the messages already there, and 2026-12-07b keeps it", async () => {
    const database = await createTestDatabase({ empty: true });
    try {
      const before = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name < "2026-12-03h"),
      );
      await migrateToLatest(database.db, before);
      const rows = Array.from({ length: 40 }, (_, i) =>
        message(
          new Date(BASE + (i - 20) * 1_700_000).toISOString(),
          KINDS[i % KINDS.length]!,
          STATUSES[i % STATUSES.length]!,
        ),
      );
      await database.db.insertInto("sms_messages").values(rows).execute();
      const applied = await migrateToLatest(database.db);
      expect(applied).toContain("2026-12-03h-sms-hourly-counts");
      expect(applied).toContain("2026-12-07b-sms-count-deltas");
      const raw = await messageCounts(database.db);
      expect(Object.keys(raw).length).toBeGreaterThan(10);
      expect(await foldedCounts(database.db)).toEqual(raw);
      expect(await deltaCount(database.db)).toBe(0);
    } finally {
      await database.destroy();
    }
  });

  it("is folded a chunk of deltas per transaction until none is left", async () => {
    await t.ctx.db.deleteFrom("sms_messages").execute();
    await foldHourlyCounts(t.ctx);
    for (let i = 0; i < 10; i++)
      await apply(t.ctx.db, {
        op: "insert",
        rows: [[new Date(BASE + i * 1_000_000).toISOString(), "custom", "queued"]],
      });
    expect(await foldHourlyCounts(t.ctx, 3)).toBe(10);
    expect(await deltaCount(t.ctx.db)).toBe(0);
    expect(await foldedCounts(t.ctx.db)).toEqual(await messageCounts(t.ctx.db));
  });

  it("is folded by the dispatchers' maintenance", async () => {
    await t.ctx.db.deleteFrom("sms_messages").execute();
    await foldHourlyCounts(t.ctx);
    await apply(t.ctx.db, {
      op: "insert",
      rows: [[new Date(BASE).toISOString(), "custom", "queued"]],
    });
    expect(await deltaCount(t.ctx.db)).toBeGreaterThan(0);
    const dispatcher = new Dispatcher(t.ctx, { transport: createTransport(t.ctx.config) });
    await dispatcher.maintain();
    expect(await deltaCount(t.ctx.db)).toBe(0);
    expect(await foldedCounts(t.ctx.db)).toEqual(await messageCounts(t.ctx.db));
  });
});

// The hot path and concurrent folds are about PostgreSQL's row locks: SQLite runs one write
// transaction at a time, so neither question arises there.
describe.runIf(testDialect() === "postgres")("sms_hourly_counts on PostgreSQL", () => {
  const url = () => t.database.url;

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    return client;
  }

  const insertSql = (at: string, status: SmsStatus, count: number) => {
    serial += 1;
    return `insert into sms_messages (kind, priority, dedupe_key, to_e164, body, encoding, segments,
        status, next_attempt_at, created_at, updated_at)
      select 'job_posted', 10, 'hot-path:${serial}:' || g, '+919845012345', 'Counts test', 'GSM-7',
        1, '${status}', '${at}', '${at}', '${at}' from generate_series(1, ${count}) g`;
  };

  it("an open transaction queueing SMS does not hold up a status change of another message in the same hour", async () => {
    await t.ctx.db.deleteFrom("sms_messages").execute();
    const at = new Date(BASE).toISOString();
    const [queued] = await t.ctx.db
      .insertInto("sms_messages")
      .values(message(at, "job_posted", "queued"))
      .returning("id")
      .execute();
    // An admin's bulk move: 300 SMS of the same hour, kind and status queued in one transaction,
    // left open.
    const admin = await connect();
    const dispatcher = await connect();
    try {
      await admin.query("begin");
      await admin.query(insertSql(at, "queued", 300));
      // The dispatcher claims the earlier message: its status changes in the same hour, kind and
      // (old) status. With the count row shared, this waited for the admin's commit.
      await dispatcher.query("set lock_timeout = '200ms'");
      const claimed = await dispatcher.query(
        "update sms_messages set status = 'sending' where id = $1",
        [queued!.id],
      );
      expect(claimed.rowCount).toBe(1);
      await admin.query("commit");
    } finally {
      await admin.query("rollback").catch(() => {});
      await admin.end();
      await dispatcher.end();
    }
    expect(await liveCounts(t.ctx.db)).toEqual(await messageCounts(t.ctx.db));
  });

  it("two folds at once add each delta once", async () => {
    await t.ctx.db.deleteFrom("sms_messages").execute();
    await foldHourlyCounts(t.ctx);
    const at = new Date(BASE).toISOString();
    const writer = await connect();
    const watcher = await connect();
    try {
      await writer.query(insertSql(at, "queued", 50));
      await writer.query("update sms_messages set status = 'sent' where id % 3 = 0");
      let second: Promise<number> | undefined;
      await t.ctx.db.transaction().execute(async (trx) => {
        // The first fold has taken the deltas and updated the counts, not committed yet.
        expect(await foldDeltas(trx, "postgres", HOURLY_COUNTS_FOLD)).toBeGreaterThan(0);
        // A message committed meanwhile: only the second fold may add it.
        await writer.query(insertSql(at, "queued", 1));
        second = foldHourlyCounts(t.ctx);
        // The second fold waits on the rows the first is deleting.
        await waitFor(
          async () => {
            const { rows } = await watcher.query(
              `select 1 from pg_stat_activity where datname = current_database()
              and wait_event_type = 'Lock' and query like '%sms_count_deltas%'`,
            );
            return rows.length > 0;
          },
          10_000,
          "the second fold waiting for the first",
        );
      });
      expect(await second).toBe(1);
    } finally {
      await writer.end();
      await watcher.end();
    }
    expect(await deltaCount(t.ctx.db)).toBe(0);
    expect(await foldedCounts(t.ctx.db)).toEqual(await messageCounts(t.ctx.db));
  });
});
