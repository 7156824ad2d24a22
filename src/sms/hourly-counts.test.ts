// @both-databases: hourly counts are kept by triggers per dialect.
import fc from "fast-check";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indiaTimeBucket } from "#src/db/dialect.ts";
import { migrateToLatest } from "#src/db/migrate.ts";
import { migrations } from "#src/db/migrations/index.ts";
import type { DB, SmsKind, SmsStatus } from "#src/db/schema.ts";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { createTestDatabase, testDialect } from "#test/support/database.ts";

/**
 * sms_hourly_counts (migration 2026-12-03h) must equal the messages grouped by India hour of
 * creation, kind and status after any writes, however they are made: one row or thousands per
 * statement (a job alert's INSERT ... SELECT, a bulk cancel), status, kind and creation time
 * changed, rows deleted, updates that touch none of the key. Written in SQL, so the database's
 * triggers are what is tested, not a service.
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

/** Both sides as "hour kind status" -> n, zero counts left out. */
async function bothSides(db: Kysely<DB>) {
  const hour = indiaTimeBucket(testDialect(), "created_at", "hour");
  const raw = await db
    .selectFrom("sms_messages")
    .select([hour.as("hour"), "kind", "status", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy([hour, "kind", "status"])
    .execute();
  const kept = await db.selectFrom("sms_hourly_counts").selectAll().where("n", "<>", 0).execute();
  const asMap = (rows: Array<{ hour: string; kind: string; status: string; n: number | string }>) =>
    Object.fromEntries(rows.map((r) => [`${r.hour} ${r.kind} ${r.status}`, Number(r.n)]));
  return { raw: asMap(raw), kept: asMap(kept) };
}

describe("sms_hourly_counts", () => {
  it("equals the messages grouped by India hour, kind and status after any writes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 12 }), async (steps) => {
        await t.ctx.db.deleteFrom("sms_messages").execute();
        for (const step of steps) await apply(t.ctx.db, step);
        const { raw, kept } = await bothSides(t.ctx.db);
        expect(kept).toEqual(raw);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);

  it("is backfilled by its migration from the messages already there", async () => {
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
      expect(await migrateToLatest(database.db)).toContain("2026-12-03h-sms-hourly-counts");
      const { raw, kept } = await bothSides(database.db);
      expect(Object.keys(raw).length).toBeGreaterThan(10);
      expect(kept).toEqual(raw);
    } finally {
      await database.destroy();
    }
  });
});
