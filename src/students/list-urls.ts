/** The query strings of the admin student list's links: its filters, sorts and pages. */
import type { StudentFilters } from "./student-list.ts";

export function filterQuery(filters: StudentFilters) {
  return {
    status: filters.status,
    q: filters.q,
    department: filters.department,
    year: filters.year,
    sort: filters.sort,
    dir: filters.dir,
  };
}

export function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== "") params.set(k, String(v));
  return params.toString();
}
