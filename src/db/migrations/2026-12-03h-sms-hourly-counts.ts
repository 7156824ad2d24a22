import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * `sms_hourly_counts`: how many messages of each kind are at each status, per India hour of their
 * creation ("2026-12-02T14", UTC+05:30), kept by triggers in the transaction of every insert,
 * status change and deletion of `sms_messages`, whoever writes (the outbox, the dispatcher, the
 * webhooks, a bulk cancel, hand-written SQL). The SMS console's charts and per-status counts read
 * it instead of walking the outbox: at 1,000,000 messages each view read every message of the
 * last 30 days (issue 10, decision 020). The key is the India-time text the charts draw, so a day
 * is the hours whose key starts with it.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  const hourOf = (r: string) =>
    pg
      ? `to_char(${r}.created_at at time zone 'Asia/Kolkata', 'YYYY-MM-DD"T"HH24')`
      : `strftime('%Y-%m-%dT%H', ${r}.created_at, '+330 minutes')`;

  // As in 2026-12-03b: no writer may slip between the backfill and the triggers.
  if (pg) await run("lock table sms_messages in share row exclusive mode");
  await db.schema
    .createTable("sms_hourly_counts")
    .addColumn("hour", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("n", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("sms_hourly_counts_pk", ["hour", "kind", "status"])
    .execute();
  await run(`insert into sms_hourly_counts (hour, kind, status, n)
    select ${hourOf("m")}, m.kind, m.status, count(*) from sms_messages m
    group by ${hourOf("m")}, m.kind, m.status`);

  const upsert = (rows: string) => `insert into sms_hourly_counts (hour, kind, status, n) ${rows}
    on conflict (hour, kind, status) do update set n = sms_hourly_counts.n + excluded.n`;
  if (pg) {
    // Statement-level, with transition tables: a 50,000-message job alert (one INSERT ... SELECT)
    // or a bulk cancel moves each hour's row once, not 50,000 times in one transaction (each
    // update of a row already updated in the transaction walks its chain of versions; see
    // 2026-12-03b). Transition tables cannot go with a column list, so every UPDATE statement
    // runs it; rows whose hour, kind and status did not change cancel out in the sum.
    const delta = (rows: string, sign: 1 | -1) =>
      `select ${hourOf("r")} as hour, r.kind, r.status, ${sign} as d from ${rows} r`;
    // In key order: two statements that move the same hours' rows lock them in the same order,
    // so concurrent dispatchers queue behind each other instead of deadlocking (they did, in the
    // full test suite, when the aggregate's output order differed between two writers).
    const apply = (changes: string) =>
      upsert(`select hour, kind, status, sum(d) from (${changes}) c
        group by hour, kind, status having sum(d) <> 0 order by hour, kind, status`);
    await run(`create function sms_hourly_counts_change() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' then ${apply(delta("new_rows", 1))};
        elsif tg_op = 'DELETE' then ${apply(delta("old_rows", -1))};
        else ${apply(`${delta("old_rows", -1)} union all ${delta("new_rows", 1)}`)};
        end if;
        return null;
      end $$`);
    await run(`create trigger sms_messages_counts_insert after insert on sms_messages
      referencing new table as new_rows for each statement execute function sms_hourly_counts_change()`);
    await run(`create trigger sms_messages_counts_delete after delete on sms_messages
      referencing old table as old_rows for each statement execute function sms_hourly_counts_change()`);
    await run(`create trigger sms_messages_counts_update after update on sms_messages
      referencing old table as old_rows new table as new_rows
      for each statement execute function sms_hourly_counts_change()`);
  } else {
    const add = (r: string) => upsert(`values (${hourOf(r)}, ${r}.kind, ${r}.status, 1)`);
    const remove = (r: string) => `update sms_hourly_counts set n = n - 1
      where hour = ${hourOf(r)} and kind = ${r}.kind and status = ${r}.status`;
    await run(`create trigger sms_messages_counts_insert after insert on sms_messages
      begin ${add("new")}; end`);
    await run(`create trigger sms_messages_counts_delete after delete on sms_messages
      begin ${remove("old")}; end`);
    await run(`create trigger sms_messages_counts_update after update of status, kind, created_at
      on sms_messages
      when old.status <> new.status or old.kind <> new.kind or old.created_at <> new.created_at
      begin ${remove("old")}; ${add("new")}; end`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const run = (statement: string) => sql.raw(statement).execute(db);
  for (const event of ["insert", "delete", "update"])
    await run(`drop trigger sms_messages_counts_${event}${pg ? " on sms_messages" : ""}`);
  if (pg) await run("drop function sms_hourly_counts_change()");
  await db.schema.dropTable("sms_hourly_counts").execute();
}
