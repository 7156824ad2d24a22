// @both-databases: the retention sweeps are batched deletes and updates by subquery, with a
// partial index on PostgreSQL as on SQLite.
import { type Compilable, CompiledQuery } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAdmin, createStudent, createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import { queueTestMessages } from "#test/support/sms.ts";
import { oldRejections, spentResetCodes } from "./accounts/retention.ts";
import { oldAuditEntries, pruneOldAuditEntries } from "./audit/retention.ts";
import type { AppContext, Clock } from "./context.ts";
import type { SmsStatus } from "./db/schema.ts";
import { newDispatcher } from "./maintenance.ts";
import { resendSms } from "./sms/outbox-api.ts";
import { redactionCandidates, redactOldMessages } from "./sms/retention.ts";
import { spentPhoneChanges } from "./students/retention.ts";

const DAY = 24 * 3_600_000;
/** The moment every maintenance round below runs at. */
const NOW = new Date(Date.now() - (Date.now() % 1000));
const at = (daysAgo: number): Date => new Date(NOW.getTime() - daysAgo * DAY);
const clockAt = (date: Date): Clock => ({ now: () => date });

let t: TestApp;
let ctx: AppContext;
beforeEach(async () => {
  t = await createTestApp();
  ctx = { ...t.ctx, clock: clockAt(NOW) };
});
afterEach(async () => {
  await t.close();
});

/** Messages queued `daysAgo` days before NOW, then set to `status`, each with two attempts. */
async function messages(count: number, daysAgo: number, status: SmsStatus, kind = "custom") {
  const ids = await queueTestMessages({ ...t.ctx, clock: clockAt(at(daysAgo)) }, count, {
    kind: kind as "custom",
    to: "+919876543210",
    body: (i) => `Dear Asha Rao, your application ${i} was rejected`,
  });
  await ctx.db
    .updateTable("sms_messages")
    .set({ status, error_message: "The 'To' number +919876543210 is not reachable." })
    .where("id", "in", ids)
    .execute();
  for (const id of ids)
    for (const attempt of [1, 2])
      await ctx.db
        .insertInto("sms_attempts")
        .values({
          message_id: id,
          attempt,
          started_at: at(daysAgo).toISOString(),
          finished_at: at(daysAgo).toISOString(),
          outcome: "retry",
          twilio_sid: null,
          error_code: null,
          error_message: null,
        })
        .execute();
  return ids;
}

const rowsOf = (ids: number[]) =>
  ctx.db
    .selectFrom("sms_messages")
    .select(["id", "body", "to_e164", "error_message", "redacted_at", "status"])
    .where("id", "in", ids)
    .orderBy("id")
    .execute();
