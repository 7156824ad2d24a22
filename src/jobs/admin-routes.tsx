import type { FastifyInstance } from "fastify";
import { openStateLabel } from "../placement/open.ts";
import {
  CONFIRMED_COUNT,
  countChanged,
  fanOutWords,
  RECOUNT_NOTE,
  smsNeedsConfirmation,
} from "../sms/cost.ts";
import { beingCheckedNote, heldByQuietHoursNote } from "../sms/labels.ts";
import { sentOrSending, smsCountsForReference } from "../sms/outbox-api.ts";
import { currentActor, flash, HttpError, requireRole } from "../web/auth.ts";
import { type FormState, formatDateTime, Pagination } from "../web/components.tsx";
import { ConfirmPage, echoFields, isBack, isConfirmed } from "../web/confirm.tsx";
import { formatNumber, jobName, plural, pluralWord } from "../web/format.ts";
import { formValues, newSubmissionId, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam, textParam } from "../web/schemas.ts";
import { toLocalInput } from "../web/time.ts";
import { jobOr404 } from "./lookup.ts";
import { nudgeReference } from "./notices.ts";
import { type AlertCounts, JobAlerts, JobForm, nudgeWords, RulesList } from "./pages.tsx";
import {
  createJob,
  deleteJob,
  deleteJobPreview,
  JOB_TYPE_LABELS,
  JOBS_PAGE_SIZE,
  type JobFilters,
  type JobWithRules,
  jobSchema,
  listJobs,
  previewAlert,
  setJobStatus,
  updateJob,
} from "./service.ts";

type JobList = Awaited<ReturnType<typeof listJobs>>;

/** The status badge: open to applications, closed, or past its deadline (closed as well). */
function OpenState({
  job,
  now,
}: {
  job: { status: "open" | "closed"; apply_by: string };
  now: Date;
}) {
  const label = openStateLabel(job, now);
  return (
    <span class={`status status-${label === "Open" ? "open" : "closed"}`} safe>
      {label}
    </span>
  );
}

