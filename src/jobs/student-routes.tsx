import type { FastifyInstance } from "fastify";
import { applyToJob } from "../applications/service.ts";
import { STATUS_LABELS } from "../applications/status.ts";
import { currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import { closedReasons, ineligibilityReasons } from "./eligibility.ts";
import { jobOr404 } from "./lookup.ts";
import { RulesList } from "./pages.tsx";
import {
  JOB_TYPE_LABELS,
  type JobWithRules,
  jobsForStudent,
  STUDENT_JOBS_PAGE_SIZE,
} from "./service.ts";

type StudentJobs = Awaited<ReturnType<typeof jobsForStudent>>;

export function JobCards({
  rows,
  showReasons,
}: {
  rows: StudentJobs["eligible"];
  showReasons: boolean;
}) {
  return (
    <ul class="job-list">
      {rows.map(({ job, reasons, applied }) => (
        <li class="card">
          <h3>
            <a href={`/student/jobs/${job.id}`} safe>
              {`${job.company} — ${job.title}`}
            </a>
          </h3>
          <p class="hint" safe>
            {`${JOB_TYPE_LABELS[job.type]}${job.location ? ` · ${job.location}` : ""}${job.package_range ? ` · ${job.package_range}` : ""} · apply by ${formatDateTime(job.apply_by)}`}
          </p>
          {applied ? (
            <span class={`status status-${applied}`}>{STATUS_LABELS[applied]}</span>
          ) : null}
          {showReasons ? (
            <p class="reasons" safe>
              {reasons.join("; ")}
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function JobsPage({
  page,
  jobs,
  pageNumber,
}: {
  page: PageContext;
  jobs: StudentJobs;
  pageNumber: number;
}) {
  return (
    <Layout page={page} title="Jobs">
      <h2>Open to you ({jobs.eligible.length})</h2>
      {jobs.eligible.length === 0 ? (
        <p class="empty">No open job on this page matches your profile.</p>
      ) : (
        <JobCards rows={jobs.eligible} showReasons={false} />
      )}
      <h2>Other open jobs ({jobs.others.length})</h2>
      {jobs.others.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <JobCards rows={jobs.others} showReasons />
      )}
      <Pagination
        page={pageNumber}
        pageSize={STUDENT_JOBS_PAGE_SIZE}
        total={jobs.total}
        baseUrl="/student/jobs"
        query={{}}
      />
    </Layout>
  );
}

function JobPage({
  page,
  job,
  reasons,
  applied,
}: {
  page: PageContext;
  job: JobWithRules;
  reasons: string[];
  applied: string | null;
}) {
  return (
    <Layout page={page} title={`${job.company} — ${job.title}`}>
      <p class="hint" safe>
        {`${JOB_TYPE_LABELS[job.type]}${job.location ? ` · ${job.location}` : ""}${job.package_range ? ` · ${job.package_range}` : ""} · apply by ${formatDateTime(job.apply_by)}`}
      </p>
      <section class="card">
        <p class="pre" safe>
          {job.description || "No description."}
        </p>
        {job.official_link ? (
          <p>
            <a href={job.official_link} rel="noopener noreferrer" target="_blank">
              Official page
            </a>
          </p>
        ) : null}
        <h2>Eligibility</h2>
        <RulesList rules={job.rules} />
      </section>
      {applied ? (
        <p class="flash flash-info" safe>
          {`You applied. Status: ${applied}. See My applications.`}
        </p>
      ) : reasons.length > 0 ? (
        <p class="flash flash-error" safe>
          {`You cannot apply: ${reasons.join("; ")}.`}
        </p>
      ) : (
        <form method="post" action={`/student/jobs/${job.id}/apply`}>
          <CsrfField token={page.csrfToken} />
          <button type="submit">Apply</button>
        </form>
      )}
    </Layout>
  );
}

export async function studentJobRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  app.get<{ Querystring: { page: number } }>(
    "/jobs",
    { schema: { querystring: { type: "object", properties: { page: pageParam } } } },
    async (request, reply) =>
      reply.html(
        <JobsPage
          page={pageContext(request, reply)}
          jobs={await jobsForStudent(ctx, currentStudentId(request), request.query.page)}
          pageNumber={request.query.page}
        />,
      ),
  );

  app.get<{ Params: { id: number } }>(
    "/jobs/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const studentId = currentStudentId(request);
      const job = await jobOr404(ctx, request.params.id);
      const [student, application] = await Promise.all([
        ctx.db
          .selectFrom("students")
          .selectAll()
          .where("id", "=", studentId)
          .executeTakeFirstOrThrow(),
        ctx.db
          .selectFrom("applications")
          .select("status")
          .where("job_id", "=", job.id)
          .where("student_id", "=", studentId)
          .executeTakeFirst(),
      ]);
      const reasons = [
        ...closedReasons(job, ctx.clock.now()),
        ...ineligibilityReasons(job.rules, student),
      ];
      return reply.html(
        <JobPage
          page={pageContext(request, reply)}
          job={job}
          reasons={reasons}
          applied={application ? STATUS_LABELS[application.status] : null}
        />,
      );
    },
  );

  app.post<{ Params: { id: number } }>(
    "/jobs/:id/apply",
    { schema: { params: idParams } },
    async (request, reply) => {
      const result = await applyToJob(ctx, currentStudentId(request), request.params.id);
      if (result.ok) {
        flash(request, "success", "Application sent. Follow it under My applications.");
        return reply.redirect("/student/applications", 303);
      }
      if (result.reason === "not_found") throw new HttpError(404, result.message);
      flash(request, result.reason === "already_applied" ? "info" : "error", result.message);
      return reply.redirect(`/student/jobs/${request.params.id}`, 303);
    },
  );
}
