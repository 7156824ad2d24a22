import type { FastifyInstance } from "fastify";
import { currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import { Field, FormErrorSummary, type FormState, TextAreaField } from "../web/components.tsx";
import { formValues, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { AcademicSummary, SetSemesterNotice } from "./pages.tsx";
import { findStudent, profileSchema, updateOwnProfile } from "./profile.ts";
import { sendResume } from "./resume-reply.ts";

type StudentRow = NonNullable<Awaited<ReturnType<typeof findStudent>>>;

function ProfilePage({
  page,
  student,
  form,
}: {
  page: PageContext;
  student: StudentRow;
  form: FormState;
}) {
  return (
    <Layout page={page} title="My profile">
      <FormErrorSummary form={form} />
      {student.semester === null ? <SetSemesterNotice /> : null}
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
          hint="Placement updates are sent here by SMS."
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

export async function studentRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  async function ownStudent(studentId: number): Promise<StudentRow> {
    const student = await findStudent(ctx, studentId);
    if (!student) throw new HttpError(404, "Your profile was not found.");
    return student;
  }

  app.get("/profile", async (request, reply) => {
    const student = await ownStudent(currentStudentId(request));
    return reply.html(
      <ProfilePage
        page={pageContext(request, reply)}
        student={student}
        form={{ values: {}, errors: {} }}
      />,
    );
  });

  // Takes the resume (config.upload); the role guard above has run before any of the body is read.
  app.post("/profile", { config: { upload: true } }, async (request, reply) => {
    const studentId = currentStudentId(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = parseForm(profileSchema(ctx.config.SMS_DEFAULT_REGION), body);
    const result = parsed.ok
      ? await updateOwnProfile(ctx, studentId, parsed.data, body.resume)
      : parsed;
    if (!result.ok) {
      const student = await ownStudent(studentId);
      const form = {
        values: { ...formValues(body), sms: body.sms ? "on" : "" },
        errors: result.errors,
      };
      return reply
        .code(422)
        .html(<ProfilePage page={pageContext(request, reply)} student={student} form={form} />);
    }
    flash(request, "success", "Your profile has been saved.");
    return reply.redirect("/student/profile", 303);
  });

  // Only ever the signed-in student's own resume: there is no id in this URL to tamper with.
  app.get("/resume", async (request, reply) => {
    const student = await ownStudent(currentStudentId(request));
    return sendResume(reply, ctx.db, student);
  });
}
