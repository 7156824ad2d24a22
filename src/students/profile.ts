import { z } from "zod";
import type { AppContext } from "../context.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import { academicFields, phoneField, type ServiceResult, skillsField } from "./form-fields.ts";
import { checkResume } from "./registration.ts";
import { putResume, resumeSize } from "./resume-store.ts";

/** A student's own row, as every student page reads it (compiled once: see db/prepared.ts). */
const studentProfile = preparedRead((db, param: ParamOf<{ studentId: number }>) =>
  db
    .selectFrom("students")
    .innerJoin("users", "users.id", "students.user_id")
    .selectAll("students")
    .select(["users.email", "users.last_login_at", resumeSize])
    .where("students.id", "=", param("studentId")),
);

export async function findStudent(ctx: AppContext, studentId: number) {
  const [row] = await studentProfile(ctx.db, { studentId });
  return row;
}

export function profileSchema(region: string) {
  return z.object({
    phone: phoneField(region),
    skills: skillsField,
    /** Offered only while the semester is blank: the student sets it once, admins correct it. */
    semester: academicFields(new Date()).semester,
    /** The "send me SMS" checkbox: absent when unticked. */
    sms: z
      .string()
      .optional()
      .transform((v) => v === "on"),
  });
}

export type ProfileInput = z.output<ReturnType<typeof profileSchema>>;

/** A student's own edits: phone, skills and resume. Academic fields are for admins only. */
export async function updateOwnProfile(
  ctx: AppContext,
  studentId: number,
  input: ProfileInput,
  resumeUpload: unknown,
): Promise<ServiceResult> {
  const resume = await checkResume(ctx, resumeUpload);
  if ("error" in resume) return { ok: false, errors: { resume: resume.error } };
  await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now().toISOString();
    // Written first, reading nothing before: on SQLite a transaction that reads and then writes
    // fails (SQLITE_BUSY) when another connection (the dispatcher thread) commits in between.
    const updated = await trx
      .updateTable("students")
      .set((eb) => ({
        phone_e164: input.phone,
        skills: input.skills,
        // Keeps the original opt-out time while the box stays unticked.
        sms_opted_out_at: input.sms ? null : eb.fn.coalesce("sms_opted_out_at", eb.val(now)),
        updated_at: now,
        // Set by the student only while blank; admins correct it afterwards.
        ...(input.semester !== undefined
          ? { semester: eb.fn.coalesce("semester", eb.val(input.semester)) }
          : {}),
      }))
      .where("id", "=", studentId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new Error(`student ${studentId} not found`);
    // The new resume replaces the old one in the same commit: never a profile without either.
    if (resume.data) await putResume(trx, studentId, resume.data, now);
  });
  return { ok: true, value: undefined };
}
