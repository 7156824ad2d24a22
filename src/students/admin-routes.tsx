import type { FastifyInstance } from "fastify";
import { DEPARTMENT_CODES } from "../placement/departments.ts";
import { smsKindLabel, smsStatusLabel } from "../sms/labels.ts";
import { smsHistoryOfStudent } from "../sms/outbox-api.ts";
import { currentActor, flash, HttpError, requireRole } from "../web/auth.ts";
import { type FormState, formatDateTime, Pagination } from "../web/components.tsx";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { formatCgpa, plural, pluralWord } from "../web/format.ts";
import { formValues, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import {
  idList,
  idParams,
  orEmpty,
  pageParam,
  textParam,
  wholeNumberParam,
} from "../web/schemas.ts";
import { SelectAllBox, SelectAllScript } from "../web/select.tsx";
import {
  academicSchema,
  advanceSemester,
  type BatchSelection,
  batchName,
  LAST_SEMESTER,
  semesterAdvancePreview,
  updateAcademics,
} from "./academic-record.ts";
import { rejectionExample } from "./notices.ts";
import { AcademicFields, AcademicSummary, DepartmentFilter } from "./pages.tsx";
import { findStudent } from "./profile.ts";
import { sendResume } from "./resume-reply.ts";
import {
  listStudents,
  type QueueStatus,
  type SortDirection,
  STUDENT_SORTS,
  STUDENTS_PAGE_SIZE,
  type StudentFilters,
  type StudentSort,
} from "./student-list.ts";
import {
  approveStudents,
  nextPendingStudent,
  pendingStudents,
  rejectStudent,
  rejectStudents,
} from "./verification.ts";

type StudentList = Awaited<ReturnType<typeof listStudents>>;
type StudentRow = NonNullable<Awaited<ReturnType<typeof findStudent>>>;

function filterQuery(filters: StudentFilters) {
  return {
    status: filters.status,
    q: filters.q,
    department: filters.department,
    year: filters.year,
    sort: filters.sort,
    dir: filters.dir,
  };
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== "") params.set(k, String(v));
  return params.toString();
}

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
}: {
  page: PageContext;
  filters: StudentFilters;
  list: StudentList;
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
      <p safe>
        {list.more
          ? `More than ${plural(list.total, "student")} match; add to the search to narrow it.`
          : plural(list.total, "student")}
      </p>
      {list.rows.length === 0 ? (
        <p class="empty">
          {pending ? "No registrations are waiting for approval." : "No students match."}
        </p>
      ) : (
        <form method="post" action="/admin/students/approve" name="queue">
          <CsrfField token={page.csrfToken} />
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
                          aria-label={`Select ${s.full_name}`}
                        />
                      </td>
                    ) : null}
                    <td>
                      <a href={`/admin/students/${s.id}`} safe>
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
                <input id="bulk-reason" name="reason" maxlength="200" />
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

function academicValues(student: StudentRow): Record<string, string> {
  return {
    department: student.department,
    semester: student.semester?.toString() ?? "",
    graduation_year: String(student.graduation_year),
    cgpa: String(student.cgpa),
    active_backlogs: String(student.active_backlogs),
  };
}

function AcademicForm({
  page,
  student,
  form,
}: {
  page: PageContext;
  student: StudentRow;
  form: FormState;
}) {
  return (
    <details class="card" open={Object.keys(form.errors).length > 0}>
      <summary>Correct the academic record</summary>
      <form method="post" action={`/admin/students/${student.id}/academics`} novalidate>
        <CsrfField token={page.csrfToken} />
        <AcademicFields form={form} />
        <button type="submit">Save academic record</button>
      </form>
    </details>
  );
}

/** How many of a student's SMS their page lists (the console lists them all). */
const SMS_HISTORY_SIZE = 20;

type SmsHistory = Awaited<ReturnType<typeof smsHistoryOfStudent>>;

function StudentSms({ student, history }: { student: StudentRow; history: SmsHistory }) {
  return (
    <section class="card" aria-labelledby="student-sms">
      <h2 id="student-sms">SMS to this student</h2>
      <p id="sms-opt-out">
        {student.sms_opted_out_at ? (
          <strong
            safe
          >{`SMS turned off by the student on ${formatDateTime(student.sms_opted_out_at)} (replied STOP): nothing is sent to them until they reply START.`}</strong>
        ) : (
          <span safe>{`SMS on: messages go to ${student.phone_e164}.`}</span>
        )}
      </p>
      {history.rows.length === 0 ? (
        <p class="empty">No SMS yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Text</th>
              </tr>
            </thead>
            <tbody>
              {history.rows.map((m) => (
                <tr>
                  <td>
                    <a href={`/admin/sms/${m.id}`} safe>
                      {formatDateTime(m.created_at)}
                    </a>
                  </td>
                  <td safe>{smsKindLabel(m.kind)}</td>
                  <td>
                    <span class={`status status-${m.status}`} safe>
                      {smsStatusLabel(m.status)}
                    </span>
                  </td>
                  <td safe>{m.body}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {history.total > 0 ? (
        <p>
          <a href={`/admin/sms?student_id=${student.id}`} safe>
            {history.total > history.rows.length
              ? `All ${plural(history.total, "SMS", "SMS")} to this student`
              : `${history.total === 1 ? "This SMS" : `All ${plural(history.total, "SMS", "SMS")}`} in the SMS console`}
          </a>
        </p>
      ) : null}
    </section>
  );
}

function StudentPage({
  page,
  student,
  messages,
  academicForm,
}: {
  page: PageContext;
  student: StudentRow;
  messages: SmsHistory;
  academicForm?: FormState;
}) {
  return (
    <Layout page={page} title={student.full_name}>
      <p>
        {student.approved_at ? (
          <span class="status status-approved" safe>
            Approved {formatDateTime(student.approved_at)}
          </span>
        ) : (
          <span class="status status-pending" safe>
            Pending approval since {formatDateTime(student.created_at)}
          </span>
        )}
      </p>
      <section class="card">
        <AcademicSummary student={student} />
        <p>
          {student.resume_size !== null ? (
            <a href={`/admin/students/${student.id}/resume`}>Open resume (PDF)</a>
          ) : (
            "No resume uploaded."
          )}
        </p>
      </section>
      {student.approved_at ? null : (
        <section class="card actions">
          <form method="post" action={`/admin/students/${student.id}/approve`} name="approve">
            <CsrfField token={page.csrfToken} />
            <button type="submit" id="approve">
              Approve
            </button>
            <small class="hint">Then the next pending registration opens.</small>
          </form>
          <form
            method="post"
            action={`/admin/students/${student.id}/reject`}
            class="reject danger-zone"
            name="reject"
          >
            <CsrfField token={page.csrfToken} />
            <label for="reject-reason">Reason for rejection (optional, sent to the student)</label>
            <input id="reject-reason" name="reason" maxlength="200" />
            <button type="submit" class="danger" id="reject">
              Reject…
            </button>
          </form>
        </section>
      )}
      <AcademicForm
        page={page}
        student={student}
        form={academicForm ?? { values: academicValues(student), errors: {} }}
      />
      <StudentSms student={student} history={messages} />
    </Layout>
  );
}

export async function adminStudentRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  async function student(id: number): Promise<StudentRow> {
    const row = await findStudent(ctx, id);
    if (!row)
      throw new HttpError(
        404,
        "There is no such student; the registration may have been rejected.",
      );
    return row;
  }

  app.get<{
    Querystring: {
      status: QueueStatus;
      q?: string;
      department?: string;
      year?: number;
      sort?: StudentSort | "";
      dir?: SortDirection | "";
      page: number;
    };
  }>(
    "/students",
    {
      schema: {
        querystring: {
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
        },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const filters: StudentFilters = {
        status: query.status,
        q: query.q || undefined,
        department: query.department || undefined,
        year: typeof query.year === "number" ? query.year : undefined,
        sort: query.sort || undefined,
        dir: query.dir || undefined,
        page: query.page,
      };
      const list = await listStudents(ctx, filters);
      return reply.html(
        <QueuePage page={pageContext(request, reply)} filters={filters} list={list} />,
      );
    },
  );

  app.get<{ Params: { id: number } }>(
    "/students/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const row = await student(request.params.id);
      const messages = await smsHistoryOfStudent(ctx.db, row.id, SMS_HISTORY_SIZE);
      return reply.html(
        <StudentPage page={pageContext(request, reply)} student={row} messages={messages} />,
      );
    },
  );

  app.post<{ Params: { id: number } }>(
    "/students/:id/academics",
    { schema: { params: idParams } },
    async (request, reply) => {
      const parsed = parseForm(academicSchema(ctx.clock.now()), request.body);
      if (!parsed.ok) {
        const row = await student(request.params.id);
        const form = { values: formValues(request.body), errors: parsed.errors };
        const messages = await smsHistoryOfStudent(ctx.db, row.id, SMS_HISTORY_SIZE);
        return reply
          .code(422)
          .html(
            <StudentPage
              page={pageContext(request, reply)}
              student={row}
              messages={messages}
              academicForm={form}
            />,
          );
      }
      const result = await updateAcademics(
        ctx,
        currentActor(request),
        request.params.id,
        parsed.data,
      );
      if (!result)
        throw new HttpError(
          404,
          "There is no such student; the registration may have been rejected.",
        );
      flash(
        request,
        result.changed.length > 0 ? "success" : "info",
        result.changed.length > 0
          ? `Academic record updated (${result.changed.join(", ")}).`
          : "Nothing changed.",
      );
      return reply.redirect(`/admin/students/${request.params.id}`, 303);
    },
  );

  app.get<{ Params: { id: number } }>(
    "/students/:id/resume",
    { schema: { params: idParams } },
    async (request, reply) => sendResume(reply, ctx.db, await student(request.params.id)),
  );

  app.post<{ Params: { id: number } }>(
    "/students/:id/approve",
    { schema: { params: idParams } },
    async (request, reply) => {
      const { approved } = await approveStudents(ctx, currentActor(request), [request.params.id]);
      const row = approved[0];
      if (!row) {
        flash(
          request,
          "info",
          "This student was already approved (or no longer exists); nothing was changed.",
        );
        return reply.redirect(`/admin/students/${request.params.id}`, 303);
      }
      // Working the queue: straight on to the next registration waiting, or back to the empty queue.
      const next = await nextPendingStudent(ctx, row.id);
      flash(
        request,
        "success",
        `Approved ${row.full_name} (${row.roll_number}). The approval SMS is queued.${
          next ? ` Next pending: ${next.full_name}.` : " No registrations are waiting any more."
        }`,
      );
      return reply.redirect(
        next ? `/admin/students/${next.id}` : "/admin/students?status=pending",
        303,
      );
    },
  );

  app.post<{ Body: { ids?: string | string[] } }>("/students/approve", async (request, reply) => {
    const ids = idList(request.body?.ids);
    if (ids.length === 0) {
      flash(request, "error", "Select at least one student to approve.");
    } else {
      const { approved, unchanged } = await approveStudents(ctx, currentActor(request), ids);
      flash(
        request,
        "success",
        `Approved ${plural(approved.length, "student")}; their approval SMS are queued.${
          unchanged > 0 ? ` ${plural(unchanged, "was", "were")} already approved or gone.` : ""
        }`,
      );
    }
    return reply.redirect("/admin/students?status=pending", 303);
  });

  app.post<{ Params: { id: number }; Body: { reason?: string } }>(
    "/students/:id/reject",
    {
      schema: {
        params: idParams,
        body: { type: "object", properties: { reason: textParam(200) } },
      },
    },
    async (request, reply) => {
      const reason = request.body?.reason?.trim() || undefined;
      if (!isConfirmed(request.body)) {
        const row = await findStudent(ctx, request.params.id);
        if (row && !row.approved_at) {
          const sms = await rejectionExample(ctx.db, row, reason);
          return reply.html(
            <ConfirmPage
              page={pageContext(request, reply)}
              title={`Reject ${row.full_name}'s registration?`}
              action={`/admin/students/${row.id}/reject`}
              fields={{ reason }}
              confirmLabel="Reject and delete registration"
              cancelHref={`/admin/students/${row.id}`}
              sms={
                <p safe>
                  {row.sms_opted_out_at
                    ? `${row.full_name} opted out of SMS and will not get one.`
                    : `${row.full_name} will get an SMS at ${row.phone_e164}: “${sms}”`}
                </p>
              }
            >
              <ul>
                <li safe>
                  {`${row.full_name} (${row.roll_number}, ${row.department}, ${row.graduation_year} batch) is rejected: the registration, the login and the resume are deleted.`}
                </li>
                {reason ? <li safe>{`Reason given: ${reason}`}</li> : <li>No reason is given.</li>}
                <li>This cannot be undone: to try again, the student registers again.</li>
              </ul>
            </ConfirmPage>,
          );
        }
        // Already handled: the confirmed path below says so without changing anything.
      }
      const { rejected } = await rejectStudent(
        ctx,
        currentActor(request),
        request.params.id,
        reason,
      );
      if (rejected) {
        flash(
          request,
          "success",
          `Rejected ${rejected.full_name} (${rejected.roll_number}); the registration is deleted and the rejection SMS is queued.`,
        );
      } else {
        flash(
          request,
          "info",
          "This registration was already handled (approved or rejected); nothing was changed.",
        );
      }
      return reply.redirect("/admin/students?status=pending", 303);
    },
  );
  app.post<{ Body: { ids?: string | string[]; reason?: string } }>(
    "/students/reject",
    {
      schema: {
        body: { type: "object", properties: { reason: textParam(200) } },
      },
    },
    async (request, reply) => {
      const ids = idList(request.body?.ids, STUDENTS_PAGE_SIZE * 4);
      const reason = request.body?.reason?.trim() || undefined;
      const students = await pendingStudents(ctx, ids);
      if (students.length === 0) {
        flash(request, "error", "Select at least one pending registration to reject.");
        return reply.redirect("/admin/students?status=pending", 303);
      }
      if (!isConfirmed(request.body)) {
        const reachable = students.filter((st) => st.sms_opted_out_at === null);
        const example = await rejectionExample(ctx.db, reachable[0] ?? students[0]!, reason);
        const optedOut = students.length - reachable.length;
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Reject ${plural(students.length, "registration")}?`}
            action="/admin/students/reject"
            fields={{ ids: students.map((st) => st.id), reason }}
            confirmLabel={`Reject ${plural(students.length, "registration")}`}
            cancelHref="/admin/students?status=pending"
            sms={
              <>
                <p safe>
                  {reachable.length === 0
                    ? "Nobody gets an SMS: every one of them opted out."
                    : `${reachable.length === 1 ? `${reachable[0]!.full_name} will` : `${plural(reachable.length, "student")} will each`} get the rejection SMS, with their own name and roll number: “${example}”`}
                </p>
                {optedOut > 0 && reachable.length > 0 ? (
                  <p
                    safe
                  >{`${plural(optedOut, "student")} opted out of SMS and will not get one.`}</p>
                ) : null}
              </>
            }
          >
            <p safe>
              {`These registrations are rejected: their logins, profiles and resumes are deleted. ${
                reason ? `Reason given: ${reason}` : "No reason is given."
              } This cannot be undone.`}
            </p>
            <ul>
              {students.map((st) => (
                <li safe>{`${st.full_name} (${st.roll_number})`}</li>
              ))}
            </ul>
          </ConfirmPage>,
        );
      }
      const { rejected, unchanged } = await rejectStudents(
        ctx,
        currentActor(request),
        students.map((st) => st.id),
        reason,
      );
      flash(
        request,
        rejected.length > 0 ? "success" : "info",
        `Rejected ${plural(rejected.length, "registration")}; the rejection SMS are queued.${
          unchanged > 0
            ? ` ${plural(unchanged, "was", "were")} already handled by someone else.`
            : ""
        }`,
      );
      return reply.redirect("/admin/students?status=pending", 303);
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    "/students/advance-semester",
    async (request, reply) => {
      const body = request.body ?? {};
      const year = Number(body.graduation_year);
      const department = typeof body.department === "string" ? body.department : "";
      if (
        !Number.isInteger(year) ||
        year < 1900 ||
        year > 2200 ||
        (department !== "" && !DEPARTMENT_CODES.includes(department))
      ) {
        flash(request, "error", "Choose a department (or all) and enter the graduation year.");
        return reply.redirect("/admin/students?status=approved", 303);
      }
      const batch: BatchSelection = { department: department || undefined, graduationYear: year };
      const back = `/admin/students?${queryString({ status: "approved", department, year })}`;
      if (!isConfirmed(body)) {
        const preview = await semesterAdvancePreview(ctx, batch);
        if (preview.moving === 0) {
          flash(
            request,
            "info",
            `Nobody of the ${batchName(batch)} can move up: ${plural(preview.total, "student")}, ${preview.atLast} in semester ${LAST_SEMESTER} already, ${preview.blank} with no semester set.`,
          );
          return reply.redirect(back, 303);
        }
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Advance the ${batchName(batch)} to the next semester?`}
            action="/admin/students/advance-semester"
            fields={{
              department,
              graduation_year: year,
              as_of: ctx.clock.now().toISOString(),
            }}
            confirmLabel={`Advance ${plural(preview.moving, "student")}`}
            cancelHref={back}
            sms={<p>Nobody gets an SMS.</p>}
          >
            <ul>
              <li safe>
                {`${plural(preview.moving, "student")} ${pluralWord(preview.moving, "moves", "move")} up one semester (semester 5 becomes 6, and so on, up to ${LAST_SEMESTER}).`}
              </li>
              {preview.atLast > 0 ? (
                <li
                  safe
                >{`${plural(preview.atLast, "student")} in semester ${LAST_SEMESTER} or above ${pluralWord(preview.atLast, "stays", "stay")} where they are.`}</li>
              ) : null}
              {preview.blank > 0 ? (
                <li
                  safe
                >{`${plural(preview.blank, "student")} with no semester set ${pluralWord(preview.blank, "stays", "stay")} blank: they are asked to set it in their profile.`}</li>
              ) : null}
              <li>Job eligibility by semester follows at once. Doing it again moves them again.</li>
            </ul>
          </ConfirmPage>,
        );
      }
      const asOf =
        typeof body.as_of === "string" && !Number.isNaN(Date.parse(body.as_of))
          ? new Date(body.as_of).toISOString()
          : ctx.clock.now().toISOString();
      const { moved, alreadyDone } = await advanceSemester(ctx, currentActor(request), batch, asOf);
      flash(
        request,
        alreadyDone ? "info" : "success",
        alreadyDone
          ? `The ${batchName(batch)} was already advanced after you looked; nothing moved again.`
          : `Moved ${plural(moved, "student")} of the ${batchName(batch)} to the next semester.`,
      );
      return reply.redirect(back, 303);
    },
  );
}
