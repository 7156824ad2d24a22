import type { PropsWithChildren } from "@kitajs/html";
import type { FastifyInstance } from "fastify";
import { recordFieldName } from "../audit/words.ts";
import { smsKindLabel, smsStatusLabel } from "../sms/labels.ts";
import { smsHistoryOfStudent } from "../sms/outbox-api.ts";
import { displayedBody } from "../sms/secrets.ts";
import { currentActor, flash, HttpError, requireRole } from "../web/auth.ts";
import { Field, type FormState, formatDateTime } from "../web/components.tsx";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { plural } from "../web/format.ts";
import { formValues, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, textParam } from "../web/schemas.ts";
import { academicSchema, setPlacementOptOut, updateAcademics } from "./academic-record.ts";
import { listUrl, parseQueue, queueParam, queueString } from "./list-urls.ts";
import { officePhoneChangeExamples } from "./notices.ts";
import { AcademicFields, AcademicSummary } from "./pages.tsx";
import { correctPhone, correctPhoneSchema } from "./phone-change.ts";
import { findStudent } from "./profile.ts";
import { sendResume } from "./resume-reply.ts";
import { DEFAULT_QUEUE, type StudentFilters } from "./student-list.ts";

type StudentRow = NonNullable<Awaited<ReturnType<typeof findStudent>>>;

function academicValues(student: StudentRow): Record<string, string> {
  return {
    department: student.department,
    semester: student.semester?.toString() ?? "",
    graduation_year: String(student.graduation_year),
    cgpa: String(student.cgpa),
    active_backlogs: String(student.active_backlogs),
  };
}

/** A correction the office makes on a student's page: folded away until opened or refused. */
function CorrectionForm({
  page,
  form,
  summary,
  action,
  submitLabel,
  children,
}: PropsWithChildren<{
  page: PageContext;
  form: FormState;
  summary: string;
  action: string;
  submitLabel: string;
}>) {
  return (
    <details class="card" open={Object.keys(form.errors).length > 0}>
      <summary safe>{summary}</summary>
      <form method="post" action={action} novalidate>
        <CsrfField token={page.csrfToken} />
        {children}
        <button type="submit" safe>
          {submitLabel}
        </button>
      </form>
    </details>
  );
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
    <CorrectionForm
      page={page}
      form={form}
      summary="Correct the academic record"
      action={`/admin/students/${student.id}/academics`}
      submitLabel="Save academic record"
    >
      <AcademicFields form={form} />
    </CorrectionForm>
  );
}

function PhoneForm({
  page,
  student,
  form,
}: {
  page: PageContext;
  student: StudentRow;
  form: FormState;
}) {
  return (
    <CorrectionForm
      page={page}
      form={form}
      summary="Correct the mobile number"
      action={`/admin/students/${student.id}/phone`}
      submitLabel="Change the number…"
    >
      <Field
        form={form}
        name="phone"
        label="Mobile number"
        type="tel"
        required
        value={student.phone_e164}
        hint="Only when you know the number is the student's (ask in person): SMS and password reset codes go there. The old and the new number are told by SMS; a password reset is refused for 24 hours."
      />
    </CorrectionForm>
  );
}

/**
 * Whether the student takes part in placement, and what the placement policy reads of their
 * offers. Opting out (higher studies, a family business) takes them off every job's audience and
 * out of the season report's "eligible for placement"; it is the office's to set, audited.
 */
function PlacementCard({ page, student }: { page: PageContext; student: StudentRow }) {
  const out = student.placement_opted_out_at !== null;
  return (
    <section class="card" aria-labelledby="student-placement">
      <h2 id="student-placement">Placement</h2>
      <p safe>
        {out
          ? `Opted out of placement on ${formatDateTime(student.placement_opted_out_at)}: no job takes applications from them and the season report does not count them.`
          : student.accepted_offers > 0
            ? `Placed: holds ${student.accepted_offers === 1 ? "an accepted offer" : `${student.accepted_offers} accepted offers`}, the best ${student.best_offer_lpa} LPA${student.accepted_ppos > 0 ? " (a pre-placement offer among them)" : ""}.`
            : "Takes part in placement; holds no accepted offer."}
      </p>
      {student.reneged_at ? (
        <p
          safe
        >{`Declined an offer after accepting it on ${formatDateTime(student.reneged_at)}.`}</p>
      ) : null}
      <form method="post" action={`/admin/students/${student.id}/placement`}>
        <CsrfField token={page.csrfToken} />
        <input type="hidden" name="take_part" value={out ? "yes" : "no"} />
        <button type="submit" class="secondary">
          {out ? "Take part in placement again" : "Opt out of placement…"}
        </button>
      </form>
    </section>
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
                  <td safe>{displayedBody(m)}</td>
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
  phoneForm,
  queue = DEFAULT_QUEUE,
  reason,
}: {
  page: PageContext;
  student: StudentRow;
  messages: SmsHistory;
  academicForm?: FormState;
  phoneForm?: FormState;
  /** The queue this page was opened from: Approve and Reject go on to its next student. */
  queue?: StudentFilters;
  /** A rejection reason typed before a Cancel on its confirmation. */
  reason?: string | undefined;
}) {
  const queueValue = queueString(queue);
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
          <p>
            <a href={listUrl(queue)} id="back-to-queue">
              Back to the verification queue
            </a>
          </p>
          <form method="post" action={`/admin/students/${student.id}/approve`} name="approve">
            <CsrfField token={page.csrfToken} />
            <input type="hidden" name="queue" value={queueValue} />
            <button type="submit" id="approve">
              Approve
            </button>
            <small class="hint">Then the next pending registration of this queue opens.</small>
          </form>
          <form
            method="post"
            action={`/admin/students/${student.id}/reject`}
            class="reject danger-zone"
            name="reject"
          >
            <CsrfField token={page.csrfToken} />
            <input type="hidden" name="queue" value={queueValue} />
            <label for="reject-reason">Reason for rejection (optional, sent to the student)</label>
            <input id="reject-reason" name="reason" maxlength="200" value={reason ?? ""} />
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
      <PhoneForm page={page} student={student} form={phoneForm ?? { values: {}, errors: {} }} />
      <PlacementCard page={page} student={student} />
      <StudentSms student={student} history={messages} />
    </Layout>
  );
}

