// @both-databases: query plans.
import { CompiledQuery } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import { listAdminsQuery } from "./admins.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("the admins page's query", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "reads the admins from the (role, email) index in order, not every user",
    async () => {
      t = await createTestApp();
      const compiled = listAdminsQuery(t.ctx).compile();
      const plan = await t.ctx.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      );
      const details = plan.rows.map((r) => r.detail).join(" | ");
      expect(details).toMatch(/SEARCH users USING INDEX users_role_email_idx \(role=\?\)/);
      expect(details).not.toMatch(/TEMP B-TREE|SCAN users/);
    },
  );
});
