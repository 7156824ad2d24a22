// @both-databases: two admins' bulk selections cross the same placement summary rows in opposite orders; PostgreSQL breaks the deadlock by aborting one, which must be retried, not answered 500.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { queueSmsForStudents } from "#src/sms/outbox-api.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import { smsLogWith, theseStudents, waitFor } from "#test/support/sms.ts";
import { watchStatements } from "#test/support/statements.ts";
import { applyToJob, changeStatus } from "./service.ts";

/**
 * Results day (issue 22): two admins select applicants for two jobs at the same moment, over the
 * same two student groups in opposite orders. Each selection moves a group's placement summary
 * (a trigger), so each admin holds one group's row while waiting for the other's.
 */

const t = useTestApp();

/**
 * PostgreSQL's count of deadlocks it broke in this test's database (null on SQLite, which has
 * none). A victim's backend reports it when it next goes idle, that is before its retry answers.
 */
async function deadlocksBroken(): Promise<number | null> {
  if (testDialect() !== "postgres") return null;
  await sql`select pg_stat_clear_snapshot()`.execute(t.ctx.db);
  const { rows } = await sql<{ deadlocks: string }>`select deadlocks from pg_stat_database
    where datname = current_database()`.execute(t.ctx.db);
  return Number(rows[0]?.deadlocks);
}
const ROUNDS = 4;
const PER_GROUP = 6;

describe("two admins selecting across the same groups in opposite orders", () => {
  it("both selections go through, every round, with one SMS per selection, and neither waits for a deadlock", async () => {
    const one = await createAdmin(t.ctx, "one@college.test");
    const two = await createAdmin(t.ctx, "two@college.test");
    let deadlocksSeen = 0;
    const deadlocksBefore = await deadlocksBroken();
    for (let round = 0; round < ROUNDS; round++) {
      const year = 2027 + round;
      const group = async (department: string) => {
        const ids: number[] = [];
        for (let i = 0; i < PER_GROUP; i++)
          ids.push(
            (await createStudent(t.ctx, { approved: true, department, graduation_year: year })).id,
          );
        return ids;
      };
      const cse = await group("CSE");
      const ece = await group("ECE");
      const jobA = await postJob(t.ctx, { company: `A${round}` });
      const jobB = await postJob(t.ctx, { company: `B${round}` });
      const applyAll = async (jobId: number, students: number[]) => {
        const ids: number[] = [];
        for (const s of students) {
          const r = await applyToJob(t.ctx, s, jobId);
          if (!r.ok) throw new Error(r.message);
          ids.push(r.applicationId);
        }
        return ids;
      };
      // Job A's applications are CSE first, job B's ECE first: in id order too.
      const forA = await applyAll(jobA.id, [...cse, ...ece]);
      const forB = await applyAll(jobB.id, [...ece, ...cse]);
      const outcomes = await Promise.allSettled([
        changeStatus(t.ctx, one, forA, "selected"),
        changeStatus(t.ctx, two, forB, "selected"),
      ]);
      for (const o of outcomes) {
        if (o.status === "rejected") {
          deadlocksSeen += 1;
          continue;
        }
        expect(o.value.problems).toEqual([]);
        expect(o.value.changed).toBe(PER_GROUP * 2);
      }
    }
    expect(deadlocksSeen, "selections that failed (a deadlock answered as an error)").toBe(0);
    // Not even one that a retry hid: the two moves queued on the first row they share.
    expect(await deadlocksBroken(), "deadlocks PostgreSQL broke").toBe(deadlocksBefore);
    const selected = await t.ctx.db
      .selectFrom("applications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", "selected")
      .executeTakeFirstOrThrow();
    expect(Number(selected.n)).toBe(ROUNDS * PER_GROUP * 4);
    const sms = await t.ctx.db
      .selectFrom("sms_messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("kind", "=", "status_update")
      .executeTakeFirstOrThrow();
    expect(Number(sms.n)).toBe(ROUNDS * PER_GROUP * 4);
    // The dialect is named so a reader of a failure knows which pass it was.
    expect(["sqlite", "postgres"]).toContain(testDialect());
  });
});

/** `n` approved students' applications to a new job of `company`. */
async function applicants(n: number, company: string): Promise<number[]> {
  const job = await postJob(t.ctx, { company });
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const student = await createStudent(t.ctx, { approved: true });
    const applied = await applyToJob(t.ctx, student.id, job.id);
    if (!applied.ok) throw new Error(applied.message);
    ids.push(applied.applicationId);
  }
  return ids;
}

