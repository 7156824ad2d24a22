import type { FastifyInstance } from "fastify";
import { currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import {
  STUDENT_APPLICATIONS_PAGE_SIZE,
  studentApplications,
  withdrawApplication,
} from "./service.ts";
import { STATUS_LABELS, TRANSITIONS } from "./status.ts";

type Applications = Awaited<ReturnType<typeof studentApplications>>;

export function ApplicationsTable({
  applications,
  page,
  timeline,
}: {
  applications: Applications;
  page: PageContext;
  timeline: boolean;
}) {
  if (applications.length === 0) return <p class="empty">You have not applied to any job yet.</p>;
  return (
    <ul class="job-list">
      {applications.map((a) => (
        <li class="card">
          <h3>
            <a href={`/student/jobs/${a.job_id}`} safe>
              {`${a.company} — ${a.title}`}
            </a>{" "}
            <span class={`status status-${a.status}`}>{STATUS_LABELS[a.status]}</span>
          </h3>
          {timeline ? (
            <ol class="timeline">
              {a.events.map((e) => (
                <li
                  safe
                >{`${formatDateTime(e.at)}: ${STATUS_LABELS[e.to_status]}${e.by_role === "student" && e.from_status ? " (by you)" : ""}`}</li>
              ))}
            </ol>
          ) : null}
          {timeline && TRANSITIONS[a.status].includes("withdrawn") ? (
            <form method="post" action={`/student/applications/${a.id}/withdraw`}>
              <CsrfField token={page.csrfToken} />
              <button type="submit" class="link">
                Withdraw this application
              </button>
            </form>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export async function studentApplicationRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  app.get<{ Querystring: { page: number } }>(
    "/applications",
    { schema: { querystring: { type: "object", properties: { page: pageParam } } } },
    async (request, reply) => {
      const page = pageContext(request, reply);
      const studentId = currentStudentId(request);
      const [applications, total] = await Promise.all([
        studentApplications(ctx, studentId, request.query.page),
        ctx.db
          .selectFrom("applications")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("student_id", "=", studentId)
          .executeTakeFirstOrThrow(),
      ]);
      return reply.html(
        <Layout page={page} title="My applications">
          <ApplicationsTable applications={applications} page={page} timeline />
          <Pagination
            page={request.query.page}
            pageSize={STUDENT_APPLICATIONS_PAGE_SIZE}
            total={Number(total.n)}
            baseUrl="/student/applications"
            query={{}}
          />
        </Layout>,
      );
    },
  );

  app.post<{ Params: { id: number } }>(
    "/applications/:id/withdraw",
    {
      schema: {
        params: idParams,
      },
    },
    async (request, reply) => {
      if (!request.user) throw new HttpError(401, "Log in first.");
      const { problem } = await withdrawApplication(ctx, request.user, request.params.id);
      if (problem === "There is no such application of yours.") throw new HttpError(404, problem);
      flash(request, problem ? "error" : "success", problem ?? "Application withdrawn.");
      return reply.redirect("/student/applications", 303);
    },
  );
}
