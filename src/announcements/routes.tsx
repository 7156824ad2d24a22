import type { FastifyInstance } from "fastify";
import { EligibilityCheckboxes } from "../placement/eligibility-fields.tsx";
import { openStateLabel } from "../placement/open.ts";
import {
  CONFIRMED_COUNT,
  countChanged,
  fanOutWords,
  RECOUNT_NOTE,
  smsNeedsConfirmation,
} from "../sms/cost.ts";
import { beingCheckedNote, heldByQuietHoursNote } from "../sms/labels.ts";
import { describeQuietHours, type QuietHours } from "../sms/quiet-hours.ts";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import {
  Field,
  FormErrorSummary,
  type FormState,
  formatDateTime,
  Pagination,
  SelectField,
  TextAreaField,
} from "../web/components.tsx";
import { ConfirmPage, echoFields, isBack, isConfirmed } from "../web/confirm.tsx";
import { formatNumber, jobName, plural, pluralWord } from "../web/format.ts";
import { formValues, newSubmissionId, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import { formatDate } from "../web/time.ts";
import { AUDIENCE_STAGES, audienceChoice, STAGE_WORDS } from "./audience.ts";
import {
  ANNOUNCEMENTS_PAGE_SIZE,
  AudienceError,
  announcementSchema,
  deleteAnnouncement,
  deleteAnnouncementPreview,
  jobsForAudience,
  pageOfAnnouncements,
  postAnnouncement,
  previewAnnouncement,
} from "./service.ts";

type AnnouncementList = Awaited<ReturnType<typeof pageOfAnnouncements>>;
type Preview = Awaited<ReturnType<typeof previewAnnouncement>>;
type AudienceJobs = Awaited<ReturnType<typeof jobsForAudience>>;
type AudienceJob = AudienceJobs["open"][number];

const stageOptions = AUDIENCE_STAGES.map((s) => ({ value: s, label: STAGE_WORDS[s] }));

/** "1,240 students are in it; 1,200 can get the SMS (40 opted out): 1,200 messages × 2 segments = ...". */
function previewWords(p: Preview): string {
  return `${p.audience}: ${plural(p.students, "approved student")} ${pluralWord(p.students, "is", "are")} in the audience; ${formatNumber(p.reachable)} can get the SMS (${(
    p.students - p.reachable
  ).toLocaleString(
    "en-IN",
  )} opted out): ${plural(p.reachable, "message")} × ${plural(p.segmentsEach, "segment")} (${p.encoding}) = ${plural(
    p.totalSegments,
    "segment",
  )}${p.cost ? `, ${p.cost}` : ""}. Text: "${p.body}"`;
}

/** "Infosys – SDE · open, apply by 9 Dec 2026, 5:00 pm · posted 1 Dec 2026 · no. 12". */
function jobOptionLabel(job: AudienceJob, now: Date): string {
  const state = openStateLabel(job, now);
  const when =
    state === "Open"
      ? `open, apply by ${formatDateTime(job.apply_by)}`
      : `${state.toLowerCase()}, apply-by was ${formatDate(job.apply_by)}`;
  return `${jobName(job)} · ${when} · posted ${formatDate(job.created_at)} · no. ${job.id}`;
}

function JobGroup({
  label,
  rows,
  selected,
  now,
}: {
  label: string;
  rows: AudienceJob[];
  selected: string;
  now: Date;
}) {
  if (rows.length === 0) return null;
  return (
    <optgroup label={label}>
      {rows.map((j) => (
        <option value={String(j.id)} selected={String(j.id) === selected} safe>
          {jobOptionLabel(j, now)}
        </option>
      ))}
    </optgroup>
  );
}

function JobPicker({ form, jobs, now }: { form: FormState; jobs: AudienceJobs; now: Date }) {
  const selected = form.values.job_id ?? "";
  const error = form.errors.job_id;
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for="f-job_id">Job</label>
      <select
        id="f-job_id"
        name="job_id"
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? "f-job_id-error" : undefined}
      >
        <option value="">No job (not for a job's applicants)</option>
        <JobGroup
          label="Open to applications, nearest deadline first"
          rows={jobs.open}
          selected={selected}
          now={now}
        />
        <JobGroup
          label="Closed, latest deadline first"
          rows={jobs.closed}
          selected={selected}
          now={now}
        />
      </select>
      {error ? (
        <small id="f-job_id-error" class="error" safe>
          {error}
        </small>
      ) : null}
    </div>
  );
}

/**
 * Who it is for, in one control: what is ticked or picked is the audience; nothing at all is
 * every approved student. Ticks and a job together are refused (audienceChoice), never ignored.
 */
