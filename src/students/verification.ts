import { keepRejection } from "../accounts/rejected-registrations.ts";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockForUpdate } from "../db/dialect.ts";
import type { Student } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { notifyStudentApproved, notifyStudentRejected } from "./notices.ts";
import { DEFAULT_QUEUE, type StudentFilters, studentListQueries } from "./student-list.ts";

/**
 * The pending registration that comes first in the queue being worked (its filters and sort:
 * the department under review, say), other than `exceptId`; the whole queue by default.
 */
export function nextPendingStudent(
  ctx: AppContext,
  exceptId: number,
  queue: StudentFilters = DEFAULT_QUEUE,
) {
  const { pageIds } = studentListQueries(ctx, { ...queue, status: "pending", page: 1 });
  return ctx.db
    .selectFrom("students")
    .select(["id", "full_name", "roll_number"])
    .where("id", "in", pageIds.where("students.id", "!=", exceptId).limit(1))
    .executeTakeFirst();
}

/** The pending registrations among `ids`, for the bulk rejection's confirmation page. */
export function pendingStudents(ctx: AppContext, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return ctx.db
    .selectFrom("students")
    .select(["id", "full_name", "roll_number", "phone_e164", "sms_opted_out_at"])
    .where("id", "in", ids)
    .where("approved_at", "is", null)
    .orderBy("full_name")
    .orderBy("id")
    .execute();
}

/**
 * Approves pending students: each approval and its SMS commit together. Students already approved
 * (a double click, a second admin) are left alone and counted in `unchanged`.
 */
export async function approveStudents(ctx: AppContext, actor: Actor, studentIds: number[]) {
  const ids = [...new Set(studentIds)];
  if (ids.length === 0) return { approved: [] as Student[], unchanged: 0 };
  const now = ctx.clock.now().toISOString();
  const approved = await inTransaction(ctx.db, async (trx) => {
    const rows = await trx
      .updateTable("students")
      .set({ approved_at: now, approved_by: actor.id, updated_at: now })
      .where("id", "in", ids)
      .where("approved_at", "is", null)
      .returningAll()
      .execute();
    // RETURNING follows whichever index the plan walked: in id order, the SMS and the audit
    // entries come in the order the students registered, whatever indexes exist.
    rows.sort((x, y) => x.id - y.id);
    for (const student of rows) {
      await notifyStudentApproved(trx, ctx, student);
      await recordAudit(trx, ctx, actor, {
        action: "student.approve",
        subject: `${student.roll_number} ${student.full_name}`,
        details: {
          studentId: student.id,
          rollNumber: student.roll_number,
          name: student.full_name,
        },
      });
    }
    return rows;
  });
  if (approved.length > 0) signalQueued(ctx);
  return { approved, unchanged: ids.length - approved.length };
}

/**
 * Rejects a pending registration: queues the rejection SMS and records who rejected whom and why,
 * then deletes the user, the profile and the resume (by cascade, in the same transaction). The SMS
 * row keeps its number and text; the person can no longer log in.
 */
export async function rejectStudent(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  reason: string | undefined,
): Promise<{ rejected: Pick<Student, "full_name" | "roll_number"> | null }> {
  const rejected = await inTransaction(ctx.db, async (trx) => {
    // Locked until commit: an approval racing this rejection waits, then finds nothing pending
    // (and a rejection waiting on an approval finds the student approved, and stops).
    const student = await lockForUpdate(
      trx
        .selectFrom("students")
        .innerJoin("users", "users.id", "students.user_id")
        .selectAll("students")
        .select(["users.email", "users.password_hash"])
        .where("students.id", "=", studentId)
        .where("students.approved_at", "is", null),
      ctx.dialect,
    ).executeTakeFirst();
    if (!student) return null;
    await notifyStudentRejected(trx, ctx, student, reason);
    await recordAudit(trx, ctx, actor, {
      action: "student.reject",
      subject: `${student.roll_number} ${student.full_name}`,
      details: {
        studentId: student.id,
        rollNumber: student.roll_number,
        name: student.full_name,
        email: student.email,
        reason: reason ?? null,
      },
    });
    // Kept, hashed, so that login tells its person (accounts/rejected-registrations.ts).
    await keepRejection(trx, ctx, {
      email: student.email,
      passwordHash: student.password_hash,
      reason: reason ?? null,
    });
    const deleted = await trx
      .deleteFrom("users")
      .where("id", "=", student.user_id)
      .executeTakeFirst();
    // A concurrent reject of the same row deletes nothing here: let it win, undo ours.
    if (Number(deleted.numDeletedRows) !== 1) throw new Error("registration vanished mid-reject");
    return student;
  });
  if (rejected) signalQueued(ctx);
  return { rejected };
}

/** Rejects each pending registration of `studentIds` with the same reason (one transaction each). */
export async function rejectStudents(
  ctx: AppContext,
  actor: Actor,
  studentIds: number[],
  reason: string | undefined,
) {
  const rejected: Pick<Student, "full_name" | "roll_number">[] = [];
  for (const id of new Set(studentIds)) {
    const result = await rejectStudent(ctx, actor, id, reason);
    if (result.rejected) rejected.push(result.rejected);
  }
  return { rejected, unchanged: new Set(studentIds).size - rejected.length };
}
