import type { FastifyInstance } from "fastify";
import { HttpError } from "../web/auth.ts";
import {
  emptyForm,
  Field,
  FormErrorSummary,
  type FormState,
  TextAreaField,
} from "../web/components.tsx";
import { formValues, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { minutesUntil, takeLimit, tryAgainIn } from "../web/limits.ts";
import { type PageContext, pageContext } from "../web/page.ts";
import { AcademicFields } from "./pages.tsx";
import { receiveRegistration, registrationSchema } from "./registration.ts";
import { registrationLimits } from "./registration-limits.ts";

function RegisterPage({
  page,
  form,
  maxMb,
}: {
  page: PageContext;
  form: FormState;
  maxMb: number;
}) {
  return (
    <Layout page={page} title="Student registration">
      <p>
        Register once with your college details. The placement office checks every registration; you
        can log in after it is approved, and you will get an SMS when that happens.
      </p>
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
            hint="At least 8 characters."
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

  // Registrations per client address (successful ones: a form sent back with errors is taken
  // back), so one machine cannot fill the verification queue and the disk.
  const perAddress = { max: ctx.config.REGISTRATIONS_PER_ADDRESS_PER_HOUR, windowSeconds: 3600 };
  const limits = registrationLimits(ctx.config);

  app.post("/register", async (request, reply) => {
    const limit = await takeLimit(ctx, "registration", { address: request.ip }, [
      { name: "address", match: { address: request.ip }, limit: perAddress },
    ]);
    if (limit.limited) {
      const minutes = minutesUntil(limit.retryAt, ctx.clock.now());
      request.log.warn({ address: request.ip, minutes }, "registration refused: address limit");
      reply.header("retry-after", String(minutes * 60));
      throw new HttpError(
        429,
        `Too many registrations from your network in the last hour. ${tryAgainIn(minutes)} If many students register from one network, ask the placement office.`,
      );
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = parseForm(
      registrationSchema(ctx.config.SMS_DEFAULT_REGION, ctx.clock.now()),
      body,
    );
    const result = parsed.ok
      ? await receiveRegistration(ctx, limits, parsed.data, body.resume, request.ip)
      : parsed;
    if (!result.ok) {
      await limit.release();
      const form = { values: formValues(body), errors: result.errors };
      return reply
        .code(422)
        .html(<RegisterPage page={pageContext(request, reply)} form={form} maxMb={maxMb} />);
    }
    return reply.redirect("/register/done", 303);
  });

  app.get("/register/done", async (request, reply) =>
    reply.html(<RegisteredPage page={pageContext(request, reply)} />),
  );
}