const attemptsOf = async (ids: number[]) =>
  Number(
    (
      await ctx.db
        .selectFrom("sms_attempts")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("message_id", "in", ids)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("retention, done by the dispatchers' maintenance", () => {
  it("removes the text and number of done messages older than SMS_RETENTION_DAYS, and their attempts", async () => {
    const old = await messages(2, 181, "delivered");
    const oldFailed = await messages(1, 200, "failed", "test");
    const oldQueued = await messages(1, 300, "queued");
    const young = await messages(1, 179, "sent");

    await newDispatcher(ctx).maintain();

    for (const row of await rowsOf([...old, ...oldFailed])) {
      expect(row.body).toBe("[removed after 180 days]");
      expect(row.to_e164).toBe("+91******3210");
      expect(row.error_message).toBe("The 'To' number +********3210 is not reachable.");
      expect(row.redacted_at).not.toBeNull();
    }
    expect(await attemptsOf([...old, ...oldFailed])).toBe(0);
    // Still in the dispatcher's hands, or young: as they were.
    for (const row of await rowsOf([...oldQueued, ...young])) {
      expect(row.body).toMatch(/^Dear Asha Rao/);
      expect(row.to_e164).toBe("+919876543210");
      expect(row.redacted_at).toBeNull();
    }
    expect(await attemptsOf([...oldQueued, ...young])).toBe(4);
    // A message whose text is gone is not sent again with "[removed ...]" as its text.
    expect(await resendSms(ctx.db, ctx, oldFailed[0]!)).toMatchObject({ outcome: "refused" });
    // A second round (another dispatcher's, say) changes nothing.
    const before = await rowsOf([...old, ...oldFailed]);
    expect(await redactOldMessages(ctx)).toEqual({ redacted: 0, attemptsDeleted: 0 });
    expect(await rowsOf([...old, ...oldFailed])).toEqual(before);
  });

  it("works in bounded batches: a backlog goes over several rounds", async () => {
    const old = await messages(7, 400, "delivered");
    const limits = { rowsPerStatement: 2, statementsPerRound: 2 };
    expect(await redactOldMessages(ctx, limits)).toEqual({ redacted: 4, attemptsDeleted: 8 });
    expect((await rowsOf(old)).filter((r) => r.redacted_at !== null)).toHaveLength(4);
    expect(await redactOldMessages(ctx, limits)).toEqual({ redacted: 3, attemptsDeleted: 6 });
    expect(await redactOldMessages(ctx, limits)).toEqual({ redacted: 0, attemptsDeleted: 0 });

    for (let i = 0; i < 5; i++) await audit(800, `old ${i}`);
    expect(await pruneOldAuditEntries(ctx, limits)).toBe(4);
    expect(await pruneOldAuditEntries(ctx, limits)).toBe(1);
  });

  it("keeps everything with SMS_RETENTION_DAYS=0 and AUDIT_RETENTION_DAYS=0", async () => {
    const keeping = {
      ...ctx,
      config: { ...ctx.config, SMS_RETENTION_DAYS: 0, AUDIT_RETENTION_DAYS: 0 },
    };
    const old = await messages(1, 5000, "delivered");
    await audit(5000, "ancient");
    await newDispatcher(keeping).maintain();
    expect((await rowsOf(old))[0]!.redacted_at).toBeNull();
    expect(await auditSubjects()).toContain("ancient");
  });

  it("deletes audit entries older than AUDIT_RETENTION_DAYS (730 by default), and keeps younger ones", async () => {
    expect(ctx.config.AUDIT_RETENTION_DAYS).toBe(730);
    await audit(731, "too old");
    await audit(729, "young enough");
    await newDispatcher(ctx).maintain();
    const subjects = await auditSubjects();
    expect(subjects).toContain("young enough");
    expect(subjects).not.toContain("too old");
  });

  it("deletes spent reset codes and phone changes a day after they expired, and old rejections", async () => {
    const admin = await createAdmin(t.ctx);
    const student = await createStudent(t.ctx);
    const code = (name: string, expiredDaysAgo: number, used = false) => ({
      user_id: admin.id,
      code_hash: name,
      salt: "s",
      created_at: at(expiredDaysAgo + 0.01).toISOString(),
      expires_at: at(expiredDaysAgo).toISOString(),
      used_at: used ? at(expiredDaysAgo + 0.005).toISOString() : null,
    });
    await ctx.db
      .insertInto("password_reset_codes")
      .values([
        code("expired long ago", 3),
        code("used long ago", 2, true),
        code("expired an hour ago", 1 / 24),
        code("live", -0.005),
      ])
      .execute();
    await ctx.db
      .insertInto("phone_changes")
      .values(
        [
          ["expired long ago", 3],
          ["expired an hour ago", 1 / 24],
        ].map(([name, days]) => ({
          student_id: student.id,
          new_e164: "+919800000001",
          code_hash: String(name),
          salt: "s",
          created_at: at(Number(days) + 0.01).toISOString(),
          expires_at: at(Number(days)).toISOString(),
          used_at: null,
        })),
      )
      .execute();
    await ctx.db
      .insertInto("rejected_registrations")
      .values([
        {
          email_sha256: "old",
          password_hash: "h",
          reason: "r",
          rejected_at: at(181).toISOString(),
        },
        { email_sha256: "new", password_hash: "h", reason: "r", rejected_at: at(10).toISOString() },
      ])
      .execute();

    await newDispatcher(ctx).maintain();

    const codes = await ctx.db.selectFrom("password_reset_codes").select("code_hash").execute();
    expect(codes.map((c) => c.code_hash).sort()).toEqual(["expired an hour ago", "live"]);
    const changes = await ctx.db.selectFrom("phone_changes").select("code_hash").execute();
    expect(changes.map((c) => c.code_hash)).toEqual(["expired an hour ago"]);
    const rejections = await ctx.db
      .selectFrom("rejected_registrations")
      .select("email_sha256")
      .execute();
    expect(rejections.map((r) => r.email_sha256)).toEqual(["new"]);
  });
});

describe("the retention sweeps' queries", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "each reads an index in its order on SQLite: no scan of the table, no sort",
    async () => {
      const cutoff = at(180).toISOString();
      const cases: [string, string, Compilable][] = [
        ["sms_messages", "sms_messages_unredacted_idx", redactionCandidates(ctx.db, cutoff, 500)],
        [
          "password_reset_codes",
          "password_reset_codes_expires_idx",
          spentResetCodes(ctx.db, cutoff, 500),
        ],
        ["phone_changes", "phone_changes_expires_idx", spentPhoneChanges(ctx.db, cutoff, 500)],
        [
          "rejected_registrations",
          "rejected_registrations_rejected_at_idx",
          oldRejections(ctx.db, cutoff, 500),
        ],
        ["audit_log", "audit_log_at_idx", oldAuditEntries(ctx.db, cutoff, 500)],
      ];
      for (const [table, index, query] of cases) {
        const compiled = query.compile();
        const plan = await ctx.db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
        );
        const details = plan.rows.map((r) => r.detail).join(" | ");
        expect(details).toMatch(new RegExp(`SEARCH ${table} USING (COVERING )?INDEX ${index}`));
        expect(details).not.toMatch(new RegExp(`TEMP B-TREE|SCAN ${table}`));
      }
    },
  );
});

async function audit(daysAgo: number, subject: string) {
  await ctx.db
    .insertInto("audit_log")
    .values({
      actor_user_id: null,
      actor_email: "office@college.test",
      action: "student.rejected",
      subject,
      details: JSON.stringify({ name: "Asha Rao", reason: "documents missing" }),
      at: at(daysAgo).toISOString(),
    })
    .execute();
}

async function auditSubjects() {
  const rows = await ctx.db.selectFrom("audit_log").select("subject").execute();
  return rows.map((r) => r.subject);
}
