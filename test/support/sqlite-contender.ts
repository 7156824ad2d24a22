import { sql } from "kysely";
import { openDatabase } from "#src/db/database.ts";

/**
 * One of several processes writing to one SQLite file at once (src/db/sqlite-processes.test.ts):
 * once all of them are ready (each registers in `contenders`; a start-up on a loaded machine can
 * take seconds), for the milliseconds given, read-then-insert transactions as fast as it can;
 * prints what happened as JSON.
 */
const [url = "", processes = "2", forMs = "0"] = process.argv.slice(2);
const database = openDatabase(url);
await sql`insert into contenders (pid) values (${process.pid})`.execute(database.db);
const ready = async () =>
  (await sql<{ n: number }>`select count(*) as n from contenders`.execute(database.db)).rows[0]!
    .n >= Number(processes);
while (!(await ready())) await new Promise((resolve) => setTimeout(resolve, 5));
const errors: Record<string, number> = {};
let committed = 0;
const end = Date.now() + Number(forMs);
while (Date.now() < end) {
  try {
    await database.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ n: number }>`select count(*) as n from contention`.execute(trx);
      await sql`insert into contention (seen) values (${rows[0]!.n})`.execute(trx);
    });
    committed += 1;
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    errors[code] = (errors[code] ?? 0) + 1;
  }
}
await database.destroy();
process.stdout.write(JSON.stringify({ committed, errors }));
