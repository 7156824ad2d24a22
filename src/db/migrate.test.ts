// @both-databases: each migration has SQL per dialect.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type Kysely, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testDialect } from "#test/support/database.ts";
import { portalCommand } from "#test/support/process.ts";
import { MigrationFailedError, migrateToLatest } from "./migrate.ts";
import { migrations } from "./migrations/index.ts";

let database: TestDatabase;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await database.destroy();
});

/** The SMS console's counts by status: the folded hourly counts plus the deltas not folded yet. */
// biome-ignore lint/suspicious/noExplicitAny: the schema of any migration
async function hourlyCountsByStatus(db: Kysely<any>) {
  const { rows } = await sql<{ status: string; n: number }>`
    select status, sum(n) as n from (
      select status, n from sms_hourly_counts union all select status, n from sms_count_deltas
    ) counted group by status having sum(n) > 0 order by status`.execute(db);
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}

describe("migrations", () => {
  it("bring the schema up to date and are a no-op the second time", async () => {
    expect(await migrateToLatest(database.db)).toEqual([]); // the template is migrated already
    const tables = await database.db.introspection.getTables();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["users", "students", "audit_log", "sms_messages"]),
    );
  });

  it("stop with an error naming the migration that failed, and apply nothing of it", async () => {
    const broken = {
      ...migrations,
      "2999-01-01-broken": {
        // biome-ignore lint/suspicious/noExplicitAny: any schema
        async up(db: Kysely<any>) {
          await db.schema.createTable("half_made").addColumn("id", "integer").execute();
          await sql`select * from no_such_table`.execute(db);
        },
      },
    };
    await expect(migrateToLatest(database.db, broken)).rejects.toThrowError(MigrationFailedError);
    await expect(migrateToLatest(database.db, broken)).rejects.toThrowError(
      /Migration "2999-01-01-broken" failed/,
    );
    const tables = await database.db.introspection.getTables();
    expect(tables.map((t) => t.name)).not.toContain("half_made");
  });

  it("2026-11-26a keeps every outbox row and index, allows `cancelled` and adds `reference`", async () => {
    const empty = await createTestDatabase({ empty: true });
    // biome-ignore lint/suspicious/noExplicitAny: the schema as it was before the migration
    const db = empty.db as unknown as Kysely<any>;
    try {
      const before = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name < "2026-11-26a"),
      );
      await migrateToLatest(db, before);
      const now = new Date().toISOString();
      const row = {
        kind: "approval",
        priority: 0,
        dedupe_key: "approval:1",
        to_e164: "+919876543210",
        body: "Hello",
        encoding: "GSM-7",
        segments: 1,
        status: "sent",
        next_attempt_at: now,
        twilio_sid: `SM${"a".repeat(32)}`,
        created_at: now,
        updated_at: now,
      };
      await db
        .insertInto("sms_messages")
        .values({ id: 41, ...row })
        .execute();
      const through = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name <= "2026-11-26a-sms-cancelled"),
      );
      expect(await migrateToLatest(db, through)).toEqual(["2026-11-26a-sms-cancelled"]);

      const kept = await db.selectFrom("sms_messages").selectAll().executeTakeFirstOrThrow();
      expect(kept).toMatchObject({
        id: 41,
        dedupe_key: "approval:1",
        status: "sent",
        reference: null,
      });
      const names =
        empty.dialect === "sqlite"
          ? (
              await sql<{
                name: string;
              }>`select name from sqlite_master where type = 'index' and tbl_name = 'sms_messages'`.execute(
                db,
              )
            ).rows.map((r) => r.name)
          : (
              await sql<{
                name: string;
              }>`select indexname as name from pg_indexes where tablename = 'sms_messages'`.execute(
                db,
              )
            ).rows.map((r) => r.name);
      expect(names).toEqual(
        expect.arrayContaining([
          "sms_messages_due_idx",
          "sms_messages_lease_idx",
          "sms_messages_student_idx",
          "sms_messages_reference_idx",
        ]),
      );
      // Unique dedupe key and SID are still enforced; the new status is allowed, a bogus one not.
      await expect(
        db
          .insertInto("sms_messages")
          .values({ ...row, twilio_sid: null })
          .execute(),
      ).rejects.toThrow();
      await expect(
        db
          .insertInto("sms_messages")
          .values({ ...row, dedupe_key: "approval:2" })
          .execute(),
      ).rejects.toThrow();
      await expect(
        db
          .insertInto("sms_messages")
          .values({ ...row, dedupe_key: "approval:3", twilio_sid: null, status: "bogus" })
          .execute(),
      ).rejects.toThrow();
      const added = await db
        .insertInto("sms_messages")
        .values({
          ...row,
          dedupe_key: "approval:4",
          twilio_sid: null,
          status: "cancelled",
          reference: "job:1",
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      // SQLite's AUTOINCREMENT carried over with the copied ids (PostgreSQL's identity never moved).
      if (empty.dialect === "sqlite") expect(added.id).toBeGreaterThan(41);
    } finally {
      await empty.destroy();
    }
  });

  it("2026-12-06h keeps each message's student name and roll number where the student exists", async () => {
    const empty = await createTestDatabase({ empty: true });
    // biome-ignore lint/suspicious/noExplicitAny: the schema as it was before the migration
    const db = empty.db as unknown as Kysely<any>;
    try {
      const upTo = (last: string) =>
        Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= last));
      await migrateToLatest(db, upTo("2026-12-06e-summary-shares-in-key-order"));
      const now = new Date().toISOString();
      const user = await db
        .insertInto("users")
        .values({ email: "a@college.test", password_hash: "x", role: "student", created_at: now })
        .returning("id")
        .executeTakeFirstOrThrow();
      const student = await db
        .insertInto("students")
        .values({
          user_id: user.id,
          full_name: "Asha Rao",
          roll_number: "1XY21CS001",
          phone_e164: "+919876543210",
          department: "CSE",
          graduation_year: 2027,
          cgpa: 8,
          active_backlogs: 0,
          created_at: now,
          updated_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const row = (key: string, studentId: number | null) => ({
        kind: "approval",
        priority: 0,
        dedupe_key: key,
        student_id: studentId,
        to_e164: "+919876543210",
        body: "Hello",
        encoding: "GSM-7",
        segments: 1,
        status: "sent",
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      });
      await db
        .insertInto("sms_messages")
        .values([row("a", student.id), row("b", null)])
        .execute();
      expect(await migrateToLatest(db, upTo("2026-12-06h-kept-names-and-rejections"))).toEqual([
        "2026-12-06h-kept-names-and-rejections",
      ]);
      const kept = await db
        .selectFrom("sms_messages")
        .select(["dedupe_key", "student_name", "student_roll_number"])
        .orderBy("dedupe_key")
        .execute();
      expect(kept).toEqual([
        { dedupe_key: "a", student_name: "Asha Rao", student_roll_number: "1XY21CS001" },
        { dedupe_key: "b", student_name: null, student_roll_number: null },
      ]);
    } finally {
      await empty.destroy();
    }
  });

  it("2026-12-07e allows `unknown` and keeps every message, attempt, index, trigger and id", async () => {
    const empty = await createTestDatabase({ empty: true });
    // biome-ignore lint/suspicious/noExplicitAny: the schema as it was before the migration
    const db = empty.db as unknown as Kysely<any>;
    try {
      const upTo = (last: string) =>
        Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= last));
      await migrateToLatest(db, upTo("2026-12-07d-dispatcher-heartbeats"));
      const now = new Date().toISOString();
      const row = (key: string, status: string) => ({
        kind: "approval",
        priority: 0,
        dedupe_key: key,
        to_e164: "+919876543210",
        body: "Hello",
        encoding: "GSM-7",
        segments: 1,
        status,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      });
      await db
        .insertInto("sms_messages")
        .values([
          { id: 7, ...row("a", "sending") },
          { id: 41, ...row("b", "queued") },
        ])
        .execute();
      // An outcome write: the attempts trigger copies it into sms_attempts.
      await db
        .updateTable("sms_messages")
        .set({ status: "queued", attempt_started_at: now, attempt_outcome: "retry", attempts: 1 })
        .where("id", "=", 7)
        .execute();
      await db.deleteFrom("sms_messages").where("id", "=", 41).execute();
      const objectsBefore = await schemaObjects(db, empty.dialect);
      const countsBefore = await hourlyCountsByStatus(db);

      expect(await migrateToLatest(db, upTo("2026-12-07e-sms-outcome-unknown"))).toEqual([
        "2026-12-07e-sms-outcome-unknown",
      ]);
      expect(await schemaObjects(db, empty.dialect)).toEqual(objectsBefore);
      const attempts = await db.selectFrom("sms_attempts").selectAll().execute();
      expect(attempts).toMatchObject([{ message_id: 7, outcome: "retry" }]);
      // Still kept by triggers: the attempts trigger and the hourly counts.
      await db
        .updateTable("sms_messages")
        .set({ status: "unknown", attempt_started_at: now, attempt_outcome: "failed" })
        .where("id", "=", 7)
        .execute();
      expect(await db.selectFrom("sms_attempts").selectAll().execute()).toHaveLength(2);
      expect(await hourlyCountsByStatus(db)).toEqual([{ status: "unknown", n: 1 }]);
      expect(countsBefore.length).toBeGreaterThan(0);
      await expect(
        db.updateTable("sms_messages").set({ status: "lost" }).where("id", "=", 7).execute(),
      ).rejects.toThrow(/check/i);
      // SQLite: the id of the deleted row 41 is never handed out again (PostgreSQL's identity
      // never moved).
      const added = await db
        .insertInto("sms_messages")
        .values({ ...row("c", "queued"), ...(empty.dialect === "sqlite" ? {} : { id: 42 }) })
        .returning("id")
        .executeTakeFirstOrThrow();
      expect(added.id).toBeGreaterThan(41);
      const marked = await db
        .updateTable("sms_messages")
        .set({ cancel_requested_at: now, cancel_reason: "Job closed" })
        .where("id", "=", added.id)
        .executeTakeFirst();
      expect(Number(marked.numUpdatedRows)).toBe(1);
    } finally {
      await empty.destroy();
    }
  });

  it("`portal migrate` exits non-zero with a one-line reason when the database cannot be reached", async () => {
    const run = promisify(execFile)(process.execPath, portalCommand("migrate"), {
      env: {
        ...process.env,
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
        LOG_LEVEL: "silent",
      },
    });
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^portal: .+\n$/),
    });
  });

  it("2026-12-07a takes counter rows in key order (PostgreSQL), summary writes only on a moved share (SQLite); down restores", async () => {
    const definitions = async () => {
      if (database.dialect === "postgres") {
        const { rows } = await sql<{ body: string }>`select prosrc as body from pg_proc
          where proname in ('placement_summary_application', 'company_counts_application')
          order by proname`.execute(database.db);
        return rows.map((r) => r.body).join("\n");
      }
      const { rows } = await sql<{ body: string }>`select sql as body from sqlite_master
        where type = 'trigger' and name = 'students_summary_update'`.execute(database.db);
      return rows.map((r) => r.body).join("\n");
    };
    // PostgreSQL: students locked in id order, company counts upserted in key order.
    const fixed =
      database.dialect === "postgres"
        ? /order by d\.student_id, d\.company[\s\S]*order by s\.id for (no key )?update/
        : /when old\.department <> new\.department/;
    expect(await definitions()).toMatch(fixed);
    const { down, up } = migrations["2026-12-07a-counter-rows-in-key-order"] as Required<
      (typeof migrations)[string]
    >;
    await down(database.db);
    expect(await definitions()).not.toMatch(fixed);
    await up(database.db);
    expect(await definitions()).toMatch(fixed);
  });

  it("2026-12-08a adds due_at, not_after and quiet to the outbox, keeping its rows; down removes them", async () => {
    const columns = async () =>
      (await database.db.introspection.getTables())
        .find((table) => table.name === "sms_messages")
        ?.columns.map((c) => c.name)
        .filter((name) => ["due_at", "not_after", "quiet"].includes(name))
        .sort();
    expect(await columns()).toEqual(["due_at", "not_after", "quiet"]);
    const { down, up } = migrations["2026-12-08a-sms-due-windows"] as Required<
      (typeof migrations)[string]
    >;
    await down(database.db);
    expect(await columns()).toEqual([]);
    await up(database.db);
    expect(await columns()).toEqual(["due_at", "not_after", "quiet"]);
  });

  it("2026-12-08b adds rounds, slots, members, the feed version and the nudge; down removes them", async () => {
    const tables = async () =>
      (await database.db.introspection.getTables())
        .map((table) => table.name)
        .filter((name) => name.startsWith("round"))
        .sort();
    const column = async (table: string, name: string) =>
      (await database.db.introspection.getTables())
        .find((t) => t.name === table)
        ?.columns.some((c) => c.name === name);
    expect(await tables()).toEqual(["round_members", "round_slots", "rounds"]);
    expect(await column("students", "calendar_feed_version")).toBe(true);
    expect(await column("jobs", "nudge_hours")).toBe(true);
    const { down, up } = migrations["2026-12-08b-rounds"] as Required<(typeof migrations)[string]>;
    await down(database.db);
    expect(await tables()).toEqual([]);
    expect(await column("students", "calendar_feed_version")).toBe(false);
    expect(await column("jobs", "nudge_hours")).toBe(false);
    await up(database.db);
    expect(await tables()).toEqual(["round_members", "round_slots", "rounds"]);
  });

  it.runIf(testDialect() === "postgres")(
    "2026-12-07i locks the moved students for no key update (PostgreSQL); down restores",
    async () => {
      const lockStep = async () => {
        const { rows } = await sql<{ body: string }>`select prosrc as body from pg_proc
        where proname = 'placement_summary_application'`.execute(database.db);
        return [...(rows[0]?.body ?? "").matchAll(/order by s\.id (for [a-z ]+);/g)].map(
          (m) => m[1],
        );
      };
      const noKey = ["for no key update", "for no key update", "for no key update"];
      expect(await lockStep()).toEqual(noKey);
      const { down, up } = migrations["2026-12-07i-counter-locks-beside-foreign-keys"] as Required<
        (typeof migrations)[string]
      >;
      await down(database.db);
      expect(await lockStep()).toEqual(["for update", "for update", "for update"]);
      await up(database.db);
      expect(await lockStep()).toEqual(noKey);
    },
  );
});

/** The indexes and triggers on sms_messages and sms_attempts, by name. */
// biome-ignore lint/suspicious/noExplicitAny: any schema
async function schemaObjects(db: Kysely<any>, dialect: string): Promise<string[]> {
  const rows =
    dialect === "sqlite"
      ? await sql<{ name: string }>`select type || ' ' || name as name from sqlite_master
          where tbl_name in ('sms_messages', 'sms_attempts') and type <> 'table'`.execute(db)
      : await sql<{ name: string }>`
          select 'index ' || indexname as name from pg_indexes
            where tablename in ('sms_messages', 'sms_attempts')
          union all
          select 'trigger ' || tgname from pg_trigger
            where tgrelid in ('sms_messages'::regclass, 'sms_attempts'::regclass) and not tgisinternal`.execute(
          db,
        );
  return rows.rows.map((r) => r.name).sort();
}
