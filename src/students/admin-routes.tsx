import type { FastifyInstance } from "fastify";
import type { SmsMessage } from "../db/schema.ts";
import { SmsTable } from "../sms/pages.tsx";
import { currentActor, flash, HttpError, requireRole } from "../web/auth.ts";
import { type FormState, formatDateTime, Pagination } from "../web/components.tsx";
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
import { AcademicFields, DepartmentFilter } from "./academic-fields.tsx";
import {
  academicSchema,
  approveStudents,
  findStudent,
  listStudents,
  type QueueStatus,
  rejectStudent,
  STUDENTS_PAGE_SIZE,
  type StudentFilters,
  smsForStudent,
  updateAcademics,
} from "./service.ts";
import { AcademicSummary, sendResume } from "./student-routes.tsx";

type StudentList = Awaited<ReturnType<typeof listStudents>>;
type StudentRow = NonNullable<Awaited<ReturnType<typeof findStudent>>>;

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
      <p>
        {list.total} {list.total === 1 ? "student" : "students"}
      </p>
      {list.rows.length === 0 ? (
        <p class="empty">
          {pending ? "No registrations are waiting for approval." : "No students match."}
        </p>
      ) : (
        <form method="post" action="/admin/students/approve">
          <CsrfField token={page.csrfToken} />
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  {pending ? (
                    <th scope="col">
                      <span class="visually-hidden">Select</span>
                    </th>
                  ) : null}
                  <th scope="col">Name</th>
                  <th scope="col">Roll number</th>
                  <th scope="col">Department</th>
                  <th scope="col">Year</th>
                  <th scope="col">CGPA</th>
                  <th scope="col">Backlogs</th>
                  <th scope="col">{pending ? "Registered" : "Approved"}</th>
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
                    <td safe>{s.cgpa.toFixed(2)}</td>
                    <td>{s.active_backlogs}</td>
                    <td safe>{formatDateTime(pending ? s.created_at : s.approved_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pending ? <button type="submit">Approve selected</button> : null}
        </form>
      )}
      <Pagination
        page={filters.page}
        pageSize={STUDENTS_PAGE_SIZE}
        total={list.total}
        baseUrl="/admin/students"
        query={{
          status: filters.status,
          q: filters.q,
          department: filters.department,
          year: filters.year,
        }}
      />
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

function StudentPage({
  page,
  student,
  messages,
  academicForm,
}: {
  page: PageContext;
  student: StudentRow;
  messages: SmsMessage[];
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
          {student.resume_path ? (
            <a href={`/admin/students/${student.id}/resume`}>Open resume (PDF)</a>
          ) : (
            "No resume uploaded."
          )}
        </p>
      </section>
      {student.approved_at ? null : (
        <section class="card actions">
          <form method="post" action={`/admin/students/${student.id}/approve`}>
            <CsrfField token={page.csrfToken} />
            <button type="submit">Approve</button>
          </form>
          <form method="post" action={`/admin/students/${student.id}/reject`} class="reject">
            <CsrfField token={page.csrfToken} />
            <label for="reject-reason">Reason for rejection (optional, sent to the student)</label>
            <input id="reject-reason" name="reason" maxlength="200" />
            <button type="submit" class="danger">
              Reject and delete registration
            </button>
          </form>
        </section>
      )}
      <AcademicForm
        page={page}
        student={student}
        form={academicForm ?? { values: academicValues(student), errors: {} }}
      />
      <section class="card">
        <h2>SMS to this student</h2>
        <SmsTable messages={messages} />
      </section>
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
      const messages = await smsForStudent(ctx, row.id);
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
        const messages = await smsForStudent(ctx, row.id);
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
    async (request, reply) =>
      sendResume(reply, ctx.config.DATA_DIR, await student(request.params.id)),
  );

  app.post<{ Params: { id: number } }>(
    "/students/:id/approve",
    { schema: { params: idParams } },
    async (request, reply) => {
      const { approved } = await approveStudents(ctx, currentActor(request), [request.params.id]);
      const row = approved[0];
      if (row)
        flash(
          request,
          "success",
          `Approved ${row.full_name} (${row.roll_number}). The approval SMS is queued.`,
        );
      else
        flash(
          request,
          "info",
          "This student was already approved (or no longer exists); nothing was changed.",
        );
      return reply.redirect(`/admin/students/${request.params.id}`, 303);
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
        `Approved ${approved.length} ${approved.length === 1 ? "student" : "students"}; their approval SMS are queued.${
          unchanged > 0 ? ` ${unchanged} were already approved or gone.` : ""
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
}
