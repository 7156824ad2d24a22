import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { openForApplications } from "../placement/open.ts";

export interface DashboardFilters {
  department?: string | undefined;
  year?: number | undefined;
  semester?: number | undefined;
  company?: string | undefined;
}

interface DepartmentCounts {
  students: number;
  approved: number;
  applications: number;
  selected: number;
  approvedApplied: number;
  approvedSelected: number;
}

/**
 * The admin's numbers. Students and applications are read from `placement_summary`, which the
 * database's triggers keep up to date in the same transaction as every write (decision 019): a
 * few hundred rows at any size, so the page's cost does not grow with the applications.
 * Department, graduation year and semester narrow the summary rows. A company narrows the
 * applications counted: those come from `company_placement_summary`, the same numbers per
 * company, kept the same way; the students stay the summary's.
 */
export async function adminDashboard(ctx: AppContext, filters: DashboardFilters) {
  const [summary, companyCounts, openJobs, companies] = await Promise.all([
    summaryByDepartment(ctx, filters),
    filters.company ? companyByDepartment(ctx, filters, filters.company) : null,
    ctx.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      // The same rule and filter as the list the card links to (/admin/jobs?status=open).
      .where(openForApplications(ctx.clock.now()))
      .$if(Boolean(filters.company), (q) => q.where("jobs.company", "=", filters.company!))
      .executeTakeFirstOrThrow(),
    companyNames(ctx),
  ]);
  // With a company, its applications replace the summary's; the students stay the summary's.
  const counts = new Map<string, DepartmentCounts>();
  for (const [department, row] of summary) {
    const c = companyCounts?.get(department);
    counts.set(
      department,
      companyCounts
        ? {
            ...row,
            applications: c?.applications ?? 0,
            selected: c?.selected ?? 0,
            approvedApplied: c?.approvedApplied ?? 0,
            approvedSelected: c?.approvedSelected ?? 0,
          }
        : row,
    );
  }
  const all = [...counts.values()];
  const total = (key: keyof DepartmentCounts) => all.reduce((sum, row) => sum + row[key], 0);
  return {
    pending: total("students") - total("approved"),
    approved: total("approved"),
    openJobs: Number(openJobs.n),
    applications: total("applications"),
    selected: total("selected"),
    departments: [...counts.entries()]
      // The table summarises approved students: a department with none has no row.
      .filter(([, row]) => row.approved > 0)
      .map(([department, row]) => ({
        department,
        students: row.approved,
        applied: row.approvedApplied,
        selected: row.approvedSelected,
        rate: row.approved > 0 ? row.approvedSelected / row.approved : 0,
      })),
    companies: companies.map((c) => c.company),
  };
}

/** The summary's rows for the student filters, added up per department (in department order). */
async function summaryByDepartment(
  ctx: AppContext,
  filters: DashboardFilters,
): Promise<Map<string, DepartmentCounts>> {
  let q = ctx.db.selectFrom("placement_summary");
  if (filters.department) q = q.where("department", "=", filters.department);
  if (filters.year) q = q.where("graduation_year", "=", filters.year);
  if (filters.semester) q = q.where("semester", "=", filters.semester);
  const rows = await q
    .select((eb) => [
      "department",
      eb.fn.sum<number>("students").as("students"),
      eb.fn.sum<number>("approved").as("approved"),
      eb.fn.sum<number>("applications").as("applications"),
      eb.fn.sum<number>("selected").as("selected"),
      eb.fn.sum<number>("approved_applied").as("approved_applied"),
      eb.fn.sum<number>("approved_selected").as("approved_selected"),
    ])
    .groupBy("department")
    .orderBy("department")
    .execute();
  return new Map(
    rows.map((r) => [
      r.department,
      {
        students: Number(r.students),
        approved: Number(r.approved),
        applications: Number(r.applications),
        selected: Number(r.selected),
        approvedApplied: Number(r.approved_applied),
        approvedSelected: Number(r.approved_selected),
      },
    ]),
  );
}

/**
 * One company's applications per department: how many, and how many students (all, and approved)
 * applied to or were selected by it. Read from `company_placement_summary`, which triggers keep
 * as they keep `placement_summary` (decision 019, "Company filter"): that company's rows for the
 * student filters, a few hundred at most at any size.
 */
async function companyByDepartment(
  ctx: AppContext,
  filters: DashboardFilters,
  company: string,
): Promise<Map<string, Omit<DepartmentCounts, "students" | "approved">>> {
  let q = ctx.db.selectFrom("company_placement_summary").where("company", "=", company);
  if (filters.department) q = q.where("department", "=", filters.department);
  if (filters.year) q = q.where("graduation_year", "=", filters.year);
  if (filters.semester) q = q.where("semester", "=", filters.semester);
  const rows = await q
    .select((eb) => [
      "department",
      eb.fn.sum<number>("applications").as("applications"),
      eb.fn.sum<number>("selected").as("selected"),
      eb.fn.sum<number>("approved_applied").as("approved_applied"),
      eb.fn.sum<number>("approved_selected").as("approved_selected"),
    ])
    .groupBy("department")
    .execute();
  return new Map(
    rows.map((r) => [
      r.department,
      {
        applications: Number(r.applications),
        selected: Number(r.selected),
        approvedApplied: Number(r.approved_applied),
        approvedSelected: Number(r.approved_selected),
      },
    ]),
  );
}

/**
 * The companies with a job, in order (at most 500): one seek of jobs_company_idx per company, for
 * the next name after the last one, instead of a walk over every job's entry (a loose index scan;
 * neither database does it by itself for DISTINCT).
 */
async function companyNames(ctx: AppContext): Promise<{ company: string }[]> {
  const { rows } = await sql<{ company: string }>`
    with recursive names(company) as (
      select min(company) from jobs
      union all
      select (select min(j.company) from jobs j where j.company > names.company)
      from names where names.company is not null
    )
    select company from names where company is not null limit 500`.execute(ctx.db);
  return rows;
}
