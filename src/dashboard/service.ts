import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { openForApplications } from "../jobs/open.ts";

export interface DashboardFilters {
  department?: string | undefined;
  year?: number | undefined;
  semester?: number | undefined;
  company?: string | undefined;
}

/**
 * The admin's numbers, each one aggregate query (no per-row work in the app): counters, and the
 * placement summary per department. Department, graduation year and semester narrow the students; company
 * narrows the applications counted.
 */
export async function adminDashboard(ctx: AppContext, filters: DashboardFilters) {
  const students = () => {
    let q = ctx.db.selectFrom("students");
    if (filters.department) q = q.where("students.department", "=", filters.department);
    if (filters.year) q = q.where("students.graduation_year", "=", filters.year);
    if (filters.semester) q = q.where("students.semester", "=", filters.semester);
    return q;
  };
  const applications = () => {
    let q = ctx.db
      .selectFrom("applications")
      .innerJoin("students", "students.id", "applications.student_id")
      .innerJoin("jobs", "jobs.id", "applications.job_id");
    if (filters.department) q = q.where("students.department", "=", filters.department);
    if (filters.year) q = q.where("students.graduation_year", "=", filters.year);
    if (filters.semester) q = q.where("students.semester", "=", filters.semester);
    if (filters.company) q = q.where("jobs.company", "=", filters.company);
    return q;
  };

  const [studentCounts, openJobs, applicationCounts, byDepartment, companies] = await Promise.all([
    students()
      .select((eb) => [
        eb.fn.countAll<number>().as("total"),
        eb.fn.count<number>("students.approved_at").as("approved"),
      ])
      .executeTakeFirstOrThrow(),
    ctx.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      // The same rule and filter as the list the card links to (/admin/jobs?status=open).
      .where(openForApplications(ctx.clock.now()))
      .$if(Boolean(filters.company), (q) => q.where("jobs.company", "=", filters.company!))
      .executeTakeFirstOrThrow(),
    applications()
      .select((eb) => [
        eb.fn.countAll<number>().as("applications"),
        eb.fn
          .count<number>("applications.student_id")
          .distinct()
          .filterWhere("applications.status", "=", "selected")
          .as("selected"),
      ])
      .executeTakeFirstOrThrow(),
    ctx.db
      .selectFrom("students")
      .leftJoin(
        applications()
          .select([
            "applications.student_id",
            sql<number>`max(case when applications.status = 'selected' then 1 else 0 end)`.as(
              "is_selected",
            ),
          ])
          .groupBy("applications.student_id")
          .as("per_student"),
        "per_student.student_id",
        "students.id",
      )
      .where("students.approved_at", "is not", null)
      .$if(Boolean(filters.department), (q) =>
        q.where("students.department", "=", filters.department!),
      )
      .$if(Boolean(filters.year), (q) => q.where("students.graduation_year", "=", filters.year!))
      .$if(Boolean(filters.semester), (q) => q.where("students.semester", "=", filters.semester!))
      .select((eb) => [
        "students.department",
        eb.fn.countAll<number>().as("students"),
        eb.fn.count<number>("per_student.student_id").as("applied"),
        eb.fn.coalesce(eb.fn.sum<number>("per_student.is_selected"), sql<number>`0`).as("selected"),
      ])
      .groupBy("students.department")
      .orderBy("students.department")
      .execute(),
    ctx.db.selectFrom("jobs").select("company").distinct().orderBy("company").limit(500).execute(),
  ]);
  return {
    pending: Number(studentCounts.total) - Number(studentCounts.approved),
    approved: Number(studentCounts.approved),
    openJobs: Number(openJobs.n),
    applications: Number(applicationCounts.applications),
    selected: Number(applicationCounts.selected),
    departments: byDepartment.map((d) => {
      const studentsCount = Number(d.students);
      const selected = Number(d.selected);
      return {
        department: d.department,
        students: studentsCount,
        applied: Number(d.applied),
        selected,
        rate: studentsCount > 0 ? selected / studentsCount : 0,
      };
    }),
    companies: companies.map((c) => c.company),
  };
}
