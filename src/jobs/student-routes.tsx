import type { FastifyInstance } from "fastify";
import type { ApplicationStatus } from "../db/schema.ts";
import { closedReasons, ineligibilityReasons } from "../placement/eligibility.ts";
import { STATUS_LABELS } from "../placement/stages.ts";
import { currentStudentId, requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { jobName, plural } from "../web/format.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import { jobOr404 } from "./lookup.ts";
import { JobCards, jobFacts, RulesList } from "./pages.tsx";
import {
  type JobWithRules,
  jobsForStudent,
  STUDENT_JOB_SEARCH_MAX,
  STUDENT_JOBS_PAGE_SIZE,
} from "./service.ts";

type StudentJobs = Awaited<ReturnType<typeof jobsForStudent>>;

interface JobListQuery {
  q: string;
  eligible: boolean;
  page: number;
}

function JobSearch({ query }: { query: JobListQuery }) {
  return (
    <form method="get" action="/student/jobs" class="filters" aria-label="Search jobs">
      <label>
        Search jobs
        <input
          type="search"
          name="q"
          value={query.q}
          maxlength={String(STUDENT_JOB_SEARCH_MAX)}
          placeholder="Company, title or location"
        />
      </label>
      <label class="check">
        <input type="checkbox" name="eligible" value="1" checked={query.eligible} /> Only jobs I can
        apply to
      </label>
      <button type="submit">Search</button>
    </form>
  );
}

function JobsPage({
  page,
  jobs,
  query,
}: {
  page: PageContext;
  jobs: StudentJobs;
  query: JobListQuery;
}) {
  const filtered = query.q !== "" || query.eligible;
  const summary = `${plural(jobs.total, "job")}${
    query.eligible ? " you can apply to" : ""
  }${query.q ? ` matching “${query.q}”` : ""}`;
  return (
    <Layout page={page} title="Jobs">
      <JobSearch query={query} />
      <p class="hint" safe>
        {`${summary}${filtered ? "." : ", open ones first."}`}
      </p>
      {filtered ? (
        <p>
          <a href="/student/jobs">Show all jobs</a>
        </p>
      ) : null}
      <h2>Open to you</h2>
      {jobs.eligible.length === 0 ? (
        <p class="empty">No open job on this page matches your profile.</p>
      ) : (
        <JobCards rows={jobs.eligible} showReasons={false} />
      )}
      {query.eligible ? null : (
        <>
          <h2>Other open jobs</h2>
          {jobs.others.length === 0 ? (
            <p class="empty">None.</p>
          ) : (
            <JobCards rows={jobs.others} showReasons />
          )}
          {jobs.closed.length > 0 ? (
            <>
              <h2>Closed to applications</h2>
              <JobCards rows={jobs.closed} showReasons={false} />
            </>
          ) : null}
        </>
      )}
      <Pagination
        page={query.page}
        pageSize={STUDENT_JOBS_PAGE_SIZE}
        total={jobs.total}
        baseUrl="/student/jobs"
        query={{ q: query.q || undefined, eligible: query.eligible ? "1" : undefined }}
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
  applied: ApplicationStatus | null;
}) {
  return (
    <Layout page={page} title={jobName(job)}>
      <p class="hint" safe>
        {jobFacts(job)}
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
      {applied && applied !== "withdrawn" ? (
        <p class="flash flash-info">
          <span safe>{`You applied. Status: ${STATUS_LABELS[applied]}. See `}</span>
          <a href="/student/applications">My applications</a>.
        </p>
      ) : reasons.length > 0 ? (
        <p class="flash flash-error" safe>
          {`${applied === "withdrawn" ? "You withdrew your application. " : ""}You cannot apply: ${reasons.join("; ")}.`}
        </p>
      ) : (
        <form method="post" action={`/student/jobs/${job.id}/apply`}>
          <CsrfField token={page.csrfToken} />
          {applied === "withdrawn" ? (
            <p
              safe
            >{`You withdrew your application. You can apply again until ${formatDateTime(job.apply_by)} IST.`}</p>
          ) : null}
          <button type="submit">{applied === "withdrawn" ? "Apply again" : "Apply"}</button>
        </form>
      )}
    </Layout>
  );
}

export async function studentJobRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  app.get<{ Querystring: { page: number; q?: string; eligible?: string } }>(
    "/jobs",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            page: pageParam,
            // No control characters: PostgreSQL refuses a NUL in text outright.
            q: {
              type: "string",
              maxLength: STUDENT_JOB_SEARCH_MAX,
              pattern: "^[^\\u0000-\\u001f\\u007f]*$",
            },
            eligible: { type: "string", enum: ["", "1"] },
          },
        },
      },
    },
    async (request, reply) => {
      const query: JobListQuery = {
        q: request.query.q?.trim() ?? "",
        eligible: request.query.eligible === "1",
        page: request.query.page,
      };
      const jobs = await jobsForStudent(ctx, currentStudentId(request), {
        q: query.q || undefined,
        eligibleOnly: query.eligible,
        page: query.page,
      });
      return reply.html(<JobsPage page={pageContext(request, reply)} jobs={jobs} query={query} />);
    },
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
          applied={application?.status ?? null}
        />,
      );
    },
  );
}
