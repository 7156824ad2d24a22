import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * The SMS hourly counts (2026-12-03h) off the writers' path (issue 22, decision 024). The
 * triggers on `sms_messages` updated the hour's row of `sms_hourly_counts` inside the writer's
 * transaction, so every writer of messages in the same hour queued on that row: an admin's bulk
 * move of 300 applicants (300 SMS queued, one transaction) held it until commit, and the
 * dispatchers' claims and outcome writes waited behind it.
 *
 * Now the triggers only append: `sms_count_deltas (id, hour, kind, status, n)` gets one row per
 * key a statement changes (PostgreSQL: the statement's net change per key, as before; SQLite: a
 * row per message changed), and no two writers ever touch the same row. The dispatchers'
 * maintenance folds the deltas into `sms_hourly_counts` (one short transaction, sms/counts.ts),
 * and readers add the deltas not folded yet to the counts. The counts already kept stay as they
 * are: they are right up to this migration, and every change from now on is a delta.
 */

const hourOf = (pg: boolean, r: string) =>
  pg
    ? `to_char(${r}.created_at at time zone 'Asia/Kolkata', 'YYYY-MM-DD"T"HH24')`
    : `strftime('%Y-%m-%dT%H', ${r}.created_at, '+330 minutes')`;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  await db.schema
    .createTable("sms_count_deltas")
    // PostgreSQL: bigint, as the ids are never reused and a busy outbox appends for years.
    // SQLite: `integer primary key` is the rowid; AUTOINCREMENT would write sqlite_sequence on
    // every insert, and the fold (one writer at a time there) does not need ids never reused.
    .addColumn("id", pg ? "bigint" : "integer", (c) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey(),
    )
    .addColumn("hour", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("n", "integer", (c) => c.notNull())
    .execute();

  if (pg) {
    // The same statement triggers and transition tables as 2026-12-03h; only the function's body
    // changes: the statement's net change per key is appended instead of upserted, so no order
    // is needed (no row is shared to lock).
    const delta = (rows: string, sign: 1 | -1) =>
      `select ${hourOf(pg, "r")} as hour, r.kind, r.status, ${sign} as d from ${rows} r`;
    const append = (changes: string) => `insert into sms_count_deltas (hour, kind, status, n)
      select hour, kind, status, sum(d) from (${changes}) c
      group by hour, kind, status having sum(d) <> 0`;
    await run(`create or replace function sms_hourly_counts_change() returns trigger
      language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${append(delta("new_rows", 1))};
        elsif tg_op = 'DELETE' then ${append(delta("old_rows", -1))};
        else ${append(`${delta("old_rows", -1)} union all ${delta("new_rows", 1)}`)};
        end if;
        return null;
      end $$`);
    return;
  }
  const append = (r: string, sign: 1 | -1) =>
    `insert into sms_count_deltas (hour, kind, status, n)
      values (${hourOf(pg, r)}, ${r}.kind, ${r}.status, ${sign})`;
  for (const event of ["insert", "delete", "update"])
    await run(`drop trigger sms_messages_counts_${event}`);
  await run(`create trigger sms_messages_counts_insert after insert on sms_messages
    begin ${append("new", 1)}; end`);
  await run(`create trigger sms_messages_counts_delete after delete on sms_messages
    begin ${append("old", -1)}; end`);
  await run(`create trigger sms_messages_counts_update after update of status, kind, created_at
    on sms_messages
    when old.status <> new.status or old.kind <> new.kind or old.created_at <> new.created_at
    begin ${append("old", -1)}; ${append("new", 1)}; end`);
}

/** Back to 2026-12-03h's triggers, the deltas not folded yet added to the counts first. */
// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  if (pg) await run("lock table sms_messages in share row exclusive mode");
  const upsert = (rows: string) => `insert into sms_hourly_counts (hour, kind, status, n) ${rows}
    on conflict (hour, kind, status) do update set n = sms_hourly_counts.n + excluded.n`;
  await run(
    upsert(`select hour, kind, status, sum(n) from sms_count_deltas
      group by hour, kind, status having sum(n) <> 0 order by hour, kind, status`),
  );
  if (pg) {
    const delta = (rows: string, sign: 1 | -1) =>
      `select ${hourOf(pg, "r")} as hour, r.kind, r.status, ${sign} as d from ${rows} r`;
    const apply = (changes: string) =>
      upsert(`select hour, kind, status, sum(d) from (${changes}) c
        group by hour, kind, status having sum(d) <> 0 order by hour, kind, status`);
    await run(`create or replace function sms_hourly_counts_change() returns trigger
      language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${apply(delta("new_rows", 1))};
        elsif tg_op = 'DELETE' then ${apply(delta("old_rows", -1))};
        else ${apply(`${delta("old_rows", -1)} union all ${delta("new_rows", 1)}`)};
        end if;
        return null;
      end $$`);
  } else {
    const add = (r: string) => upsert(`values (${hourOf(pg, r)}, ${r}.kind, ${r}.status, 1)`);
    const remove = (r: string) => `update sms_hourly_counts set n = n - 1
      where hour = ${hourOf(pg, r)} and kind = ${r}.kind and status = ${r}.status`;
    for (const event of ["insert", "delete", "update"])
      await run(`drop trigger sms_messages_counts_${event}`);
    await run(`create trigger sms_messages_counts_insert after insert on sms_messages
      begin ${add("new")}; end`);
    await run(`create trigger sms_messages_counts_delete after delete on sms_messages
      begin ${remove("old")}; end`);
    await run(`create trigger sms_messages_counts_update after update of status, kind, created_at
      on sms_messages
      when old.status <> new.status or old.kind <> new.kind or old.created_at <> new.created_at
      begin ${remove("old")}; ${add("new")}; end`);
  }
  await db.schema.dropTable("sms_count_deltas").execute();
}
