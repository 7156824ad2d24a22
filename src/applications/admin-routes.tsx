import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { APPLICATION_STATUSES, type ApplicationStatus } from "../db/schema.ts";
import { jobOr404 } from "../jobs/lookup.ts";
import { offerMadeExample } from "../offers/notices.ts";
import { OfferTermsFields, offerTermDefaults } from "../offers/pages.tsx";
import { type OfferTerms, offerTermsSchema } from "../offers/service.ts";
import { batchesWithCounts, slotChoiceLabel } from "../placement/rounds.tsx";
import {
  ADMIN_TARGETS,
  type AdminTarget,
  isAdminTarget,
  isDecision,
  STATUS_LABELS,
  TRANSITIONS,
} from "../placement/stages.ts";
import { DepartmentFilter } from "../students/pages.tsx";
import { currentActor, flash, requireRole, summariseForFlash } from "../web/auth.ts";
import {
  emptyForm,
  type FormState,
  formatDateTime,
  Pagination,
  TextAreaField,
} from "../web/components.tsx";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { csvFilename, sendCsv } from "../web/csv.ts";
import { formatCgpa, formatNumber, plural } from "../web/format.ts";
import { formValues, multilineTextField, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { pageContext } from "../web/page.ts";
import { decimalParam, idList, idParams, orEmpty, pageParam, textParam } from "../web/schemas.ts";
import { SelectAllBox, SelectAllScript } from "../web/select.tsx";
import { parseLocalDateTime } from "../web/time.ts";
import { decisionCorrectedExample, statusUpdateExample } from "./notices.ts";
import { resumeBundle } from "./resume-bundle.ts";
import {
  APPLICANTS_PAGE_SIZE,
  type ApplicantFilters,
  applicantsCsv,
  type CorrectionPlan,
  changeStatus,
  correctDecision,
  eligibleNotApplied,
  jobName,
  listApplicants,
  previewCorrection,
  previewStatusChange,
} from "./service.ts";

interface ApplicantsQuery {
  status?: ApplicationStatus | "";
  department?: string;
  min_cgpa?: number | "";
  q?: string;
  page: number;
}

const applicantsQuerySchema = {
  type: "object",
  properties: {
    status: { type: "string", enum: ["", ...APPLICATION_STATUSES] },
    department: textParam(20),
    min_cgpa: orEmpty(decimalParam(0, 10)),
    q: textParam(100),
    page: pageParam,
  },
} as const;

/** The filters without the page: for the downloads, which hold every page. */
const { page: _page, ...applicantsFilterProperties } = applicantsQuerySchema.properties;
const applicantsFilterSchema = {
  type: "object",
  properties: applicantsFilterProperties,
} as const;

/** A job in a download's file name: "TCS-Ninja". */
function fileNameOf(job: { company: string; title: string }): string {
  return `${job.company}-${job.title}`.replace(/[^A-Za-z0-9-]+/g, "-").slice(0, 60);
}

/** The resume bundle is of one status: the page's, Selected when the page shows them all. */
const BUNDLE_DEFAULT_STATUS: ApplicationStatus = "selected";

function bundleFiltersOf(q: Omit<ApplicantsQuery, "page">) {
  const filters = filtersOf({ ...q, page: 1 });
  return { ...filters, status: filters.status ?? BUNDLE_DEFAULT_STATUS };
}

/** The columns of the eligible students who have not applied (`/admin/jobs/:id/not-applied.csv`). */
const NOT_APPLIED_CSV_COLUMNS = [
  "Roll number",
  "Name",
  "Department",
  "Graduation year",
  "CGPA",
  "Active backlogs",
  "Email",
  "Phone",
] as const;

function filtersOf(q: ApplicantsQuery): ApplicantFilters {
  return {
    status: q.status || undefined,
    department: q.department || undefined,
    minCgpa: typeof q.min_cgpa === "number" ? q.min_cgpa : undefined,
    q: q.q?.trim() || undefined,
    page: q.page,
  };
}

/** The status change form posts `to` and one or many `ids`; `back` is where to return. */
function parseChange(body: unknown): { ids: number[]; to: AdminTarget | null; back: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const ids = idList(b.ids);
  const to = ADMIN_TARGETS.includes(b.to as AdminTarget) ? (b.to as AdminTarget) : null;
  return { ids, to, back: backTo(b.back) };
}

/** Where a move returns: an applicants page (with its filters), else the jobs. */
function backTo(value: unknown, fallback = "/admin/jobs"): string {
  return typeof value === "string" &&
    /^\/admin\/jobs\/\d+\/applicants(\?[\w=&%.+*-]*)?$/.test(value)
    ? value
    : fallback;
}

/** Why a decision is corrected: required, kept in the audit log. */
const correctionReason = multilineTextField({
  label: "the reason for the correction",
  max: 500,
});

/** Who of the moved gets an SMS, in words that match the confirmation page. */
function smsWords(changed: number, withoutSms: Record<string, number>): string {
  const silent = Object.values(withoutSms).reduce((a, b) => a + b, 0);
  const why = Object.entries(withoutSms)
    .map(([reason, n], _, all) => (all.length === 1 ? reason : `${n} ${reason}`))
    .join(", ");
  if (silent === 0) return changed === 1 ? "the student gets an SMS." : "each student gets an SMS.";
  if (silent === changed) return `nobody gets an SMS (${why}).`;
  const texted = changed - silent;
  return `${plural(texted, "student")} ${texted === 1 ? "gets" : "get"} an SMS; ${silent} ${silent === 1 ? "does" : "do"} not (${why}).`;
}

/** Where a move's button sits on its row: the next stage, then Selected…, then Reject…. */
function rowOrder(to: AdminTarget): number {
  return to === "rejected" ? 2 : to === "selected" ? 1 : 0;
}

export async function adminApplicationRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Params: { id: number }; Querystring: ApplicantsQuery }>(
    "/jobs/:id/applicants",
    {
      schema: {
        params: idParams,
        querystring: applicantsQuerySchema,
      },
    },
    async (request, reply) => {
      const job = await jobOr404(ctx, request.params.id);
      const filters = filtersOf(request.query);
      const [list, slots] = await Promise.all([
        listApplicants(ctx, job.id, filters),
        batchesWithCounts(ctx.db, { jobId: job.id, startingAfter: ctx.clock.now() }),
      ]);
      const page = pageContext(request, reply);
      const query = {
        q: filters.q,
        status: filters.status,
        department: filters.department,
        min_cgpa: filters.minCgpa,
      };
      const qs = new URLSearchParams(
        Object.entries(query).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
      ).toString();
      const back = `/admin/jobs/${job.id}/applicants${qs ? `?${qs}` : ""}`;
      return reply.html(
        <Layout page={page} title={`Applicants: ${jobName(job)}`}>
          <p>
            <a href={`/admin/jobs/${job.id}`}>Job details</a> ·{" "}
            <a href={`/admin/jobs/${job.id}/applicants.csv${qs ? `?${qs}` : ""}`}>
              Export these as CSV
            </a>{" "}
            ·{" "}
            <a
              href={`/admin/jobs/${job.id}/applicants/resumes.zip${qs ? `?${qs}` : ""}`}
              id="resume-bundle"
              safe
            >
              {`Resumes of ${STATUS_LABELS[filters.status ?? BUNDLE_DEFAULT_STATUS]} applicants (zip)`}
            </a>{" "}
            ·{" "}
            <a href={`/admin/jobs/${job.id}/not-applied.csv`} id="not-applied">
              Eligible students who have not applied (CSV)
            </a>{" "}
            · <a href={`/admin/jobs/${job.id}/rounds`}>Rounds</a> ·{" "}
            <a href={`/admin/jobs/${job.id}/offers`}>Offers</a>
          </p>
          <ul class="counters small">
            {APPLICATION_STATUSES.filter((s) => list.byStatus.has(s)).map((s) => (
              <li>
                <a href={`/admin/jobs/${job.id}/applicants?status=${s}`}>
                  <strong safe>{formatNumber(list.byStatus.get(s) ?? 0)}</strong> {STATUS_LABELS[s]}
                </a>
              </li>
            ))}
          </ul>
          <form
            method="get"
            action={`/admin/jobs/${job.id}/applicants`}
            class="filters"
            aria-label="Filter applicants"
          >
            <label>
              Name or roll number{" "}
              <input type="search" name="q" maxlength="100" value={filters.q ?? ""} />
            </label>
            <label>
              Status
              <select name="status">
                <option value="">All</option>
                {APPLICATION_STATUSES.map((s) => (
                  <option value={s} selected={filters.status === s}>
                    {STATUS_LABELS[s]}
                  </option>
                ))}
              </select>
            </label>
            <DepartmentFilter selected={filters.department} />
            <label>
              Minimum CGPA{" "}
              <input
                type="number"
                name="min_cgpa"
                step="0.01"
                min="0"
                max="10"
                value={filters.minCgpa?.toString() ?? ""}
              />
            </label>
            <button type="submit">Filter</button>
          </form>
          <p safe>{plural(list.total, "applicant")}</p>
          {list.rows.length === 0 ? (
            <p class="empty">No applicants match.</p>
          ) : (
            <form method="post" action="/admin/applications/status" name="applicants">
              <CsrfField token={page.csrfToken} />
              <input type="hidden" name="back" value={back} />
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">
                        <SelectAllBox name="ids" label="Select all applicants on this page" />
                      </th>
                      <th scope="col">Name</th>
                      <th scope="col">Roll number</th>
                      <th scope="col">Dept</th>
                      <th scope="col">Year</th>
                      <th scope="col">CGPA</th>
                      <th scope="col">Backlogs</th>
                      <th scope="col">Resume</th>
                      <th scope="col">Status</th>
                      <th scope="col">Move to</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.rows.map((a) => (
                      <tr>
                        <td>
                          <input
                            type="checkbox"
                            name="ids"
                            value={String(a.id)}
                            aria-label={`Select ${a.full_name}`}
                          />
                        </td>
                        <td>
                          <a href={`/admin/students/${a.student_id}`} safe>
                            {a.full_name}
                          </a>
                        </td>
                        <td safe>{a.roll_number}</td>
                        <td safe>{a.department}</td>
                        <td>{a.graduation_year}</td>
                        <td safe>{formatCgpa(a.cgpa)}</td>
                        <td>{a.active_backlogs}</td>
                        <td>
                          {a.resume_size !== null ? (
                            <a
                              href={`/admin/students/${a.student_id}/resume`}
                              aria-label={`Resume of ${a.full_name} (PDF)`}
                            >
                              Resume
                            </a>
                          ) : (
                            <span class="hint">none</span>
                          )}
                        </td>
                        <td>
                          <span class={`status status-${a.status}`}>{STATUS_LABELS[a.status]}</span>
                        </td>
                        <td class="row-actions">
                          {TRANSITIONS[a.status]
                            .filter(isAdminTarget)
                            // The next stage first, then the decisions, which ask first (…);
                            // rejecting is kept apart, last.
                            .sort((x, y) => rowOrder(x) - rowOrder(y))
                            .map((to) => (
                              <button
                                type="submit"
                                class={to === "rejected" ? "small danger" : "small"}
                                formaction={`/admin/applications/${a.id}/status?to=${to}`}
                                aria-label={`${to === "rejected" ? "Reject" : STATUS_LABELS[to]}: ${a.full_name}`}
                                safe
                              >
                                {to === "rejected"
                                  ? "Reject…"
                                  : `${STATUS_LABELS[to]}${isDecision(to) ? "…" : ""}`}
                              </button>
                            ))}
                          {isDecision(a.status) ? (
                            <a
                              class="button"
                              href={`/admin/applications/${a.id}/correct?${new URLSearchParams({ back })}`}
                              aria-label={`Correct the decision: ${a.full_name}`}
                            >
                              Correct…
                            </a>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div class="buttons">
                <label>
                  Move the selected to{" "}
                  <select name="to">
                    {ADMIN_TARGETS.map((s) => (
                      <option value={s}>{STATUS_LABELS[s]}</option>
                    ))}
                  </select>
                </label>
                <button type="submit" id="move-selected">
                  Move selected…
                </button>
              </div>
              {slots.length > 0 ? (
                <div class="buttons">
                  <label>
                    Put the selected in{" "}
                    <select name="slot">
                      {slots.map((s) => (
                        <option value={String(s.id)} safe>
                          {slotChoiceLabel(s)}
                        </option>
                      ))}
                    </select>
                  </label>
                  <button type="submit" formaction="/admin/rounds/members" id="add-to-round">
                    Put in round…
                  </button>
                </div>
              ) : null}
            </form>
          )}
          <SelectAllScript />
          <Pagination
            page={filters.page}
            pageSize={APPLICANTS_PAGE_SIZE}
            total={list.total}
            baseUrl={`/admin/jobs/${job.id}/applicants`}
            query={query}
          />
        </Layout>,
      );
    },
  );

  app.get<{ Params: { id: number }; Querystring: ApplicantsQuery }>(
    "/jobs/:id/applicants.csv",
    {
      schema: {
        params: idParams,
        querystring: applicantsQuerySchema,
      },
    },
    async (request, reply) => {
      const job = await jobOr404(ctx, request.params.id);
      const csv = await applicantsCsv(ctx, job.id, filtersOf(request.query));
      return reply
        .type("text/csv; charset=utf-8")
        .header("Content-Disposition", `attachment; filename="applicants-${fileNameOf(job)}.csv"`)
        .header("Cache-Control", "private, no-store")
        .send(csv);
    },
  );

  // Neither download below is recorded in the audit log, as no export is (README, "Exports").

  app.get<{ Params: { id: number }; Querystring: ApplicantsQuery }>(
    "/jobs/:id/applicants/resumes.zip",
    {
      schema: {
        params: idParams,
        querystring: applicantsFilterSchema,
      },
    },
    async (request, reply) => {
      const job = await jobOr404(ctx, request.params.id);
      const filters = bundleFiltersOf(request.query);
      return reply
        .type("application/zip")
        .header(
          "Content-Disposition",
          `attachment; filename="resumes-${fileNameOf(job)}-${filters.status}.zip"`,
        )
        .header("Cache-Control", "private, no-store")
        .send(resumeBundle(ctx, job.id, filters));
    },
  );

  app.get<{ Params: { id: number } }>(
    "/jobs/:id/not-applied.csv",
    { schema: { params: idParams } },
    async (request, reply) => {
      const job = await jobOr404(ctx, request.params.id);
      async function* rows() {
        for await (const s of eligibleNotApplied(ctx, job))
          yield [
            s.roll_number,
            s.full_name,
            s.department,
            s.graduation_year,
            formatCgpa(s.cgpa),
            s.active_backlogs,
            s.email,
            s.phone_e164,
          ];
      }
      return sendCsv(
        reply,
        csvFilename(`not-applied-${fileNameOf(job)}`, ctx.clock.now()),
        NOT_APPLIED_CSV_COLUMNS,
        rows(),
      );
    },
  );

  /**
   * A move that needs the admin's confirmation first: every bulk move, and a decision (Selected,
   * Rejected) even for one applicant. That page, or null when nothing would move (the refusal flash says why). It returns
   * the markup, not the reply: an awaited reply resolves to nothing (it is a thenable).
   */
  async function confirmation(
    request: FastifyRequest,
    reply: FastifyReply,
    ids: number[],
    to: AdminTarget,
    back: string,
    action: string,
    offerForm: FormState = { values: {}, errors: {} },
  ) {
    const { moving, refused, unknown } = await previewStatusChange(ctx, ids, to);
    if (moving.length === 0) return null; // nothing would change: the flash says why
    // A selection records its offer when every applicant is of one job (the terms are the job's).
    const offerJob =
      to === "selected" && new Set(moving.map((m) => m.job_id)).size === 1 ? moving[0]! : null;
    const offerValues: Record<string, string> = offerJob
      ? {
          offer: "on",
          ...offerTermDefaults(offerJob, ctx.clock.now()),
          ...offerForm.values,
        }
      : {};
    const reachable = moving.filter((m) => m.sms_opted_out_at === null);
    const first = reachable[0];
    const example = first
      ? await statusUpdateExample(ctx.db, {
          fullName: first.full_name,
          company: first.company,
          title: first.title,
          status: to,
        })
      : "";
    const jobs = [...new Set(moving.map(jobName))];
    const one = moving.length === 1 ? moving[0]! : null;
    const who = one ? one.full_name : plural(moving.length, "applicant");
    const what =
      to === "rejected"
        ? `Reject ${who}`
        : to === "selected" && one
          ? `Select ${who}`
          : `Move ${who} to ${STATUS_LABELS[to]}`;
    const optedOut = moving.length - reachable.length;
    return (
      <ConfirmPage
        page={pageContext(request, reply)}
        title={`${what}?`}
        action={action}
        fields={{ ids: moving.map((m) => m.id), to, back }}
        confirmLabel={what}
        cancelHref={back}
        inputs={
          offerJob ? (
            <fieldset>
              <legend>The offer</legend>
              <label class="check">
                <input
                  type="checkbox"
                  name="offer"
                  value="on"
                  checked={offerValues.offer === "on"}
                />{" "}
                Record the offer with the selection: the student gets the offer's SMS (instead of
                the selection's), answers it in the portal, and is reminded a day before the answer
                time.
              </label>
              <OfferTermsFields form={{ values: offerValues, errors: offerForm.errors }} />
            </fieldset>
          ) : to === "selected" ? (
            <p>
              These applicants are of several jobs: record their offers on each job's Offers page.
            </p>
          ) : undefined
        }
        sms={
          <>
            <p safe>
              {!first
                ? "Nobody gets an SMS: they opted out of SMS."
                : reachable.length === 1
                  ? `${first.full_name} will get an SMS at ${first.phone_e164}: “${example}”`
                  : `${plural(reachable.length, "student")} will get an SMS, each with their own name, for example: “${example}”`}
            </p>
            {first && optedOut > 0 ? (
              <p safe>{`${plural(optedOut, "student")} opted out of SMS and will not get one.`}</p>
            ) : null}
            {first && offerJob ? (
              <p safe>
                {`With the offer recorded (the box below, ticked), that SMS is replaced by the offer's, for example: “${await offerMadeExample(
                  ctx.db,
                  {
                    company: offerJob.company,
                    role: offerValues.role || offerJob.title,
                    ctc_lpa:
                      Number(offerValues.fixed_lpa) + Number(offerValues.variable_lpa || 0) || 0,
                    answer_by:
                      parseLocalDateTime(offerValues.answer_by ?? "")?.toISOString() ??
                      new Date(ctx.clock.now().getTime() + 7 * 86_400_000).toISOString(),
                  },
                )}”, and a reminder goes a day before the answer time.`}
              </p>
            ) : null}
          </>
        }
      >
        <p safe>
          {`${plural(moving.length, "application")} for ${jobs.join(", ")} will move to ${STATUS_LABELS[to]}.${
            isDecision(to)
              ? ` ${STATUS_LABELS[to]} is a decision: to undo it, use “Correct…” on its row (with a reason; the student gets an SMS).`
              : ""
          }`}
        </p>
        <ul>
          {moving.map((m) => (
            <li
              safe
            >{`${m.full_name} (${m.roll_number}): ${STATUS_LABELS[m.status]} → ${STATUS_LABELS[to]}`}</li>
          ))}
        </ul>
        {refused.length + unknown > 0 ? (
          <p safe>
            {`Not moved: ${plural(refused.length + unknown, "selected application")} (${[
              ...refused.map((r) => `${r.full_name}: ${r.problem}`),
              ...(unknown > 0 ? [`${unknown} no longer exist`] : []),
            ]
              .slice(0, 10)
              .join("; ")}).`}
          </p>
        ) : null}
      </ConfirmPage>
    );
  }

  async function handleChange(
    request: FastifyRequest,
    ids: number[],
    to: AdminTarget | null,
    back: string,
    offer?: OfferTerms,
  ) {
    if (!to) {
      flash(request, "error", "Choose a status.");
    } else if (ids.length === 0) {
      flash(request, "error", "Select at least one applicant.");
    } else {
      const { changed, withoutSms, problems } = await changeStatus(
        ctx,
        currentActor(request),
        ids,
        to,
        { offer },
      );
      if (changed > 0)
        flash(
          request,
          "success",
          `${changed} moved to ${STATUS_LABELS[to]}; ${smsWords(changed, withoutSms)}`,
        );
      // A count and a few examples: the list itself shows every applicant's status.
      if (problems.length > 0)
        flash(
          request,
          changed > 0 ? "info" : "error",
          problems.length === 1
            ? `Not changed: ${summariseForFlash(problems)}.`
            : `${problems.length.toLocaleString("en-IN")} not changed: ${summariseForFlash(problems)}. The list shows each applicant's status.`,
        );
    }
    return back;
  }

  app.post<{ Params: { id: number }; Querystring: { to?: string } }>(
    "/applications/:id/status",
    {
      schema: {
        params: idParams,
      },
    },
    async (request, reply) => {
      const parsed = parseChange({
        ...(request.body as object),
        to: request.query.to ?? (request.body as { to?: string })?.to,
      });
      const action = `/admin/applications/${request.params.id}/status`;
      // A decision asks first, even for one row; the other moves go straight.
      if (parsed.to && isDecision(parsed.to) && !isConfirmed(request.body)) {
        const page = await confirmation(
          request,
          reply,
          [request.params.id],
          parsed.to,
          parsed.back,
          action,
        );
        if (page) return reply.html(page);
      }
      const offer = offerOf(request.body, parsed.to);
      if (!offer.ok) {
        const page = await confirmation(
          request,
          reply,
          [request.params.id],
          "selected",
          parsed.back,
          action,
          offer.form,
        );
        if (page) return reply.code(400).html(page);
      }
      const back = await handleChange(
        request,
        [request.params.id],
        parsed.to,
        parsed.back,
        offer.ok ? offer.terms : undefined,
      );
      return reply.redirect(back, 303);
    },
  );

  /**
   * The correction's confirmation page: what the decision was, the stage it goes back to, the
   * SMS, and the reason to give (required).
   */
  async function correctionPage(
    request: FastifyRequest,
    reply: FastifyReply,
    plan: CorrectionPlan,
    back: string,
    form: FormState,
  ) {
    const example =
      plan.sms_opted_out_at === null
        ? await decisionCorrectedExample(ctx.db, {
            fullName: plan.full_name,
            company: plan.company,
            title: plan.title,
            status: plan.back,
            previous: plan.decision,
          })
        : "";
    const what = `Move ${plan.full_name} back to ${STATUS_LABELS[plan.back]}`;
    return (
      <ConfirmPage
        page={pageContext(request, reply)}
        title={`${what}?`}
        action={`/admin/applications/${plan.id}/correct`}
        fields={{ decision: plan.decisionEventId, back }}
        confirmLabel={what}
        cancelHref={back}
        inputs={
          <TextAreaField
            form={form}
            name="reason"
            label="Reason for the correction (required)"
            hint="Kept in the audit log; not sent to the student."
          />
        }
        sms={
          <p safe>
            {plan.sms_opted_out_at === null
              ? `${plan.full_name} will get an SMS at ${plan.phone_e164}: “${example}”`
              : `Nobody gets an SMS: ${plan.full_name} opted out of SMS.`}
          </p>
        }
      >
        <p
          safe
        >{`${plan.full_name} (${plan.roll_number}) was moved to ${STATUS_LABELS[plan.decision]} for ${jobName(plan)} on ${formatDateTime(plan.decidedAt)} IST.`}</p>
        <p safe>
          {`The correction moves the application back to ${STATUS_LABELS[plan.back]}, the stage it was in before that decision: ${STATUS_LABELS[plan.decision]} → ${STATUS_LABELS[plan.back]}. The timeline keeps both moves.`}
        </p>
      </ConfirmPage>
    );
  }

  app.get<{ Params: { id: number }; Querystring: { back?: string } }>(
    "/applications/:id/correct",
    { schema: { params: idParams } },
    async (request, reply) => {
      const planned = await previewCorrection(ctx, request.params.id);
      if (!planned) return reply.callNotFound();
      const back = backTo(
        request.query.back,
        `/admin/jobs/${"plan" in planned ? planned.plan.jobId : planned.jobId}/applicants`,
      );
      if ("problem" in planned) {
        flash(request, "error", `Not changed: ${planned.problem}.`);
        return reply.redirect(back, 303);
      }
      return reply.html(await correctionPage(request, reply, planned.plan, back, emptyForm));
    },
  );

  app.post<{ Params: { id: number } }>(
    "/applications/:id/correct",
    { schema: { params: idParams } },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const [decision] = idList(body.decision);
      const parsedReason = correctionReason.safeParse(body.reason ?? "");
      const reason = parsedReason.success
        ? parsedReason.data
        : typeof body.reason === "string"
          ? body.reason
          : "";
      const planned = await previewCorrection(ctx, request.params.id);
      if (!planned) return reply.callNotFound();
      const back = backTo(
        body.back,
        `/admin/jobs/${"plan" in planned ? planned.plan.jobId : planned.jobId}/applicants`,
      );
      const invalid = parsedReason.success
        ? null
        : (parsedReason.error.issues[0]?.message ?? "Give the reason for the correction.");
      if (invalid && "plan" in planned && planned.plan.decisionEventId === decision)
        return reply.code(400).html(
          await correctionPage(request, reply, planned.plan, back, {
            values: { reason },
            errors: { reason: invalid },
          }),
        );
      if (!isConfirmed(body) || decision === undefined || invalid) {
        flash(request, "error", "Not changed: open the correction again and confirm it.");
        return reply.redirect(back, 303);
      }
      const result = await correctDecision(
        ctx,
        currentActor(request),
        request.params.id,
        decision,
        reason,
      );
      if (result.ok)
        flash(
          request,
          "success",
          `${result.plan.full_name} moved back to ${STATUS_LABELS[result.plan.back]}; ${smsWords(
            1,
            result.noSms ? { [result.noSms]: 1 } : {},
          )}`,
        );
      else flash(request, "error", `Not changed: ${result.problem}.`);
      return reply.redirect(back, 303);
    },
  );

  app.post("/applications/status", async (request, reply) => {
    const { ids, to, back } = parseChange(request.body);
    const action = "/admin/applications/status";
    if (to && ids.length > 0 && !isConfirmed(request.body)) {
      const page = await confirmation(request, reply, ids, to, back, action);
      if (page) return reply.html(page);
    }
    const offer = offerOf(request.body, to);
    if (!offer.ok) {
      const page = await confirmation(request, reply, ids, "selected", back, action, offer.form);
      if (page) return reply.code(400).html(page);
    }
    return reply.redirect(
      await handleChange(request, ids, to, back, offer.ok ? offer.terms : undefined),
      303,
    );
  });

  /**
   * The offer a confirmed selection records: its terms when the box is ticked and they are
   * valid; none when it is not ticked (or the move is no selection); else the form to show again.
   */
  function offerOf(
    body: unknown,
    to: AdminTarget | null,
  ): { ok: true; terms: OfferTerms | undefined } | { ok: false; form: FormState } {
    const b = (body ?? {}) as Record<string, unknown>;
    if (to !== "selected" || b.offer !== "on") return { ok: true, terms: undefined };
    const parsed = parseForm(offerTermsSchema(ctx.clock.now()), b);
    return parsed.ok
      ? { ok: true, terms: parsed.data }
      : { ok: false, form: { values: formValues(b), errors: parsed.errors } };
  }
}
