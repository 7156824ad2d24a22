// @both-databases: a dispatcher's acceptances recorded together, in one statement each way.
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { queueTestMessages, smsRow } from "#test/support/sms.ts";
import { watchStatements } from "#test/support/statements.ts";
import { claimDue } from "./outbox.ts";
import { SentRecorder } from "./sent-recorder.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("SentRecorder", () => {
  it("records thirty acceptances arriving together in one UPDATE, then looks once for their early callbacks", async () => {
    t = await createTestApp();
    const ids = await queueTestMessages(t.ctx, 30);
    const claimed = await claimDue(t.ctx, "worker-a", 30);
    expect(claimed).toHaveLength(30);
    // One row's lease went to another worker meanwhile: its SID is still kept (adopted).
    const lost = claimed[7]!;
    await t.ctx.db
      .updateTable("sms_messages")
      .set({ lease_owner: "worker-b" })
      .where("id", "=", lost.id)
      .execute();
    // Twilio called back for two of them before their SIDs were stored.
    const sid = (id: number) => `SM${String(id).padStart(32, "0")}`;
    for (const row of [claimed[3]!, claimed[20]!])
      await t.ctx.db
        .insertInto("sms_early_callbacks")
        .values({
          twilio_sid: sid(row.id),
          status: "delivered",
          error_code: null,
          received_at: new Date().toISOString(),
        })
        .execute();

    const { ctx, seen } = watchStatements(t.ctx);
    const recorder = new SentRecorder(ctx, "worker-a", (write) => write());
    const startedAt = new Date().toISOString();
    const outcomes = await Promise.all(
      claimed.map((row) =>
        recorder.markSent({
          row,
          result: { sid: sid(row.id), providerStatus: "queued", captured: false },
          attempt: { startedAt, outcome: "sent" },
        }),
      ),
    );
    expect(outcomes.filter((o) => o === "sent")).toHaveLength(29);
    expect(outcomes[7]).toBe("sent after losing the lease");
    expect(seen.map((s) => s.label)).toEqual([
      // One UPDATE for the 29 this worker held, one look for their early callbacks,
      "UpdateQueryNode sms_messages",
      "SelectQueryNode sms_early_callbacks",
      // the two found applied (each: its row read, moved forward) and deleted;
      "SelectQueryNode sms_messages",
      "UpdateQueryNode sms_messages",
      "SelectQueryNode sms_messages",
      "UpdateQueryNode sms_messages",
      "DeleteQueryNode sms_early_callbacks",
      // the row whose lease it had lost, on its own.
      "UpdateQueryNode sms_messages",
      "SelectQueryNode sms_early_callbacks",
    ]);

    for (const id of ids) {
      const row = await smsRow(t.ctx, id);
      expect(row.twilio_sid).toBe(sid(id));
      expect(row.lease_owner).toBeNull();
      expect(row.status).toBe(
        id === claimed[3]!.id || id === claimed[20]!.id ? "delivered" : "sent",
      );
    }
    const attempts = await t.ctx.db
      .selectFrom("sms_attempts")
      .select(["message_id", "outcome"])
      .where("message_id", "in", ids)
      .execute();
    expect(attempts).toHaveLength(30);
    expect(new Set(attempts.map((a) => a.outcome))).toEqual(new Set(["sent"]));
    expect(await t.ctx.db.selectFrom("sms_early_callbacks").selectAll().execute()).toHaveLength(0);
  });

  it("fails each caller of a gathering whose statement fails, and writes none of it", async () => {
    t = await createTestApp();
    const ids = await queueTestMessages(t.ctx, 3);
    const claimed = await claimDue(t.ctx, "worker-a", 3);
    const recorder = new SentRecorder(t.ctx, "worker-a", (write) => write());
    // Two of them with the same SID: the unique index refuses the statement.
    const results = await Promise.allSettled(
      claimed.map((row, i) =>
        recorder.markSent({
          row,
          result: {
            sid: i === 0 ? "SM-first" : "SM-same",
            providerStatus: "queued",
            captured: false,
          },
          attempt: { startedAt: new Date().toISOString(), outcome: "sent" },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const id of ids) expect((await smsRow(t.ctx, id)).status).toBe("sending");
  });
});