describe("a bulk move", () => {
  it("sends as many statements for ten applicants as for two: one set, not one per applicant", async () => {
    const admin = await createAdmin(t.ctx, "bulk@college.test");
    const ids = await applicants(12, "Bosch");
    const watched = watchStatements(t.ctx);
    const sent = async (moving: number[]) => {
      watched.seen.length = 0;
      const result = await changeStatus(watched.ctx, admin, moving, "selected");
      expect(result).toMatchObject({ changed: moving.length, problems: [] });
      return watched.seen.length;
    };
    const forTwo = await sent(ids.slice(0, 2));
    expect(await sent(ids.slice(2))).toBe(forTwo);
    const events = await t.ctx.db
      .selectFrom("application_events")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("to_status", "=", "selected")
      .executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(12);
  });

  it("writes its SMS rows without a query per row, and one SMS log line naming them all", async () => {
    const admin = await createAdmin(t.ctx, "bulk-log@college.test");
    const ids = await applicants(5, "Siemens");
    // The SMS INSERT as Kysely builds it: a subquery in it is planned and run once per row.
    const watched = watchStatements(t.ctx);
    const result = await changeStatus(watched.ctx, admin, ids, "shortlisted");
    const smsInserts = watched.seen
      .filter((s) => s.label === "InsertQueryNode sms_messages")
      .map((s) => s.tree);
    expect(result.changed).toBe(5);
    expect(smsInserts).toHaveLength(1);
    expect(smsInserts[0]).not.toContain("SelectQueryNode");

    const rows = await t.ctx.db
      .selectFrom("sms_messages")
      .innerJoin("students", "students.id", "sms_messages.student_id")
      .select(["sms_messages.id", "student_name", "students.full_name"])
      .where(
        "reference",
        "in",
        ids.map((id) => `application:${id}`),
      )
      .execute();
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.student_name).toBe(row.full_name);
    const lines = (await smsLogWith(t.ctx, '"msg":"queued (batch)"'))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; sms?: number[] | number; queued?: number });
    const batch = lines.filter((l) => l.msg === "queued (batch)");
    expect(batch).toHaveLength(1);
    expect(batch[0]?.queued).toBe(5);
    expect([...((batch[0]?.sms as number[]) ?? [])].sort((a, b) => a - b)).toEqual(
      rows.map((r) => r.id).sort((a, b) => a - b),
    );
    // No line of its own for any of them (the students' approval SMS had theirs).
    const mine = new Set(rows.map((r) => r.id));
    expect(lines.filter((l) => l.msg === "queued" && mine.has(Number(l.sms)))).toHaveLength(0);
  });
});

describe.runIf(testDialect() === "postgres")(
  "a bulk move while a job alert is being written",
  () => {
    it("does not wait for the posting's transaction, though the alert's rows check the same students", async () => {
      const admin = await createAdmin(t.ctx, "beside-alert@college.test");
      const ids = await applicants(4, "Infosys");
      const students = await t.ctx.db
        .selectFrom("applications")
        .select("student_id")
        .where("id", "in", ids)
        .execute();
      let seen: "moved" | "waited for a lock" | undefined;
      let move: Promise<unknown> | undefined;
      await t.ctx.db
        .transaction()
        .execute(async (trx) => {
          // The posting's fan-out, not committed: each row's foreign key holds its student's row
          // FOR KEY SHARE until the posting commits.
          await queueSmsForStudents(trx, t.ctx, {
            kind: "job_posted",
            reference: "job:held-open",
            dedupePrefix: "held-open:",
            body: "New opportunity: apply on the portal.",
            students: theseStudents(
              trx,
              students.map((s) => s.student_id),
            ),
          });
          move = changeStatus(t.ctx, admin, ids, "selected").then((result) => {
            expect(result).toMatchObject({ changed: 4, problems: [] });
            seen ??= "moved";
          });
          seen = await waitFor(
            async () => {
              if (seen) return seen;
              const { rows } = await sql`select 1 from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`.execute(t.ctx.db);
              return rows.length > 0 ? "waited for a lock" : undefined;
            },
            10_000,
            "the move to finish or to wait",
          );
          // A move that waited finishes once the posting is rolled back here.
          throw new Error("roll back the posting");
        })
        .catch((error: Error) => {
          if (error.message !== "roll back the posting") throw error;
        });
      await move;
      expect(seen).toBe("moved");
    });
  },
);
