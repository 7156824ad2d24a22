import { type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * The dashboard's summary rows (2026-12-03b `placement_summary`, 2026-12-03e
 * `company_placement_summary`) are kept on PostgreSQL by statement triggers that moved a changed
 * row's share in two statements: out of its old summary row, then into its new one. Two
 * transactions moving students between the same two groups in opposite directions (one admin
 * correcting a student's semester from 5 to 6, another another's from 6 to 5) each held one
 * summary row and waited for the other's, and PostgreSQL failed one of them to break the
 * deadlock: a 500 (test/hostile-concurrent.test.ts). Now one statement adds each summary row's
 * net change, in key order, as 2026-12-03h does for the SMS counts: writers take the rows they
 * share in the same order and queue behind each other instead. A change that leaves every share
 * as it was (a phone number, skills, a login) no longer touches the summary at all.
 *
 * SQLite runs one writer at a time and its row triggers stay as they are.
 */

interface Summary {
  table: string;
  /** Key columns, and how each is read from a changed row `r`. */
  key: [column: string, of: (r: string) => string][];
  columns: string[];
  /** A changed row's share in its summary row, in `columns` order. */
  share: (r: string) => string[];
}

const PLACEMENT: Summary = {
  table: "placement_summary",
  key: [
    ["department", (r) => `${r}.department`],
    ["graduation_year", (r) => `${r}.graduation_year`],
    ["semester", (r) => `coalesce(${r}.semester, 0)`],
  ],
  columns: [
    "students",
    "approved",
    "applications",
    "selected",
    "approved_applied",
    "approved_selected",
  ],
  share: (r) => [
    "1",
    `case when ${r}.approved_at is not null then 1 else 0 end`,
    `${r}.applications_count`,
    `case when ${r}.selected_count > 0 then 1 else 0 end`,
    `case when ${r}.approved_at is not null and ${r}.applications_count > 0 then 1 else 0 end`,
    `case when ${r}.approved_at is not null and ${r}.selected_count > 0 then 1 else 0 end`,
  ],
};

const COMPANY: Summary = {
  table: "company_placement_summary",
  key: [
    ["company", (r) => `${r}.company`],
    ["department", (r) => `${r}.department`],
    ["graduation_year", (r) => `${r}.graduation_year`],
    ["semester", (r) => `${r}.semester`],
  ],
  columns: ["applications", "selected", "approved_applied", "approved_selected"],
  share: (r) => [
    `${r}.applications`,
    `case when ${r}.selected > 0 then 1 else 0 end`,
    `case when ${r}.approved = 1 and ${r}.applications > 0 then 1 else 0 end`,
    `case when ${r}.approved = 1 and ${r}.selected > 0 then 1 else 0 end`,
  ],
};

const keyList = (s: Summary) => s.key.map(([c]) => c).join(", ");

/** The rows of transition tables as signed shares: `sign` 1 adds a row, -1 takes it out. */
function shares(s: Summary, changes: [rows: string, sign: 1 | -1][]): string {
  return changes
    .map(
      ([rows, sign]) =>
        `select ${s.key.map(([c, of]) => `${of("r")} as ${c}`).join(", ")}, ${s
          .share("r")
          .map((v, i) => `${sign} * (${v}) as ${s.columns[i]}`)
          .join(", ")} from ${rows} r`,
    )
    .join(" union all ");
}

/** One statement: each summary row's net change, rows that do not move left out, in key order. */
function applyNet(s: Summary, changes: [rows: string, sign: 1 | -1][]): string {
  const key = keyList(s);
  return `insert into ${s.table} (${key}, ${s.columns.join(", ")})
    select ${key}, ${s.columns.map((c) => `sum(${c})`).join(", ")}
    from (${shares(s, changes)}) c
    group by ${key}
    having ${s.columns.map((c) => `sum(${c}) <> 0`).join(" or ")}
    order by ${key}
    on conflict (${key}) do update set ${s.columns
      .map((c) => `${c} = ${s.table}.${c} + excluded.${c}`)
      .join(", ")}`;
}

/** The trigger function's body for every event of a statement trigger with transition tables. */
function netBody(s: Summary): string {
  return `begin
      if tg_op = 'INSERT' then ${applyNet(s, [["new_rows", 1]])};
      elsif tg_op = 'DELETE' then ${applyNet(s, [["old_rows", -1]])};
      else ${applyNet(s, [
        ["old_rows", -1],
        ["new_rows", 1],
      ])};
      end if;
      return null;
    end`;
}

/** down(): the two statements of 2026-12-03b and 2026-12-03e, old shares out, new ones in. */
function twoStatementBody(s: Summary): string {
  const key = keyList(s);
  const sums = (rows: string) =>
    `select ${key}, ${s.columns.map((c) => `sum(${c}) as ${c}`).join(", ")}
     from (${shares(s, [[rows, 1]])}) c group by ${key}`;
  const remove = `update ${s.table} p set ${s.columns.map((c) => `${c} = p.${c} - d.${c}`).join(", ")}
    from (${sums("old_rows")}) d where ${s.key.map(([c]) => `p.${c} = d.${c}`).join(" and ")}`;
  const add = `insert into ${s.table} (${key}, ${s.columns.join(", ")}) ${sums("new_rows")}
    on conflict (${key}) do update set ${s.columns
      .map((c) => `${c} = ${s.table}.${c} + excluded.${c}`)
      .join(", ")}`;
  return `begin
      if tg_op <> 'INSERT' then ${remove}; end if;
      if tg_op <> 'DELETE' then ${add}; end if;
      return null;
    end`;
}

const FUNCTIONS: [name: string, summary: Summary][] = [
  ["placement_summary_student", PLACEMENT],
  ["company_summary_counts", COMPANY],
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const [name, summary] of FUNCTIONS)
    await sql
      .raw(`create or replace function ${name}() returns trigger language plpgsql as $$
        ${netBody(summary)} $$`)
      .execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  for (const [name, summary] of FUNCTIONS)
    await sql
      .raw(`create or replace function ${name}() returns trigger language plpgsql as $$
        ${twoStatementBody(summary)} $$`)
      .execute(db);
}
