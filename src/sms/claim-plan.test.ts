// @both-databases: the claim's SQL and plan per dialect.
import { CompiledQuery } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import { queueTestMessages } from "#test/support/sms.ts";
import { claimCandidates, claimDue, failuresSince } from "./outbox.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("the claim query", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "reads an index in sending order on SQLite: no scan of the queue, no temporary B-tree, no multi-index OR",
    async () => {
      t = await createTestApp();
      for (const which of ["due", "expired"] as const) {
        const compiled = claimCandidates(t.ctx, 10, which).compile();
        const plan = await t.ctx.db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
        );
        const details = plan.rows.map((r) => r.detail).join(" | ");
        expect(details).toMatch(/SEARCH sms_messages USING (COVERING )?INDEX/);
        expect(details).not.toMatch(/TEMP B-TREE|MULTI-INDEX OR|SCAN sms_messages/);
      }
    },
  );

  it.skipIf(testDialect() !== "sqlite")(
    "counts the banner's recent failures from the partial failures index alone on SQLite",
    async () => {
      t = await createTestApp();
      const compiled = failuresSince(t.ctx.db, new Date().toISOString()).compile();
      const plan = await t.ctx.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      );
      const details = plan.rows.map((r) => r.detail).join(" | ");
      expect(details).toMatch(/SEARCH sms_messages USING COVERING INDEX sms_messages_failures_idx/);
    },
  );

  it("takes a whole batch in one claim, in sending order: decisions first, then bulk by age", async () => {
    t = await createTestApp();
    const bulk = await queueTestMessages(t.ctx, 30, { bulk: true });
    const decisions = await queueTestMessages(t.ctx, 5);
    const rows = await claimDue(t.ctx, "worker", 20);
    expect(rows.map((r) => r.id)).toEqual([...decisions, ...bulk.slice(0, 15)]);
    expect(rows.every((r) => r.status === "sending" && r.lease_owner === "worker")).toBe(true);
  });
});