/** One student's admin page: the record, its academic corrections, SMS history and resume. */
export async function adminStudentRecordRoutes(app: FastifyInstance) {
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

  app.get<{ Params: { id: number }; Querystring: { queue?: string; reason?: string } }>(
    "/students/:id",
    {
      schema: {
        params: idParams,
        querystring: {
          type: "object",
          properties: { queue: queueParam, reason: textParam(200) },
        },
      },
    },
    async (request, reply) => {
      const queue = parseQueue(request, request.query.queue);
      const row = await student(request.params.id);
      const messages = await smsHistoryOfStudent(ctx.db, row.id, SMS_HISTORY_SIZE);
      return reply.html(
        <StudentPage
          page={pageContext(request, reply)}
          student={row}
          messages={messages}
          queue={queue}
          reason={request.query.reason || undefined}
        />,
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
          ? `Academic record updated: ${result.changed.map(recordFieldName).join(", ")}.`
          : "Nothing changed.",
      );
      return reply.redirect(`/admin/students/${request.params.id}`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/students/:id/placement",
    { schema: { params: idParams } },
    async (request, reply) => {
      const row = await student(request.params.id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const takePart = body.take_part === "yes";
      if (!takePart && !isConfirmed(body))
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Opt ${row.full_name} out of placement?`}
            action={`/admin/students/${row.id}/placement`}
            fields={{ take_part: "no" }}
            confirmLabel="Opt out of placement"
            cancelHref={`/admin/students/${row.id}`}
            sms={<p>Nobody gets an SMS.</p>}
          >
            <p safe>
              {`${row.full_name} (${row.roll_number}) will not be able to apply to any job, will get no job alerts, and will not count as eligible for placement in the season report (higher studies, a family business). Their offers and applications stay as they are. This can be undone on this page.`}
            </p>
          </ConfirmPage>,
        );
      await setPlacementOptOut(ctx, currentActor(request), row.id, !takePart);
      flash(
        request,
        "success",
        takePart
          ? `${row.full_name} takes part in placement again.`
          : `${row.full_name} is opted out of placement.`,
      );
      return reply.redirect(`/admin/students/${row.id}#student-placement`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/students/:id/phone",
    { schema: { params: idParams } },
    async (request, reply) => {
      const row = await student(request.params.id);
      const parsed = parseForm(correctPhoneSchema(ctx.config.SMS_DEFAULT_REGION), request.body);
      if (!parsed.ok) {
        const form = { values: formValues(request.body), errors: parsed.errors };
        const messages = await smsHistoryOfStudent(ctx.db, row.id, SMS_HISTORY_SIZE);
        return reply
          .code(422)
          .html(
            <StudentPage
              page={pageContext(request, reply)}
              student={row}
              messages={messages}
              phoneForm={form}
            />,
          );
      }
      const phone = parsed.data.phone;
      if (!isConfirmed(request.body) && phone !== row.phone_e164) {
        const sms = await officePhoneChangeExamples(ctx.db, row, phone);
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Change ${row.full_name}'s mobile number?`}
            action={`/admin/students/${row.id}/phone`}
            fields={{ phone }}
            confirmLabel="Change the number"
            cancelHref={`/admin/students/${row.id}`}
            sms={
              <>
                <p safe>{`The old number ${row.phone_e164} gets: “${sms.toOld}”`}</p>
                <p safe>{`The new number ${phone} gets: “${sms.toNew}”`}</p>
                <p>Both are sent even if the student turned SMS off.</p>
              </>
            }
          >
            <ul>
              <li safe>
                {`${row.full_name} (${row.roll_number})'s mobile number changes from ${row.phone_e164} to ${phone}: every SMS, password reset codes included, goes there from now on.`}
              </li>
              <li>
                A password reset is refused for 24 hours: whoever has the new number cannot take the
                account with it before the student hears of the change.
              </li>
              <li>A change of number the student asked for and has not confirmed stops working.</li>
              <li>The audit log records the change.</li>
            </ul>
          </ConfirmPage>,
        );
      }
      const result = await correctPhone(ctx, currentActor(request), row.id, phone);
      if (!result)
        throw new HttpError(
          404,
          "There is no such student; the registration may have been rejected.",
        );
      if (result.changed)
        flash(
          request,
          "success",
          `Mobile number changed to ${result.to}; the old and the new number are told by SMS.`,
        );
      else flash(request, "info", `${phone} is already the student's number; nothing changed.`);
      return reply.redirect(`/admin/students/${row.id}`, 303);
    },
  );

  app.get<{ Params: { id: number } }>(
    "/students/:id/resume",
    { schema: { params: idParams } },
    async (request, reply) => sendResume(reply, ctx.db, await student(request.params.id)),
  );
}