function AudienceFields({ form, jobs, now }: { form: FormState; jobs: AudienceJobs; now: Date }) {
  return (
    <fieldset class="checks" id="f-audience" aria-describedby="f-audience-hint">
      <legend>Who is it for?</legend>
      <small id="f-audience-hint" class="hint">
        Nothing ticked and no job chosen: every approved student (and those approved later). Tick
        departments, graduation years or semesters to post it only to those students; or choose a
        job to post it only to its applicants. Not both.
      </small>
      {form.errors.audience ? (
        <small id="f-audience-error" class="error" role="alert" safe>
          {form.errors.audience}
        </small>
      ) : null}
      <EligibilityCheckboxes form={form} now={now} />
      <p class="hint">Or the applicants of one job:</p>
      <div class="row">
        <JobPicker form={form} jobs={jobs} now={now} />
        <SelectField
          form={form}
          name="stage"
          label="Stage"
          options={stageOptions}
          placeholder="Every stage (not withdrawn)"
        />
      </div>
    </fieldset>
  );
}

function AnnouncementsPage({
  page,
  form,
  list,
  jobs,
  now,
  preview = null,
  pageNumber = 1,
  quietHours,
}: {
  page: PageContext;
  form: FormState;
  list: AnnouncementList;
  jobs: AudienceJobs;
  now: Date;
  quietHours: QuietHours | null;
  preview?: Preview | null;
  pageNumber?: number;
}) {
  const rows = list.rows;
  // A conscious choice: unticked until ticked, and as it was left when the form comes back.
  const sendSms = form.values.send_sms === "on";
  return (
    <Layout page={page} title="Announcements">
      <FormErrorSummary form={form} />
      <form method="post" action="/admin/announcements" class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        <input type="hidden" name="submission_id" value={form.values.submission_id ?? ""} />
        <Field form={form} name="title" label="Title" required />
        <TextAreaField form={form} name="message" label="Message" rows={4} />
        <AudienceFields form={form} jobs={jobs} now={now} />
        <label class="check">
          <input type="checkbox" name="send_sms" checked={sendSms} /> Also send it as an SMS to
          everyone in the audience (except those who opted out)
        </label>
        {quietHours ? (
          <label class="check">
            <input type="checkbox" name="sms_urgent" checked={form.values.sms_urgent === "on"} />{" "}
            <span
              safe
            >{`Urgent: send the SMS even in quiet hours (${describeQuietHours(quietHours)})`}</span>
          </label>
        ) : null}
        {preview ? (
          <p class="flash flash-info" role="status" id="announcement-preview" safe>
            {previewWords(preview)}
          </p>
        ) : null}
        <div class="buttons">
          <button type="submit" name="intent" value="preview" class="secondary">
            Preview audience
          </button>
          <button type="submit" name="intent" value="post">
            Post announcement
          </button>
        </div>
      </form>
      {rows.length === 0 ? (
        <p class="empty">No announcements yet.</p>
      ) : (
        rows.map((a) => (
          <article class="card">
            <h2 safe>{a.title}</h2>
            <p class="hint" safe>
              {`${formatDateTime(a.posted_at)} · For: ${a.audienceWords}${a.recipients !== null ? ` (${plural(a.recipients, "student")})` : ""}${a.sms_count > 0 ? ` · sent by SMS to ${plural(a.sms_count, "student")}` : " · no SMS"}`}
            </p>
            <p class="pre" safe>
              {a.message}
            </p>
            <form
              method="post"
              action={`/admin/announcements/${a.id}/delete`}
              class="danger-zone"
              name="delete-announcement"
            >
              <CsrfField token={page.csrfToken} />
              <button
                type="submit"
                class="danger small"
                aria-label={`Delete the announcement ${a.title}`}
              >
                Delete…
              </button>
            </form>
          </article>
        ))
      )}
      <Pagination
        page={pageNumber}
        pageSize={ANNOUNCEMENTS_PAGE_SIZE}
        total={list.total}
        baseUrl="/admin/announcements"
        query={{}}
      />
    </Layout>
  );
}

