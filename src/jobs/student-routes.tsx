import type { FastifyInstance } from "fastify";
import { type ApplicationStatus, JOB_TYPES, type JobType } from "../db/schema.ts";
import { closedReasons, jobIneligibilityReasons } from "../placement/eligibility.ts";
import { policyForStudent } from "../placement/policy.ts";
import { STATUS_LABELS } from "../placement/stages.ts";
import { currentStudentId, requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { jobName, plural } from "../web/format.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import { jobOr404 } from "./lookup.ts";
import { PACKAGE_FLOORS } from "./package.ts";
import { JobCards, jobFacts, RulesList } from "./pages.tsx";
import {
  JOB_TYPE_LABELS,
  type JobWithRules,
  jobsForStudent,
  STUDENT_JOB_SEARCH_MAX,
  STUDENT_JOB_SORT_LABELS,
  STUDENT_JOB_SORTS,
  STUDENT_JOBS_PAGE_SIZE,
  type StudentJobSort,
} from "./service.ts";

type StudentJobs = Awaited<ReturnType<typeof jobsForStudent>>;

interface JobListQuery {
  q: string;
  eligible: boolean;
  type: JobType | "";
  location: string;
  /** Lakhs a year, "" for any. */
  minPackage: string;
  sort: StudentJobSort;
  page: number;
}

/** The query string of the list as filtered now (pagination and "Show all jobs" keep it). */
function listParams(query: JobListQuery): Record<string, string | undefined> {
  return {
    q: query.q || undefined,
    type: query.type || undefined,
    location: query.location || undefined,
    package: query.minPackage || undefined,
    sort: query.sort === "deadline" ? undefined : query.sort,
    eligible: query.eligible ? "1" : undefined,
  };
}

function Select({
  name,
  label,
  value,
  options,
}: {
  name: string;
  label: string;
  value: string;
  options: [string, string][];
}) {
  return (
    <label>
      <span safe>{label}</span>
      <select name={name}>
        {options.map(([optionValue, words]) => (
          <option value={optionValue} selected={optionValue === value} safe>
            {words}
          </option>
        ))}
      </select>
    </label>
  );
}

function JobSearch({ query, locations }: { query: JobListQuery; locations: string[] }) {
  // A location asked for that no job has now stays chosen, so the page says what it filtered by.
  const offered =
    query.location && !locations.some((l) => l.toLowerCase() === query.location.toLowerCase())
      ? [...locations, query.location]
      : locations;
  return (
    <form method="get" action="/student/jobs" class="filters job-filters" aria-label="Search jobs">
      <label class="job-search">
        Search jobs
        <input
          type="search"
          name="q"
          value={query.q}
          maxlength={String(STUDENT_JOB_SEARCH_MAX)}
          placeholder="Company, title, type, location, words"
        />
      </label>
      <Select
        name="type"
        label="Type"
        value={query.type}
        options={[["", "Any type"], ...Object.entries(JOB_TYPE_LABELS)]}
      />
      <Select
        name="location"
        label="Location"
        value={query.location}
        options={[["", "Anywhere"], ...offered.map((l): [string, string] => [l, l])]}
      />
      <Select
        name="package"
        label="Package"
        value={query.minPackage}
        options={[
          ["", "Any package"],
          ...PACKAGE_FLOORS.map((n): [string, string] => [String(n), `${n} LPA or more`]),
        ]}
      />
      <Select
        name="sort"
        label="Sort by"
        value={query.sort}
        options={STUDENT_JOB_SORTS.map((sort) => [sort, STUDENT_JOB_SORT_LABELS[sort]])}
      />
      <label class="check">
        <input type="checkbox" name="eligible" value="1" checked={query.eligible} /> Only jobs I can
        apply to
      </label>
      <button type="submit">Search</button>
    </form>
  );
}

/** "12 internships in Pune, 8 LPA or more, matching “data”": what the list holds, in words. */
function listSummary(jobs: StudentJobs, query: JobListQuery): string {
  const noun = query.type ? JOB_TYPE_LABELS[query.type].toLowerCase() : "job";
  return [
    plural(jobs.total, noun),
    query.eligible ? " you can apply to" : "",
    query.location ? ` in ${query.location}` : "",
    query.minPackage ? `, ${query.minPackage} LPA or more` : "",
    query.q ? `${query.minPackage ? "," : ""} matching “${query.q}”` : "",
  ].join("");
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
  const filtered =
    query.q !== "" ||
    query.eligible ||
    query.type !== "" ||
    query.location !== "" ||
    query.minPackage !== "";
  const order =
    query.sort === "deadline"
      ? "open ones first"
      : STUDENT_JOB_SORT_LABELS[query.sort].toLowerCase();
  return (
    <Layout page={page} title="Jobs">
      <JobSearch query={query} locations={jobs.locations} />
      <p class="hint" safe>
        {`${listSummary(jobs, query)}${filtered && query.sort === "deadline" ? "." : `, ${order}.`}`}
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
        query={listParams(query)}
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

  app.get<{
    Querystring: {
      page: number;
      q?: string;
      eligible?: string;
      type?: JobType | "";
      location?: string;
      package?: string;
      sort?: StudentJobSort | "";
    };
  }>(
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
            type: { type: "string", enum: ["", ...JOB_TYPES] },
            location: {
              type: "string",
              maxLength: 120,
              pattern: "^[^\\u0000-\\u001f\\u007f]*$",
            },
            package: { type: "string", pattern: "^(|[0-9]{1,3})$" },
            sort: { type: "string", enum: ["", ...STUDENT_JOB_SORTS] },
          },
        },
      },
    },
    async (request, reply) => {
      const query: JobListQuery = {
        q: request.query.q?.trim() ?? "",
        eligible: request.query.eligible === "1",
        type: request.query.type ?? "",
        location: request.query.location?.trim() ?? "",
        minPackage: request.query.package ? String(Number(request.query.package)) : "",
        sort: request.query.sort || "deadline",
        page: request.query.page,
      };
      const jobs = await jobsForStudent(
        ctx,
        currentStudentId(request),
        {
          q: query.q || undefined,
          eligibleOnly: query.eligible,
          type: query.type || undefined,
          location: query.location || undefined,
          minPackage: query.minPackage ? Number(query.minPackage) : undefined,
          sort: query.sort,
          page: query.page,
        },
        { jobsVersion: request.user?.openJobsVersion },
      );
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
        ...jobIneligibilityReasons(job, await policyForStudent(ctx.db, student), student),
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
