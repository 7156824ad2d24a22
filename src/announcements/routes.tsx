import type { FastifyInstance } from "fastify";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import {
  Field,
  FormErrorSummary,
  type FormState,
  formatDateTime,
  Pagination,
  TextAreaField,
} from "../web/components.tsx";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { plural, pluralWord } from "../web/format.ts";
import { newSubmissionId, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import {
  ANNOUNCEMENTS_PAGE_SIZE,
  announcementSchema,
  deleteAnnouncement,
  deleteAnnouncementPreview,
  type listAnnouncements,
  pageOfAnnouncements,
  postAnnouncement,
} from "./service.ts";

type Announcement = Awaited<ReturnType<typeof listAnnouncements>>[number];

function AnnouncementsPage({
  page,
  form,
  list,
  pageNumber = 1,
}: {
  page: PageContext;
  form: FormState;
  list: { rows: Announcement[]; total: number };
  pageNumber?: number;
}) {
  const rows = list.rows;
  const sendSms = form.values.send_sms !== undefined ? form.values.send_sms === "on" : true;
  return (
    <Layout page={page} title="Announcements">
      <FormErrorSummary form={form} />
      <form method="post" action="/admin/announcements" class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        <input type="hidden" name="submission_id" value={form.values.submission_id ?? ""} />
        <Field form={form} name="title" label="Title" required />
        <TextAreaField form={form} name="message" label="Message" rows={4} />
        <label class="check">
          <input type="checkbox" name="send_sms" checked={sendSms} /> Also send it as an SMS to
          every approved student (except those who opted out)
        </label>
        <button type="submit">Post announcement</button>
      </form>
      {rows.length === 0 ? (
        <p class="empty">No announcements yet.</p>
      ) : (
        rows.map((a) => (
          <article class="card">
            <h2 safe>{a.title}</h2>
            <p class="hint" safe>
              {`${formatDateTime(a.posted_at)}${a.sms_count > 0 ? ` · sent by SMS to ${plural(a.sms_count, "student")}` : ""}`}
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
          pageNumber={request.query.page}
        />,
      ),
  );

  app.post("/announcements", async (request, reply) => {
    const parsed = parseForm(announcementSchema, request.body);
    if (!parsed.ok) {
      const values = parsed.values;
      values.send_sms = (request.body as Record<string, unknown>)?.send_sms ? "on" : "";
      return reply
        .code(422)
        .html(
          <AnnouncementsPage
            page={pageContext(request, reply)}
            form={{ values, errors: parsed.errors }}
            list={await pageOfAnnouncements(ctx, 1)}
          />,
        );
    }
    const result = await postAnnouncement(ctx, currentActor(request), parsed.data);
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
        ? `Announcement posted; ${result.sms} SMS queued (${plural(result.sms * result.segmentsEach, "segment")}).`
        : "Announcement posted (no SMS).",
    );
    return reply.redirect("/admin/announcements", 303);
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
                      ? ` ${plural(preview.smsOther, "SMS", "SMS")} already sent or being sent stay on record.`
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
          : deleted.smsCancelled > 0
            ? `Announcement deleted; ${plural(deleted.smsCancelled, "SMS", "SMS")} not sent yet ${pluralWord(deleted.smsCancelled, "was", "were")} cancelled.`
            : "Announcement deleted.",
      );
      return reply.redirect("/admin/announcements", 303);
    },
  );
}