function JobsPage({
  page,
  list,
  filters,
  now,
}: {
  page: PageContext;
  list: JobList;
  filters: JobFilters;
  now: Date;
}) {
  return (
    <Layout page={page} title="Jobs">
      <p>
        <a class="button" href="/admin/jobs/new">
          Post a job
        </a>{" "}
        <a class="button secondary" href="/admin/rounds">
          Rounds of the day
        </a>
      </p>
      <form method="get" action="/admin/jobs" class="filters" aria-label="Filter jobs">
        <label>
          Search{" "}
          <input type="search" name="q" value={filters.q ?? ""} placeholder="Company or title" />
        </label>
        <label>
          Status
          <select name="status">
            <option value="">All</option>
            <option value="open" selected={filters.status === "open"}>
              Open
            </option>
            <option value="closed" selected={filters.status === "closed"}>
              Closed
            </option>
          </select>
        </label>
        {filters.company ? <input type="hidden" name="company" value={filters.company} /> : null}
        <button type="submit">Filter</button>
      </form>
      <p safe>{`${plural(list.total, "job")}${filters.company ? ` of ${filters.company}` : ""}`}</p>
      {list.rows.length === 0 ? (
        <p class="empty">No jobs match.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Company</th>
                <th scope="col">Title</th>
                <th scope="col">Type</th>
                <th scope="col">Apply by</th>
                <th scope="col">Status</th>
                <th scope="col">Applicants</th>
              </tr>
            </thead>
            <tbody>
              {list.rows.map((j) => (
                <tr>
                  <td safe>{j.company}</td>
                  <td>
                    <a href={`/admin/jobs/${j.id}`} safe>
                      {j.title}
                    </a>
                  </td>
                  <td safe>{JOB_TYPE_LABELS[j.type]}</td>
                  <td safe>{formatDateTime(j.apply_by)}</td>
                  <td>
                    <OpenState job={j} now={now} />
                  </td>
                  <td>
                    <a href={`/admin/jobs/${j.id}/applicants`} safe>
                      {formatNumber(j.applicants)}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination
        page={filters.page}
        pageSize={JOBS_PAGE_SIZE}
        total={list.total}
        baseUrl="/admin/jobs"
        query={{ q: filters.q, status: filters.status, company: filters.company }}
      />
    </Layout>
  );
}

function jobFormValues(job: JobWithRules): Record<string, string> {
  return {
    company: job.company,
    title: job.title,
    type: job.type,
    description: job.description,
    location: job.location,
    package_range: job.package_range,
    official_link: job.official_link ?? "",
    apply_by: toLocalInput(job.apply_by),
    departments: job.rules.departments.join(","),
    graduation_years: job.rules.graduationYears.join(","),
    semesters: job.rules.semesters.join(","),
    min_cgpa: job.min_cgpa?.toString() ?? "",
    max_backlogs: job.max_backlogs?.toString() ?? "",
    nudge_hours: job.nudge_hours?.toString() ?? "",
  };
}

function JobPage({
  page,
  job,
  form,
  now,
  alerts,
  nudges,
}: {
  page: PageContext;
  job: JobWithRules;
  form: FormState;
  now: Date;
  alerts: AlertCounts;
  nudges: AlertCounts;
}) {
  return (
    <Layout page={page} title={jobName(job)}>
      <p>
        <OpenState job={job} now={now} /> · apply by{" "}
        <span safe>{formatDateTime(job.apply_by)}</span> ·{" "}
        <a href={`/admin/jobs/${job.id}/applicants`}>Applicants</a> ·{" "}
        <a href={`/admin/jobs/${job.id}/rounds`}>Rounds</a> ·{" "}
        <a href={`/admin/jobs/${job.id}/offers`}>Offers</a> · alert SMS queued at posting:{" "}
        <span safe>{formatNumber(job.alert_sms_count)}</span>
      </p>
      <RulesList rules={job.rules} />
      <JobAlerts page={page} jobId={job.id} counts={alerts} />
      <p id="nudge" safe>
        {job.nudge_hours === null
          ? "Deadline reminder: none (set the hours below to send one)."
          : `Deadline reminder: ${plural(job.nudge_hours, "hour")} before the deadline; ${formatNumber(nudges.queued ?? 0)} queued, ${formatNumber(sentOrSending(nudges))} sent, ${formatNumber(nudges.cancelled ?? 0)} cancelled (applied, closed or replaced).`}
      </p>
      <section class="card actions">
        <form
          method="post"
          action={`/admin/jobs/${job.id}/${job.status === "open" ? "close" : "reopen"}`}
        >
          <CsrfField token={page.csrfToken} />
          <button type="submit" class="secondary">
            {job.status === "open" ? "Close applications" : "Reopen applications"}
          </button>
        </form>
        <form
          method="post"
          action={`/admin/jobs/${job.id}/delete`}
          class="danger-zone"
          name="delete-job"
        >
          <CsrfField token={page.csrfToken} />
          <button type="submit" class="danger" id="delete-job">
            Delete job…
          </button>
        </form>
      </section>
      <h2>Edit</h2>
      <JobForm
        page={page}
        form={form}
        action={`/admin/jobs/${job.id}`}
        isNew={false}
        preview={null}
        now={now}
      />
    </Layout>
  );
}

export async function adminJobRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  const job = (id: number) => jobOr404(ctx, id);

  app.get<{
    Querystring: { q?: string; status?: "open" | "closed" | ""; company?: string; page: number };
  }>(
    "/jobs",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            q: textParam(100),
            status: { type: "string", enum: ["", "open", "closed"] },
            company: textParam(100),
            page: pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const filters: JobFilters = {
        q: request.query.q || undefined,
        status: request.query.status || undefined,
        company: request.query.company || undefined,
        page: request.query.page,
      };
      return reply.html(
        <JobsPage
          page={pageContext(request, reply)}
          list={await listJobs(ctx, filters)}
          filters={filters}
          now={ctx.clock.now()}
        />,
      );
    },
  );

  app.get("/jobs/new", async (request, reply) =>
    reply.html(
      <Layout page={pageContext(request, reply)} title="Post a job">
        <JobForm
          page={pageContext(request, reply)}
          form={{ values: { submission_id: newSubmissionId() }, errors: {} }}
          action="/admin/jobs/new"
          isNew
          preview={null}
          now={ctx.clock.now()}
        />
      </Layout>,
    ),
  );

  app.post<{ Body: Record<string, unknown> }>("/jobs/new", async (request, reply) => {
    const body = request.body ?? {};
    const now = ctx.clock.now();
    const parsed = parseForm(jobSchema(now, true), body);
    const values = parsed.ok ? formValues(body) : parsed.values;
    values.send_sms = body.send_sms ? "on" : "";
    // The confirmation's Cancel (isBack) shows the form again as it was typed, nothing posted.
    if (!parsed.ok || body.intent === "preview" || isBack(body)) {
      const page = pageContext(request, reply);
      const preview = parsed.ok && !isBack(body) ? await previewAlert(ctx, parsed.data) : null;
      return reply.code(parsed.ok ? 200 : 422).html(
        <Layout page={page} title="Post a job">
          <JobForm
            page={page}
            form={{ values, errors: parsed.ok ? {} : parsed.errors }}
            action="/admin/jobs/new"
            isNew
            preview={preview}
            now={now}
          />
        </Layout>,
      );
    }
    if (parsed.data.send_sms && !isConfirmed(body)) {
      const preview = await previewAlert(ctx, parsed.data);
      if (smsNeedsConfirmation(ctx.config, preview.reachable)) {
        const job = parsed.data;
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Post ${job.company} – ${job.title} and send ${plural(preview.reachable, "SMS alert")}?`}
            action="/admin/jobs/new"
            fields={{
              ...echoFields(body),
              intent: "post",
              [CONFIRMED_COUNT]: String(preview.reachable),
            }}
            confirmLabel={`Post job and send ${plural(preview.reachable, "SMS", "SMS")}`}
            cancelHref="/admin/jobs/new"
            cancelPostsBack
            sms={
              <>
                <p safe>{fanOutWords({ ...preview, students: preview.eligible })}</p>
                <p safe>{`The text: "${preview.body}"`}</p>
                {preview.nudge ? <p safe>{nudgeWords(preview.nudge)}</p> : null}
                <p>{RECOUNT_NOTE}</p>
              </>
            }
          >
            <p safe>
              {`${job.company} – ${job.title} (${JOB_TYPE_LABELS[job.type]}, apply by ${formatDateTime(job.apply_by)}) is posted: ${plural(preview.eligible, "approved student")} ${pluralWord(preview.eligible, "is", "are")} eligible.`}
            </p>
            <p>Nothing is posted until you confirm. Cancel goes back to the form as you left it.</p>
          </ConfirmPage>,
        );
      }
    }
    const { id, alerts, duplicate, nudges } = await createJob(
      ctx,
      currentActor(request),
      parsed.data,
    );
    if (duplicate) {
      flash(
        request,
        "info",
        "This form was already submitted: the job is posted once, and no alert was sent again.",
      );
      return reply.redirect(`/admin/jobs/${id}`, 303);
    }
    flash(
      request,
      "success",
      parsed.data.send_sms
        ? `Job posted; ${plural(alerts, "SMS alert")} queued.${countChanged(body, alerts)}${heldByQuietHoursNote(ctx, alerts)}`
        : "Job posted (no SMS alerts).",
    );
    if (nudges > 0)
      flash(
        request,
        "info",
        `Deadline reminder queued for ${plural(nudges, "student")}: it goes ${plural(parsed.data.nudge_hours ?? 0, "hour")} before the deadline to those who have not applied by then.`,
      );
    return reply.redirect(`/admin/jobs/${id}`, 303);
  });

  app.get<{ Params: { id: number } }>(
    "/jobs/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const row = await job(request.params.id);
      return reply.html(
        <JobPage
          page={pageContext(request, reply)}
          job={row}
          form={{ values: jobFormValues(row), errors: {} }}
          now={ctx.clock.now()}
          alerts={await smsCountsForReference(ctx.db, `job:${row.id}`)}
          nudges={await smsCountsForReference(ctx.db, nudgeReference(row.id))}
        />,
      );
    },
  );

  app.post<{ Params: { id: number }; Body: Record<string, unknown> }>(
    "/jobs/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const row = await job(request.params.id);
      const parsed = parseForm(jobSchema(ctx.clock.now(), false), request.body);
      if (!parsed.ok) {
        return reply
          .code(422)
          .html(
            <JobPage
              page={pageContext(request, reply)}
              job={row}
              form={{ values: formValues(request.body), errors: parsed.errors }}
              now={ctx.clock.now()}
              alerts={await smsCountsForReference(ctx.db, `job:${row.id}`)}
              nudges={await smsCountsForReference(ctx.db, nudgeReference(row.id))}
            />,
          );
      }
      const saved = await updateJob(ctx, currentActor(request), row.id, parsed.data);
      const rewritten = saved?.alertsRewritten ?? 0;
      const nudges = saved?.nudges ?? 0;
      flash(
        request,
        "success",
        `Job saved. No SMS was sent for the change${
          rewritten > 0
            ? `; ${plural(rewritten, "alert")} not sent yet now ${pluralWord(rewritten, "carries", "carry")} the new text`
            : ""
        }.${nudges > 0 ? ` Deadline reminder queued for ${plural(nudges, "student")} who ${pluralWord(nudges, "has", "have")} not applied.` : ""}`,
      );
      return reply.redirect(`/admin/jobs/${row.id}`, 303);
    },
  );

  for (const [action, status] of [
    ["close", "closed"],
    ["reopen", "open"],
  ] as const) {
    app.post<{ Params: { id: number } }>(
      `/jobs/:id/${action}`,
      { schema: { params: idParams } },
      async (request, reply) => {
        const changed = await setJobStatus(ctx, currentActor(request), request.params.id, status);
        flash(
          request,
          changed ? "success" : "info",
          changed
            ? `Applications ${status === "closed" ? "closed" : "reopened"}.${cancelledNote(changed)}`
            : "Nothing changed.",
        );
        return reply.redirect(`/admin/jobs/${request.params.id}`, 303);
      },
    );
  }

  app.post<{ Params: { id: number } }>(
    "/jobs/:id/delete",
    { schema: { params: idParams } },
    async (request, reply) => {
      if (!isConfirmed(request.body)) {
        const row = await job(request.params.id);
        const preview = await deleteJobPreview(ctx, row.id);
        if (preview.applications === 0) {
          return reply.html(
            <ConfirmPage
              page={pageContext(request, reply)}
              title={`Delete the job ${jobName(row)}?`}
              action={`/admin/jobs/${row.id}/delete`}
              fields={{}}
              confirmLabel="Delete job"
              cancelHref={`/admin/jobs/${row.id}`}
              sms={
                <p safe>
                  {`Nobody gets an SMS.${
                    preview.alertsQueued > 0
                      ? ` ${plural(preview.alertsQueued, "job alert")} not sent yet ${pluralWord(preview.alertsQueued, "is", "are")} cancelled.`
                      : ""
                  }${
                    preview.alertsOther > 0
                      ? ` ${plural(preview.alertsOther, "job alert")} already sent or being sent ${pluralWord(preview.alertsOther, "stays", "stay")} on record.`
                      : ""
                  }`}
                </p>
              }
            >
              <ul>
                <li safe>
                  {`${jobName(row)} (${JOB_TYPE_LABELS[row.type]}, apply by ${formatDateTime(row.apply_by)}) is deleted with its eligibility rules; students no longer see it.`}
                </li>
                <li>Nobody has applied to it. This cannot be undone.</li>
              </ul>
            </ConfirmPage>,
          );
        }
        // With applications it cannot be deleted: the refusal below says so.
      }
      const result = await deleteJob(ctx, currentActor(request), request.params.id);
      if (result === null) throw new HttpError(404, "There is no such job.");
      if (!result.deleted) {
        flash(
          request,
          "error",
          `This job has ${plural(result.applications, "application")} and cannot be deleted; close it instead.`,
        );
        return reply.redirect(`/admin/jobs/${request.params.id}`, 303);
      }
      flash(request, "success", `Job deleted.${cancelledNote(result)}`);
      return reply.redirect("/admin/jobs", 303);
    },
  );
}

function cancelledNote({
  alertsCancelled,
  alertsBeingChecked,
}: {
  alertsCancelled: number;
  alertsBeingChecked: number;
}): string {
  return `${
    alertsCancelled > 0
      ? ` ${plural(alertsCancelled, "alert SMS", "alert SMS")} not sent yet ${pluralWord(alertsCancelled, "was", "were")} cancelled.`
      : ""
  }${beingCheckedNote(alertsBeingChecked)}`;
}
