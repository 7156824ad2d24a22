import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
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

export async function listAudit(ctx: AppContext, page: number) {
  const [rows, total] = await Promise.all([
    ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .orderBy("id", "desc")
      .limit(AUDIT_PAGE_SIZE)
      .offset((page - 1) * AUDIT_PAGE_SIZE)
      .execute(),
    ctx.db
      .selectFrom("audit_log")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow(),
  ]);
  return {
    rows: rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> })),
    total: Number(total.n),
  };
}
