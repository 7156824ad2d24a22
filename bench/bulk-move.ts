/**
 * An admin's bulk move of applicants (`changeStatus`), timed in-process on a seeded portal, with
 * the statements it sends counted (issue 22, decision 023):
 *   DATA_DIR=/tmp/d DATABASE_URL=file:/tmp/d/portal.db npx tsx src/cli/portal.ts seed --demo \
 *     --students 10000
 *   npx tsx bench/bulk-move.ts --url file:/tmp/d/portal.db [--size 300] [--runs 6]
 * Each run moves `size` applications at Applied, picked at random across the whole portal (so
 * across many students, groups and companies), alternately to Shortlisted and to Selected (a move
 * into Selected also moves the students' counters and both summaries). It writes: use a copy.
 * Statements are the ones the app sends (BEGIN and COMMIT not counted); the triggers' own
 * statements run inside the database and are in the time, not in the count.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { KyselyPlugin } from "kysely";
import { pino } from "pino";
import { upsertAdmin } from "#src/accounts/service.ts";
import { openContext } from "#src/app-context.ts";
import { changeStatus } from "#src/applications/service.ts";
import { loadConfig } from "#src/config.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    size: { type: "string", default: "300" },
    runs: { type: "string", default: "6" },
  },
});
if (!values.url) throw new Error("--url DATABASE_URL is required");
const size = Number(values.size);
const runs = Number(values.runs);
const dataDir = mkdtempSync(join(tmpdir(), "portal-bench-bulk-move-"));
const config = loadConfig(
  { DATABASE_URL: values.url, DATA_DIR: dataDir, LOG_DIR: join(dataDir, "logs") },
  {},
);
const silent = pino({ level: "silent" });
const { ctx, database } = await openContext(config, { log: silent, smsLog: silent });

let statements = 0;
const counting: KyselyPlugin = {
  transformQuery(args) {
    statements += 1;
    return args.node;
  },
  async transformResult(args) {
    return args.result;
  },
};
const counted = { ...ctx, db: ctx.db.withPlugin(counting) };

try {
  const admin = await upsertAdmin(ctx, "bench-bulk@college.test", "bench-bulk-password-1");
  const actor = { id: admin.id, email: "bench-bulk@college.test" };
  const applied = await ctx.db
    .selectFrom("applications")
    .select("id")
    .where("status", "=", "applied")
    .execute();
  // A fixed shuffle: the same picks on every database seeded alike.
  let seed = 20261207;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const ids = applied.map((a) => a.id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j] as number, ids[i] as number];
  }
  console.log(
    `${ctx.dialect}: ${applied.length} applications at Applied; moves of ${size} (load: ${loadavg()[0]?.toFixed(2)})`,
  );
  const rows = [];
  for (let run = 0; run < runs; run++) {
    const to = run % 2 === 0 ? "shortlisted" : "selected";
    const batch = ids.slice(run * size, (run + 1) * size);
    statements = 0;
    const started = performance.now();
    const result = await changeStatus(counted, actor, batch, to);
    const ms = performance.now() - started;
    if (result.changed !== batch.length)
      throw new Error(`moved ${result.changed} of ${batch.length}: ${result.problems[0]}`);
    rows.push({ to, moved: result.changed, ms: ms.toFixed(0), statements });
  }
  console.table(rows);
} finally {
  await database.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
