import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import { containsPattern, likeOperator } from "../db/dialect.ts";
import type { DB } from "../db/schema.ts";

export interface Actor {
  id: number;
  email: string;
}

export interface AuditEntry {
  action: string;
  /** What the action was done to, readable on its own after the subject is deleted. */
  subject: string;
  details?: Record<string, unknown>;
}

/** Records an admin action; call it inside the transaction that makes the change. */
export async function recordAudit(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "clock">,
  actor: Actor,
  entry: AuditEntry,
): Promise<void> {
  await trx
    .insertInto("audit_log")
    .values({
      actor_user_id: actor.id,
      actor_email: actor.email,
      action: entry.action,
      subject: entry.subject,
      details: JSON.stringify(entry.details ?? {}),
      at: ctx.clock.now().toISOString(),
    })
    .execute();
}

export const AUDIT_PAGE_SIZE = 50;

/** The audit log's filters: who acted, what kind of action, when (India days), and the subject. */
export interface AuditFilters {
  /** The admin's email as recorded with each entry. */
  who?: string | undefined;
  /** An action code ("student.approve"). */
  what?: string | undefined;
  /** First and last day, "2026-12-01", in India time; either may be absent. */
  from?: string | undefined;
  to?: string | undefined;
  /** Part of the subject (a name, a roll number, a job), any case. */
  q?: string | undefined;
}

/** Midnight at the start of an India day ("2026-12-01") as the UTC instant stored in `at`. */
function startOfLocalDay(day: string, plusDays = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + plusDays) - 330 * 60 * 1000).toISOString();
}

function filteredAudit(ctx: AppContext, filters: AuditFilters) {
  let query = ctx.db.selectFrom("audit_log");
  if (filters.who) query = query.where("actor_email", "=", filters.who);
  if (filters.what) query = query.where("action", "=", filters.what);
  if (filters.from) query = query.where("at", ">=", startOfLocalDay(filters.from));
  if (filters.to) query = query.where("at", "<", startOfLocalDay(filters.to, 1));
  const q = filters.q?.trim();
  if (q) query = query.where("subject", likeOperator(ctx.dialect), containsPattern(q));
  return query;
}

type AuditRow = Awaited<ReturnType<typeof listAudit>>["rows"][number];

function withDetails<R extends { details: string }>(rows: R[]) {
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

export async function listAudit(ctx: AppContext, page: number, filters: AuditFilters = {}) {
  const query = filteredAudit(ctx, filters);
  const [rows, total] = await Promise.all([
    query
      .selectAll()
      .orderBy("id", "desc")
      .limit(AUDIT_PAGE_SIZE)
      .offset((page - 1) * AUDIT_PAGE_SIZE)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return { rows: withDetails(rows), total: Number(total.n) };
}

/** Rows an export reads at a time. */
export const AUDIT_EXPORT_BATCH = 500;

/** Every entry the filters match, newest first, read a batch at a time (by id, not by offset). */
export async function* auditEntries(
  ctx: AppContext,
  filters: AuditFilters,
): AsyncGenerator<AuditRow> {
  let before: number | undefined;
  for (;;) {
    let query = filteredAudit(ctx, filters).selectAll();
    if (before !== undefined) query = query.where("id", "<", before);
    const rows = await query.orderBy("id", "desc").limit(AUDIT_EXPORT_BATCH).execute();
    yield* withDetails(rows);
    if (rows.length < AUDIT_EXPORT_BATCH) return;
    before = rows[rows.length - 1]!.id;
  }
}

/** Everyone who has an entry in the log (admins, and people acting on their own account). */
export async function auditActors(ctx: AppContext): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom("audit_log")
    .select("actor_email")
    .distinct()
    .orderBy("actor_email")
    .limit(500)
    .execute();
  return rows.map((r) => r.actor_email);
}