export async function announcementRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: { page: number } }>(
    "/announcements",
    { schema: { querystring: { type: "object", properties: { page: pageParam } } } },
    async (request, reply) =>
      reply.html(
        <AnnouncementsPage
          page={pageContext(request, reply)}
          form={{ values: { submission_id: newSubmissionId() }, errors: {} }}
          list={await pageOfAnnouncements(ctx, request.query.page)}
          jobs={await jobsForAudience(ctx)}
          now={ctx.clock.now()}
          pageNumber={request.query.page}
          quietHours={ctx.config.SMS_QUIET_HOURS}
        />,
      ),
  );

  app.post<{ Body: Record<string, unknown> }>("/announcements", async (request, reply) => {
    const body = request.body ?? {};
    const now = ctx.clock.now();
    const parsed = parseForm(announcementSchema(now), body);
    const values = parsed.ok ? formValues(body) : parsed.values;
    values.send_sms = body.send_sms ? "on" : "";
    values.sms_urgent = body.sms_urgent ? "on" : "";
    const again = async (errors: Record<string, string>, preview: Preview | null = null) =>
      reply
        .code(Object.keys(errors).length > 0 ? 422 : 200)
        .html(
          <AnnouncementsPage
            page={pageContext(request, reply)}
            form={{ values, errors }}
            list={await pageOfAnnouncements(ctx, 1)}
            jobs={await jobsForAudience(ctx)}
            now={now}
            preview={preview}
            quietHours={ctx.config.SMS_QUIET_HOURS}
          />,
        );
    // The confirmation's Cancel: the form again, as it was typed, nothing posted.
    if (isBack(body)) return again({});
    if (!parsed.ok) return again(parsed.errors);
    const chosen = audienceChoice(parsed.data);
    if (!chosen.ok) return again({ [chosen.field]: chosen.message });
    const input = { ...parsed.data, audience: chosen.choice };
    try {
      if (body.intent === "preview") return again({}, await previewAnnouncement(ctx, input));
      if (parsed.data.send_sms && !isConfirmed(body)) {
        const preview = await previewAnnouncement(ctx, input);
        if (smsNeedsConfirmation(ctx.config, preview.reachable)) {
          return reply.html(
            <ConfirmPage
              page={pageContext(request, reply)}
              title={`Send “${parsed.data.title}” by SMS to ${plural(preview.reachable, "student")}?`}
              action="/admin/announcements"
              fields={{
                ...echoFields(body),
                intent: "post",
                [CONFIRMED_COUNT]: String(preview.reachable),
              }}
              confirmLabel={`Post and send ${plural(preview.reachable, "SMS", "SMS")}`}
              cancelHref="/admin/announcements"
              cancelPostsBack
              sms={
                <>
                  <p safe>{fanOutWords(preview)}</p>
                  <p safe>{`The text: "${preview.body}"`}</p>
                  <p>{RECOUNT_NOTE}</p>
                </>
              }
            >
              <p safe>
                {`“${parsed.data.title}” is posted for ${preview.audience}: ${plural(preview.students, "approved student")}${chosen.choice.audience === "everyone" ? ", and those approved later" : ""}.`}
              </p>
              <p>
                Nothing is posted until you confirm. Cancel goes back to the form as you left it.
              </p>
            </ConfirmPage>,
          );
        }
      }
      const result = await postAnnouncement(ctx, currentActor(request), input);
      if (result.duplicate) {
        flash(
          request,
          "info",
          "This form was already submitted: the announcement is posted once, and no SMS was sent again.",
        );
        return reply.redirect("/admin/announcements", 303);
      }
      flash(
        request,
        "success",
        parsed.data.send_sms
          ? `Announcement posted for ${plural(result.recipients, "student")}; ${formatNumber(result.sms)} SMS queued (${plural(result.sms * result.segmentsEach, "segment")}).${countChanged(body, result.sms)}${heldByQuietHoursNote(ctx, parsed.data.sms_urgent ? 0 : result.sms)}`
          : `Announcement posted for ${plural(result.recipients, "student")} (no SMS).`,
      );
      return reply.redirect("/admin/announcements", 303);
    } catch (error) {
      if (error instanceof AudienceError) return again({ [error.field]: error.message });
      throw error;
    }
  });

  app.post<{ Params: { id: number } }>(
    "/announcements/:id/delete",
    {
      schema: {
        params: idParams,
      },
    },
    async (request, reply) => {
      if (!isConfirmed(request.body)) {
        const preview = await deleteAnnouncementPreview(ctx, request.params.id);
        if (preview) {
          return reply.html(
            <ConfirmPage
              page={pageContext(request, reply)}
              title={`Delete the announcement “${preview.title}”?`}
              action={`/admin/announcements/${preview.id}/delete`}
              fields={{}}
              confirmLabel="Delete announcement"
              cancelHref="/admin/announcements"
              sms={
                <p safe>
                  {`Nobody gets an SMS.${
                    preview.smsQueued > 0
                      ? ` ${plural(preview.smsQueued, "SMS", "SMS")} of it not sent yet ${pluralWord(preview.smsQueued, "is", "are")} cancelled.`
                      : ""
                  }${
                    preview.smsOther > 0
                      ? ` ${plural(preview.smsOther, "SMS", "SMS")} already sent or being sent ${pluralWord(preview.smsOther, "stays", "stay")} on record.`
                      : ""
                  }`}
                </p>
              }
            >
              <p safe>
                {`“${preview.title}”, posted ${formatDateTime(preview.posted_at)}, is deleted: students no longer see it. This cannot be undone.`}
              </p>
            </ConfirmPage>,
          );
        }
      }
      const deleted = await deleteAnnouncement(ctx, currentActor(request), request.params.id);
      flash(
        request,
        deleted ? "success" : "info",
        !deleted
          ? "That announcement was already deleted."
          : `${
              deleted.smsCancelled > 0
                ? `Announcement deleted; ${plural(deleted.smsCancelled, "SMS", "SMS")} not sent yet ${pluralWord(deleted.smsCancelled, "was", "were")} cancelled.`
                : "Announcement deleted."
            }${beingCheckedNote(deleted.smsBeingChecked)}`,
      );
      return reply.redirect("/admin/announcements", 303);
    },
  );
}
