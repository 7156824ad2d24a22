import type { FastifyInstance } from "fastify";
import { requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { csvFilename, sendCsv } from "../web/csv.ts";
import { formatCgpa, plural } from "../web/format.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idList, textParam } from "../web/schemas.ts";
import { SelectAllBox, SelectAllScript } from "../web/select.tsx";
import { formatCsvDateTime } from "../web/time.ts";
import { LAST_SEMESTER } from "./academic-record.ts";
import {
  filterQuery,
  filtersFromQuery,
  queryString,
  queueString,
  type StudentListQuery,
  studentListQuerystring,
  studentUrl,
} from "./list-urls.ts";
import { DepartmentFilter } from "./pages.tsx";
import {
  listStudents,
  type QueueStatus,
  type SortDirection,
  STUDENTS_PAGE_SIZE,
  type StudentFilters,
  type StudentSort,
  studentsForExport,
} from "./student-list.ts";

type StudentList = Awaited<ReturnType<typeof listStudents>>;

/** A column header that sorts the list by it: a second click reverses the order. */
function SortHeader({
  filters,
  sort,
  label,
}: {
  filters: StudentFilters;
  sort: StudentSort;
  label: string;
}) {
  const active = filters.sort === sort;
  const dir: SortDirection = active && filters.dir === "asc" ? "desc" : "asc";
  const href = `/admin/students?${queryString({ ...filterQuery(filters), sort, dir, page: undefined })}`;
  return (
    <th
      scope="col"
      aria-sort={active ? (filters.dir === "desc" ? "descending" : "ascending") : undefined}
    >
      <a href={href} class="sort" id={`sort-${sort}`} safe>
        {`${label}${active ? (filters.dir === "desc" ? " ↓" : " ↑") : ""}`}
      </a>
    </th>
  );
}

function AdvanceSemesterForm({ page }: { page: PageContext }) {
  return (
    <details class="card">
      <summary>Advance a batch to the next semester</summary>
      <form
        method="post"
        action="/admin/students/advance-semester"
        name="advance-semester"
        class="filters"
      >
        <CsrfField token={page.csrfToken} />
        <DepartmentFilter selected={undefined} />
        <label>
          Graduation year <input type="number" name="graduation_year" id="advance-year" required />
        </label>
        <button type="submit" class="secondary" id="advance-semester">
          Advance semester…
        </button>
      </form>
      <p class="hint">
        Every student of the batch moves up one semester, up to semester {LAST_SEMESTER}. You see
        how many move before anything changes.
      </p>
    </details>
  );
}

function QueuePage({
  page,
  filters,
  list,
  kept,
}: {
  page: PageContext;
  filters: StudentFilters;
  list: StudentList;
  /** What a cancelled bulk rejection brings back: the reason typed and the rows ticked. */
  kept: { reason: string | undefined; ticked: Set<number> };
}) {
  const title =
    filters.status === "pending"
      ? "Verification queue"
      : filters.status === "approved"
        ? "Approved students"
        : "All students";
  const pending = filters.status === "pending";
  return (
    <Layout page={page} title={title}>
      <form method="get" action="/admin/students" class="filters" aria-label="Filter students">
        <input type="hidden" name="status" value={filters.status} />
        {filters.sort ? <input type="hidden" name="sort" value={filters.sort} /> : null}
        {filters.dir ? <input type="hidden" name="dir" value={filters.dir} /> : null}
        <label>
          Search{" "}
          <input
            type="search"
            name="q"
            value={filters.q ?? ""}
            placeholder="Name, roll number or email"
          />
        </label>
        <DepartmentFilter selected={filters.department} />
        <label>
          Graduation year <input type="number" name="year" value={filters.year?.toString() ?? ""} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {pending ? null : <AdvanceSemesterForm page={page} />}
      <p>
        <span safe>
          {list.more
            ? `More than ${plural(list.total, "student")} match; add to the search to narrow it.`
            : plural(list.total, "student")}
        </span>
        {list.total > 0 ? (
          <>
            {" · "}
            <a
              href={`/admin/students.csv?${queryString({ ...filterQuery(filters), sort: undefined, dir: undefined })}`}
              id="students-csv"
            >
              Export these as CSV
            </a>
          </>
        ) : null}
      </p>
      {list.rows.length === 0 ? (
        <p class="empty">
          {pending ? "No registrations are waiting for approval." : "No students match."}
        </p>
      ) : (
        <form method="post" action="/admin/students/approve" name="queue">
          <CsrfField token={page.csrfToken} />
          {/* Where the admin is, to come back to after the action (or its Cancel). */}
          <input type="hidden" name="queue" value={queueString(filters)} />
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  {pending ? (
                    <th scope="col">
                      <SelectAllBox name="ids" label="Select all students on this page" />
                    </th>
                  ) : null}
                  <SortHeader filters={filters} sort="name" label="Name" />
                  <SortHeader filters={filters} sort="roll" label="Roll number" />
                  <SortHeader filters={filters} sort="department" label="Department" />
                  <SortHeader filters={filters} sort="year" label="Year" />
                  <th scope="col">Semester</th>
                  <SortHeader filters={filters} sort="cgpa" label="CGPA" />
                  <th scope="col">Backlogs</th>
                  {pending ? (
                    <SortHeader filters={filters} sort="registered" label="Registered" />
                  ) : (
                    <SortHeader filters={filters} sort="approved" label="Approved" />
                  )}
                </tr>
              </thead>
              <tbody>
                {list.rows.map((s) => (
                  <tr>
                    {pending ? (
                      <td>
                        <input
                          type="checkbox"
                          name="ids"
                          value={String(s.id)}
                          checked={kept.ticked.has(s.id)}
                          aria-label={`Select ${s.full_name}`}
                        />
                      </td>
                    ) : null}
                    <td>
                      <a
                        href={pending ? studentUrl(s.id, filters) : `/admin/students/${s.id}`}
                        safe
                      >
                        {s.full_name}
                      </a>
                    </td>
                    <td safe>{s.roll_number}</td>
                    <td safe>{s.department}</td>
                    <td>{s.graduation_year}</td>
                    <td>{s.semester ?? "—"}</td>
                    <td safe>{formatCgpa(s.cgpa)}</td>
                    <td>{s.active_backlogs}</td>
                    <td safe>{formatDateTime(pending ? s.created_at : s.approved_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pending ? (
            <div class="bulk-actions">
              <button type="submit" id="approve-selected">
                Approve selected
              </button>
              <fieldset class="danger-zone">
                <legend>Reject the selected registrations</legend>
                <label for="bulk-reason">Reason (optional, sent to each student)</label>
                <input id="bulk-reason" name="reason" maxlength="200" value={kept.reason ?? ""} />
                <button
                  type="submit"
                  class="danger"
                  formaction="/admin/students/reject"
                  id="reject-selected"
                >
                  Reject selected…
                </button>
              </fieldset>
            </div>
          ) : null}
        </form>
      )}
      <Pagination
        page={filters.page}
        pageSize={STUDENTS_PAGE_SIZE}
        total={list.total}
        more={list.more && list.rows.length === STUDENTS_PAGE_SIZE}
        baseUrl="/admin/students"
        query={filterQuery(filters)}
      />
      {pending ? <SelectAllScript /> : null}
    </Layout>
  );
}

/** The admin's student list: the verification queue, the approved and all students. */
export async function adminStudentListRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: StudentListQuery & { reason?: string; ticked?: string } }>(
    "/students",
    {
      schema: {
        querystring: {
          ...studentListQuerystring,
          properties: {
            ...studentListQuerystring.properties,
            // A cancelled bulk rejection comes back with its reason and its ticked rows.
            reason: textParam(200),
            ticked: textParam(11 * STUDENTS_PAGE_SIZE * 4),
          },
        },
      },
    },
    async (request, reply) => {
      const filters = filtersFromQuery(request.query);
      const kept = {
        reason: request.query.reason || undefined,
        ticked: new Set(idList(request.query.ticked?.split(","))),
      };
      const list = await listStudents(ctx, filters);
      return reply.html(
        <QueuePage page={pageContext(request, reply)} filters={filters} list={list} kept={kept} />,
      );
    },
  );

  const { status, q, department, year } = studentListQuerystring.properties;
  // Not recorded in the audit log, as no export is (README, "Exports").
  app.get<{
    Querystring: { status: QueueStatus; q?: string; department?: string; year?: number | "" };
  }>(
    "/students.csv",
    {
      schema: {
        querystring: { type: "object", properties: { status, q, department, year } },
      },
    },
    async (request, reply) => {
      const filters = filtersFromQuery({ ...request.query, page: 1 });
      async function* rows() {
        for await (const s of studentsForExport(ctx, filters)) {
          const resume = s.resume_uploaded_at !== null || s.resume_path !== null;
          yield [
            s.roll_number,
            s.full_name,
            s.email,
            s.phone_e164,
            s.department,
            s.semester,
            s.graduation_year,
            formatCgpa(s.cgpa),
            s.active_backlogs,
            s.skills,
            s.approved_at ? "Approved" : "Pending approval",
            formatCsvDateTime(s.created_at),
            formatCsvDateTime(s.approved_at),
            s.sms_opted_out_at ? "Off (opted out)" : "On",
            s.placed_at.length > 0 ? "Yes" : "No",
            s.placed_at.join("; "),
            resume ? "Yes" : "No",
            formatCsvDateTime(s.resume_uploaded_at),
          ];
        }
      }
      return sendCsv(reply, csvFilename("students", ctx.clock.now()), STUDENT_CSV_COLUMNS, rows());
    },
  );
}

export const STUDENT_CSV_COLUMNS = [
  "Roll number",
  "Name",
  "Email",
  "Phone",
  "Department",
  "Semester",
  "Graduation year",
  "CGPA",
  "Active backlogs",
  "Skills",
  "Status",
  "Registered",
  "Approved",
  "SMS",
  "Placed",
  "Placed at",
  "Resume",
  "Resume uploaded",
] as const;
