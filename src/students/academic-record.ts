import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockForUpdate, lockKeys } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";
import { cancelJobSmsNoLongerFor } from "../jobs/service.ts";
import { academicFields } from "./form-fields.ts";

export function academicSchema(now: Date) {
  return z.object(academicFields(now));
}

export type AcademicInput = z.output<ReturnType<typeof academicSchema>>;

/** The last semester a batch is moved to; students there already stay. */
export const LAST_SEMESTER = 8;

export interface BatchSelection {
  department?: string | undefined;
  graduationYear: number;
}

function batchQuery(ctx: AppContext, batch: BatchSelection) {
  return ctx.db
    .selectFrom("students")
    .where("graduation_year", "=", batch.graduationYear)
    .$if(Boolean(batch.department), (q) => q.where("department", "=", batch.department!));
}

/** The words a batch is known by in the audit log and on the pages: "CSE, 2027 batch". */
export function batchName(batch: BatchSelection): string {
  return `${batch.department ?? "all departments"}, ${batch.graduationYear} batch`;
}

/** How many students of a batch the semester advance would move, and how many it leaves. */
export async function semesterAdvancePreview(ctx: AppContext, batch: BatchSelection) {
  const row = await batchQuery(ctx, batch)
    .select((eb) => [
      eb.fn.countAll<number>().as("total"),
      eb.fn
        .count<number>("students.id")
        .filterWhere("students.semester", "<", LAST_SEMESTER)
        .as("moving"),
      eb.fn.count<number>("students.id").filterWhere("students.semester", "is", null).as("blank"),
    ])
    .executeTakeFirstOrThrow();
  const total = Number(row.total);
  const moving = Number(row.moving);
  const blank = Number(row.blank);
  return { total, moving, blank, atLast: total - moving - blank };
}

/**
 * Moves a batch to the next semester, capped at LAST_SEMESTER; students with no semester are left
 * for them to set. `asOf` is when the admin saw the confirmation: if this batch was advanced after
 * that (a double click, a second admin), nothing moves again.
 */
export async function advanceSemester(
  ctx: AppContext,
  actor: Actor,
  batch: BatchSelection,
  asOf: string,
): Promise<{ moved: number; alreadyDone: boolean }> {
  const subject = batchName(batch);
  return inTransaction(ctx.db, async (trx) => {
    // One advance of a batch at a time: the same confirmation sent twice at once would otherwise
    // find no advance recorded in either transaction and move the batch twice (PostgreSQL).
    await lockKeys(trx, ctx.dialect, [`advance-semester:${subject}`]);
    const done = await trx
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "student.advance_semester")
      .where("subject", "=", subject)
      .where("at", ">", asOf)
      .executeTakeFirst();
    if (done) return { moved: 0, alreadyDone: true };
    const now = ctx.clock.now().toISOString();
    const result = await trx
      .updateTable("students")
      .set((eb) => ({ semester: eb("semester", "+", 1), updated_at: now }))
      .where("graduation_year", "=", batch.graduationYear)
      .$if(Boolean(batch.department), (q) => q.where("department", "=", batch.department!))
      .where("semester", "<", LAST_SEMESTER)
      .executeTakeFirst();
    const moved = Number(result.numUpdatedRows);
    await recordAudit(trx, ctx, actor, {
      action: "student.advance_semester",
      subject,
      details: {
        department: batch.department ?? null,
        graduationYear: batch.graduationYear,
        moved,
      },
    });
    return { moved, alreadyDone: false };
  });
}

/** An admin corrects a student's academic record; the audit log keeps what changed. */
export async function updateAcademics(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  input: AcademicInput,
): Promise<{ changed: string[] } | null> {
  return inTransaction(ctx.db, async (trx) => {
    // Locked until commit: the same correction sent twice at once finds, the second time, the
    // record already changed and writes nothing (no second audit entry saying it changed).
    const before = await lockForUpdate(
      trx
        .selectFrom("students")
        .select([
          "id",
          "roll_number",
          "full_name",
          "department",
          "semester",
          "graduation_year",
          "cgpa",
          "active_backlogs",
        ])
        .where("id", "=", studentId),
      ctx.dialect,
    ).executeTakeFirst();
    if (!before) return null;
    const after = { ...input, semester: input.semester ?? null };
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of Object.keys(after) as (keyof typeof after)[]) {
      if (before[key] !== after[key]) changes[key] = { from: before[key], to: after[key] };
    }
    if (Object.keys(changes).length === 0) return { changed: [] };
    await trx
      .updateTable("students")
      .set({ ...after, updated_at: ctx.clock.now().toISOString() })
      .where("id", "=", studentId)
      .execute();
    await recordAudit(trx, ctx, actor, {
      action: "student.update_academics",
      subject: `${before.roll_number} ${before.full_name}`,
      details: { studentId, rollNumber: before.roll_number, name: before.full_name, changes },
    });
    return { changed: Object.keys(changes) };
  });
}

/**
 * The office opts a student out of placement (or back in): the eligibility rule and the season
 * report read `placement_opted_out_at`. Audited; a repeat changes nothing and records nothing.
 */
export async function setPlacementOptOut(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  optedOut: boolean,
): Promise<boolean> {
  return inTransaction(ctx.db, async (trx) => {
    const row = await trx
      .updateTable("students")
      .set({
        placement_opted_out_at: optedOut ? ctx.clock.now().toISOString() : null,
        updated_at: ctx.clock.now().toISOString(),
      })
      .where("id", "=", studentId)
      .where("placement_opted_out_at", optedOut ? "is" : "is not", null)
      .returning(["full_name", "roll_number"])
      .executeTakeFirst();
    if (!row) return false;
    if (optedOut)
      await cancelJobSmsNoLongerFor(
        trx,
        ctx,
        await trx
          .selectFrom("students")
          .selectAll()
          .where("id", "=", studentId)
          .executeTakeFirstOrThrow(),
        "Cancelled: the student was opted out of placement",
      );
    await recordAudit(trx, ctx, actor, {
      action: optedOut ? "student.placement_opt_out" : "student.placement_opt_in",
      subject: `${row.roll_number} ${row.full_name}`,
      details: { name: row.full_name, rollNumber: row.roll_number },
    });
    return true;
  });
}
