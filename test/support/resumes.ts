import type { AppContext } from "#src/context.ts";

/** The resumes the database holds (without their bytes), by student. */
export function storedResumes(ctx: Pick<AppContext, "db">) {
  return ctx.db
    .selectFrom("resumes")
    .select(["student_id", "size", "sha256", "uploaded_at"])
    .orderBy("student_id")
    .execute();
}
