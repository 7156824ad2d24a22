import type { FastifyInstance } from "fastify";
import { currentActor, currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import {
  emptyForm,
  Field,
  FormErrorSummary,
  type FormState,
  formatDateTime,
  TextAreaField,
} from "../web/components.tsx";
import { type FieldErrors, formValues, parseForm, withFileToChooseAgain } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { minutesUntil } from "../web/limits.ts";
import { type PageContext, pageContext } from "../web/page.ts";
import { AcademicSummary, SetSemesterNotice } from "./pages.tsx";
import {
  confirmPhoneChange,
  PHONE_CODE_MAX_TRIES,
  pendingPhoneChange,
  phoneCodeSchema,
} from "./phone-change.ts";
import { findStudent, profileSchema, updateOwnProfile } from "./profile.ts";
import { sendResume } from "./resume-reply.ts";
import { chosenFile, resumeProblem } from "./resume-store.ts";

type StudentRow = NonNullable<Awaited<ReturnType<typeof findStudent>>>;
type PendingChange = Awaited<ReturnType<typeof pendingPhoneChange>>;

function PendingPhoneNotice({ pending }: { pending: PendingChange }) {
  if (!pending) return null;
  return (
    <p class="flash flash-info" role="status">
      <span
        safe
      >{`Your new number ${pending.new_e164} is waiting for the code we sent to it. `}</span>
      <a href="/student/phone">Enter the code</a>
    </p>
  );
}

function ProfilePage({
  page,
  student,
  pending,
  form,
}: {
  page: PageContext;
  student: StudentRow;
  pending: PendingChange;
  form: FormState;
}) {
  return (
    <Layout page={page} title="My profile">
      <FormErrorSummary form={form} />
      {student.semester === null ? <SetSemesterNotice /> : null}
      <PendingPhoneNotice pending={pending} />
      <form
        method="post"
        action="/student/profile"
        enctype="multipart/form-data"
        class="card"
        novalidate
      >
        <CsrfField token={page.csrfToken} />
        <Field
          form={form}
          name="phone"
          label="Mobile number"
          type="tel"
          required
          autocomplete="tel"
          value={student.phone_e164}
          hint="Placement updates and password reset codes are sent here by SMS. A new number is used once you enter the code we send to it."
        />
        <Field
          form={form}
          name="current_password"
          label="Current password"
          type="password"
          autocomplete="current-password"
          hint="Needed only to change the mobile number."
        />
        {student.semester === null ? (
          <Field
            form={form}
            name="semester"
            label="Set your semester"
            type="number"
            min="1"
            max="10"
            hint="Your current semester. Jobs limited to certain semesters need it; once set, only the placement office changes it."
          />
        ) : null}
        <TextAreaField form={form} name="skills" label="Skills" value={student.skills} />
        <label class="check">
          <input
            type="checkbox"
            name="sms"
            checked={
              form.values.sms !== undefined
                ? form.values.sms === "on"
                : student.sms_opted_out_at === null
            }
          />{" "}
          Send me placement updates by SMS (approval, application status, new jobs, announcements)
        </label>
        <Field
          form={form}
          name="resume"
          label={student.resume_size !== null ? "Replace resume (PDF)" : "Resume (PDF)"}
          type="file"
          hint="Leave empty to keep the current one."
        />
        <button type="submit">Save</button>
      </form>
      <section class="card">
        <h2>Academic record</h2>
        <p class="hint">
          Only the placement office can change these; ask them if something is wrong.
        </p>
        <AcademicSummary student={student} />
      </section>
    </Layout>
  );
}

function PhoneCodePage({
  page,
  pending,
  form,
}: {
  page: PageContext;
  pending: NonNullable<PendingChange>;
  form: FormState;
}) {
  return (
    <Layout page={page} title="Confirm your new number">
      <FormErrorSummary form={form} />
      <p role="status" safe>
        {`We sent a 6-digit code by SMS to ${pending.new_e164}. Your number changes when you enter it here, until ${formatDateTime(pending.expires_at)}. Until then SMS still go to your current number, which will be told of the change.`}
      </p>
      <form method="post" action="/student/phone" class="card narrow" novalidate>
        <CsrfField token={page.csrfToken} />
        <Field
          form={form}
          name="code"
          label="Code from the SMS"
          required
          inputmode="numeric"
          autocomplete="one-time-code"
        />
        <button type="submit">Confirm the new number</button>
      </form>
      <p>
        Wrong number, or no SMS?{" "}
        <a href="/student/profile">Type the number again in your profile</a> for a new code; it
        replaces this one.
      </p>
    </Layout>
  );
}

export async function studentRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  async function ownStudent(studentId: number): Promise<StudentRow> {
    const student = await findStudent(ctx, studentId);
    if (!student) throw new HttpError(404, "Your profile was not found.");
    return student;
  }

  app.get("/profile", async (request, reply) => {
    const studentId = currentStudentId(request);
    const student = await ownStudent(studentId);
    return reply.html(
      <ProfilePage
        page={pageContext(request, reply)}
        student={student}
        pending={await pendingPhoneChange(ctx, studentId)}
        form={{ values: {}, errors: {} }}
      />,
    );
  });

  /** A form with errors also says what is wrong with its resume, in the same round. */
  const withResumeProblem = async (errors: FieldErrors, upload: unknown) => {
    const file = chosenFile(upload);
    const problem = file ? await resumeProblem(file, ctx.config.RESUME_MAX_BYTES) : null;
    const all = problem ? { ...errors, resume: problem } : errors;
    return { ok: false as const, errors: all, status: 422 as const };
  };

  // Takes the resume (config.upload); the role guard above has run before any of the body is read.
  app.post("/profile", { config: { upload: true } }, async (request, reply) => {
    const studentId = currentStudentId(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = parseForm(profileSchema(ctx.config.SMS_DEFAULT_REGION), body);
    const result = parsed.ok
      ? await updateOwnProfile(
          ctx,
          currentActor(request),
          studentId,
          parsed.data,
          body.resume,
          request.ip,
        )
      : await withResumeProblem(parsed.errors, body.resume);
    if (!result.ok) {
      const student = await ownStudent(studentId);
      const form = {
        values: { ...formValues(body), sms: body.sms ? "on" : "" },
        errors: withFileToChooseAgain(result.errors, body, "resume"),
      };
      if ("retryAt" in result && result.retryAt)
        reply.header("retry-after", String(minutesUntil(result.retryAt, ctx.clock.now()) * 60));
      return reply
        .code(result.status)
        .html(
          <ProfilePage
            page={pageContext(request, reply)}
            student={student}
            pending={await pendingPhoneChange(ctx, studentId)}
            form={form}
          />,
        );
    }
    const change = result.value.phoneChange;
    if (!change) {
      flash(request, "success", "Your profile has been saved.");
      return reply.redirect("/student/profile", 303);
    }
    flash(
      request,
      "success",
      `Your profile has been saved. Your number changes to ${change.to} once you enter the code we sent to it.`,
    );
    if (change.sms === "skipped")
      flash(
        request,
        "error",
        "SMS sending is turned off on this portal, so the code cannot reach you: ask the placement office to change your number.",
      );
    return reply.redirect("/student/phone", 303);
  });

  app.get("/phone", async (request, reply) => {
    const pending = await pendingPhoneChange(ctx, currentStudentId(request));
    if (!pending) {
      flash(request, "info", "No new number is waiting for a code.");
      return reply.redirect("/student/profile", 303);
    }
    return reply.html(
      <PhoneCodePage page={pageContext(request, reply)} pending={pending} form={emptyForm} />,
    );
  });

  app.post("/phone", async (request, reply) => {
    const studentId = currentStudentId(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = parseForm(phoneCodeSchema, body);
    const result = parsed.ok
      ? await confirmPhoneChange(ctx, currentActor(request), studentId, parsed.data.code)
      : null;
    if (result?.outcome === "changed") {
      flash(
        request,
        "success",
        `Your mobile number is now ${result.phone}. Your previous number was told by SMS.`,
      );
      return reply.redirect("/student/profile", 303);
    }
    const pending = await pendingPhoneChange(ctx, studentId);
    if (!pending) {
      flash(
        request,
        "error",
        `The number was not changed: the code stops working after ${PHONE_CODE_MAX_TRIES} wrong tries, after its time or when a newer one is sent. Type the new number in your profile again for a new code.`,
      );
      return reply.redirect("/student/profile", 303);
    }
    const left = PHONE_CODE_MAX_TRIES - pending.attempts;
    const errors = parsed.ok
      ? {
          code: `This code is wrong. It may be tried ${left === 1 ? "once" : `${left} times`} more.`,
        }
      : parsed.errors;
    return reply
      .code(422)
      .html(
        <PhoneCodePage
          page={pageContext(request, reply)}
          pending={pending}
          form={{ values: formValues(body), errors }}
        />,
      );
  });

  // Only ever the signed-in student's own resume: there is no id in this URL to tamper with.
  app.get("/resume", async (request, reply) => {
    const student = await ownStudent(currentStudentId(request));
    return sendResume(reply, ctx.db, student);
  });
}
