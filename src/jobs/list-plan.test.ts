// @both-databases: query plans.
import { CompiledQuery } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";
import { jobListQueries, jobSearchQuery } from "./service.ts";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("the admin jobs list's query", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "walks the jobs newest first on an index on SQLite, counting the applicants of the page's jobs only",
    async () => {
      t = await createTestApp();
      // Open jobs too: they are the newest, and sorting thousands of them per page cost 4.5 ms.
      for (const status of [undefined, "open", "closed"] as const) {
        const compiled = jobListQueries(t.ctx, { status, page: 2 }).page.compile();
        const plan = await t.ctx.db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
        );
        const details = plan.rows.map((r) => r.detail).join(" | ");
        expect(details, String(status)).toMatch(/SCAN jobs USING INDEX jobs_created_idx/);
        expect(details, String(status)).not.toMatch(/TEMP B-TREE/);
      }
      // The count of open jobs still reads the (status, deadline) index.
      const count = jobListQueries(t.ctx, { status: "open", page: 1 }).count.compile();
      const plan = await t.ctx.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${count.sql}`, [...count.parameters]),
      );
      expect(plan.rows.map((r) => r.detail).join(" | ")).toMatch(/jobs_status_apply_by_idx/);
    },
  );
});

describe("the student job search's query", () => {
  it.skipIf(testDialect() !== "sqlite")(
    "reads only the open jobs, from the (status, deadline) index",
    async () => {
      t = await createTestApp();
      const compiled = jobSearchQuery(t.ctx, "data internship pune").compile();
      const plan = await t.ctx.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
      );
      const details = plan.rows.map((r) => r.detail).join(" | ");
      expect(details).toMatch(
        /SEARCH jobs USING (COVERING )?INDEX jobs_status_apply_by_idx \(status=\?\)/,
      );
    },
  );
});
