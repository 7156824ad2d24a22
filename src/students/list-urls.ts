/** The query strings of the admin student list's links: its filters, sorts and pages. */
import type { FastifyRequest } from "fastify";
import { HttpError } from "../web/auth.ts";
import { orEmpty, pageParam, textParam, wholeNumberParam } from "../web/schemas.ts";
import {
  DEFAULT_QUEUE,
  type QueueStatus,
  type SortDirection,
  STUDENT_SORTS,
  type StudentFilters,
  type StudentSort,
} from "./student-list.ts";

/**
 * The list's place: filters, sort and page (`/admin/students?...`). One schema for the list's own
 * address and for the `queue` a student's page and the queue's forms carry, so the place they go
 * back to is checked exactly as the list checks it.
 */
export const studentListQuerystring = {
  type: "object",
  properties: {
    status: { type: "string", enum: ["pending", "approved", "all"], default: "pending" },
    q: textParam(100),
    department: textParam(20),
    year: orEmpty(wholeNumberParam(1900, 2200)),
    sort: { type: "string", enum: ["", ...Object.keys(STUDENT_SORTS)] },
    dir: { type: "string", enum: ["", "asc", "desc"] },
    page: pageParam,
  },
} as const;

export interface StudentListQuery {
  status: QueueStatus;
  q?: string;
  department?: string;
  year?: number | "";
  sort?: StudentSort | "";
  dir?: SortDirection | "";
  page: number;
}

/** The list's filters from its (validated) query. */
export function filtersFromQuery(query: StudentListQuery): StudentFilters {
  return {
    status: query.status,
    q: query.q || undefined,
    department: query.department || undefined,
    year: typeof query.year === "number" ? query.year : undefined,
    sort: query.sort || undefined,
    dir: query.dir || undefined,
    page: query.page,
  };
}

/** The `queue` a student's page carries: "status=pending&department=CSE&sort=name&page=2". */
export const QUEUE_MAX_LENGTH = 400;

/** The schema of a `queue` field or query parameter (checked again, as a list address, on use). */
export const queueParam = textParam(QUEUE_MAX_LENGTH);

const QUEUE_REFUSED =
  "This address has a page number or filter the list does not accept: page numbers and years are whole numbers (1, 2, 3 …). Go back to the list and try again.";

/**
 * The list's place carried in `queue` (absent: the verification queue as it opens), checked by the
 * list's own schema; a place the list would refuse is a 400, as the list's address would be.
 */
export function parseQueue(request: FastifyRequest, queue: string | undefined): StudentFilters {
  if (!queue) return DEFAULT_QUEUE;
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(queue)) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [seen, value].flat();
  }
  // Compiled as the list's own schema is, with its coercion and defaults (not the route's own
  // querystring schema, which `validateInput` with an HTTP part would use instead).
  if (!request.compileValidationSchema(studentListQuerystring)(query))
    throw new HttpError(400, QUEUE_REFUSED);
  return filtersFromQuery(query as unknown as StudentListQuery);
}

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

/** The list's place as a query string, page 1 left out: the value of a `queue`. */
export function queueString(filters: StudentFilters): string {
  return queryString({
    ...filterQuery(filters),
    page: filters.page > 1 ? filters.page : undefined,
  });
}

/** The list at that place, with `extra` parameters (a reason typed, the ticked rows). */
export function listUrl(
  filters: StudentFilters,
  extra: Record<string, string | number | undefined> = {},
): string {
  const extras = queryString(extra);
  return `/admin/students?${queueString(filters)}${extras ? `&${extras}` : ""}`;
}

/** A student's page, opened from the list at that place. */
export function studentUrl(id: number, filters: StudentFilters): string {
  const queue = queueString(filters);
  return queue === queueString(DEFAULT_QUEUE)
    ? `/admin/students/${id}`
    : `/admin/students/${id}?${queryString({ queue })}`;
}

export function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== "") params.set(k, String(v));
  return params.toString();
}
