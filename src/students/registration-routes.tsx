import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  emptyForm,
  Field,
  FormErrorSummary,
  type FormState,
  TextAreaField,
} from "../web/components.tsx";
import { type FieldErrors, formValues, parseForm, withFileToChooseAgain } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { minutesUntil, tryAgainIn } from "../web/limits.ts";
import { type PageContext, pageContext } from "../web/page.ts";
import { AcademicFields } from "./pages.tsx";
import { receiveRegistration, registrationSchema } from "./registration.ts";
import {
  REFUSED_BECAUSE,
  registrationLimits,
  takeRegistrationAttempt,
} from "./registration-limits.ts";
import { chosenFile, resumeProblem } from "./resume-store.ts";

function RegisterPage({
  page,
  form,
  maxMb,
  notice,
}: {
  page: PageContext;
  form: FormState;
  maxMb: number;
  /** Why the form came back, when it is not a field to correct (a limit). */
  notice?: string | undefined;
}) {
  const sentBack = notice !== undefined || Object.keys(form.errors).length > 0;
  return (
    <Layout page={page} title="Student registration">
      <p>
        Register once with your college details. The placement office checks every registration; you
        can log in after it is approved, and you will get an SMS when that happens.
      </p>
      {notice ? (
        <p class="flash flash-error" role="alert" safe>
          {notice}
        </p>
      ) : null}
      <FormErrorSummary form={form} />
      <form method="post" action="/register" enctype="multipart/form-data" class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        <fieldset>
          <legend>About you</legend>
          <Field form={form} name="full_name" label="Full name" required autocomplete="name" />
          <Field
            form={form}
            name="roll_number"
            label="Roll number (USN)"
            required
            hint="As printed on your ID card, e.g. 1XY21CS001."
          />
          <Field
            form={form}
            name="email"
            label="Email"
            type="email"
            required
            autocomplete="email"
          />
          <Field
            form={form}
            name="phone"
            label="Mobile number"
            type="tel"
            required
            autocomplete="tel"
            inputmode="tel"
            hint="Placement updates are sent here by SMS. Indian numbers need no +91."
          />
        </fieldset>
        <fieldset>
          <legend>Academics</legend>
          <AcademicFields form={form} hints />
          <TextAreaField
            form={form}
            name="skills"
            label="Skills"
            hint="Optional, e.g. Java, SQL, AutoCAD."
          />
          <Field
            form={form}
            name="resume"
            label="Resume (PDF)"
            type="file"
            hint={`Optional; a PDF of at most ${maxMb} MB. You can add it later.`}
          />
        </fieldset>
        <fieldset>
          <legend>Password</legend>
          <Field
            form={form}
            name="password"
            label="Password"
            type="password"
            required
            autocomplete="new-password"
            hint={
              sentBack
                ? "At least 8 characters. Type it again, twice: a form sent back never keeps a password."
                : "At least 8 characters."
            }
          />
          <Field
            form={form}
            name="password_confirm"
            label="Repeat the password"
            type="password"
            required
            autocomplete="new-password"
          />
        </fieldset>
        <button type="submit">Register</button>
      </form>
    </Layout>
  );
}

function RegisteredPage({ page }: { page: PageContext }) {
  return (
    <Layout page={page} title="Registration received">
      <p class="flash flash-success" role="status">
        Thank you. Your registration is awaiting approval by the placement office.
      </p>
      <p>
        You will receive an SMS when it is approved; then <a href="/login">log in</a> with your
        email and password.
      </p>
      <p>
        If this email already had an account, no second one was made: the account's mobile number
        gets an SMS saying so.
      </p>
    </Layout>
  );
}

export async function registrationRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  const maxMb = Math.round(ctx.config.RESUME_MAX_BYTES / 1024 / 1024) || 1;

  app.get("/register", async (request, reply) =>
    reply.html(<RegisterPage page={pageContext(request, reply)} form={emptyForm} maxMb={maxMb} />),
  );

  // Registrations per address and per email, roll number and phone: registration-limits.ts.
  const limits = registrationLimits(ctx.config);

  /** The form again with what was typed; a browser keeps neither the passwords nor the file. */
  const again = (
    request: FastifyRequest,
    reply: FastifyReply,
    body: Record<string, unknown>,
    errors: FieldErrors,
    refused?: string,
  ) => {
    const file = chosenFile(body.resume) ? " and choose the resume file again" : "";
    const notice = refused
      ? `${refused} Everything you typed is kept below: type the password again${file}.`
      : undefined;
    const form = {
      values: formValues(body),
      errors: refused ? errors : withFileToChooseAgain(errors, body, "resume"),
    };
    return reply
      .code(refused ? 429 : 422)
      .html(
        <RegisterPage
          page={pageContext(request, reply)}
          form={form}
          maxMb={maxMb}
          notice={notice}
        />,
      );
  };

  // The one anonymous form that takes a file (config.upload: web/server.ts reads it, token first).
  app.post("/register", { config: { upload: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = parseForm(
      registrationSchema(ctx.config.SMS_DEFAULT_REGION, ctx.clock.now()),
      body,
    );
    // A form with errors counts against no limit: the student corrects it and sends it again,
    // told in one round everything to correct, the resume's content too. (A roll number already
    // registered is told only on a form that counts: else the form would look them up unlimited.)
    if (!parsed.ok) {
      const file = chosenFile(body.resume);
      const problem = file ? await resumeProblem(file, ctx.config.RESUME_MAX_BYTES) : null;
      return again(request, reply, body, {
        ...parsed.errors,
        ...(problem ? { resume: problem } : {}),
      });
    }
    const limit = await takeRegistrationAttempt(ctx, limits, request.ip, parsed.data);
    if (limit.limited) {
      const minutes = minutesUntil(limit.retryAt, ctx.clock.now());
      request.log.warn(
        { address: request.ip, limit: limit.refusedBy, minutes },
        "registration refused: limit",
      );
      reply.header("retry-after", String(minutes * 60));
      const network =
        limit.refusedBy === "address"
          ? " If many students register from one network, ask the placement office."
          : "";
      return again(
        request,
        reply,
        body,
        {},
        `${REFUSED_BECAUSE[limit.refusedBy]} ${tryAgainIn(minutes)}${network}`,
      );
    }
    const result = await receiveRegistration(
      ctx,
      limits,
      parsed.data,
      body.resume,
      request.ip,
    ).catch(async (error: unknown) => {
      // A failure of ours (the database gone) costs the student no attempt.
      await limit.release().catch(() => {});
      throw error;
    });
    if (!result.ok) {
      // A resume to choose again gives the attempt back; a roll number already taken does not
      // (also beside a resume refused: else a bad file would make every look-up free).
      if (result.errors.resume && !result.errors.roll_number) await limit.release();
      return again(request, reply, body, result.errors);
    }
    return reply.redirect("/register/done", 303);
  });

  app.get("/register/done", async (request, reply) =>
    reply.html(<RegisteredPage page={pageContext(request, reply)} />),
  );
}
