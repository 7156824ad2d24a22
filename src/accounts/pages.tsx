import { Field, type FormState } from "../web/components.tsx";
import { CsrfField, Layout } from "../web/layout.tsx";
import type { PageContext } from "../web/page.ts";

export function LoginPage({
  page,
  form,
  next,
  notice,
}: {
  page: PageContext;
  form: FormState;
  next: string;
  notice?: { kind: "error" | "info"; message: string } | undefined;
}) {
  return (
    <Layout page={page} title="Log in">
      {notice ? (
        <p
          class={`flash flash-${notice.kind}`}
          role={notice.kind === "error" ? "alert" : "status"}
          safe
        >
          {notice.message}
        </p>
      ) : null}
      <form method="post" action="/login" class="card narrow">
        <CsrfField token={page.csrfToken} />
        <input type="hidden" name="next" value={next} />
        <Field
          form={form}
          name="email"
          label="Email"
          type="email"
          required
          autocomplete="username"
        />
        <Field
          form={form}
          name="password"
          label="Password"
          type="password"
          required
          autocomplete="current-password"
        />
        <button type="submit">Log in</button>
      </form>
      <p>
        <a href="/password/forgot">Forgot your password?</a>
      </p>
      <p>
        New student? <a href="/register">Register here</a>.
      </p>
    </Layout>
  );
}

/** `/` for anonymous visitors: what the portal is and the two ways in. */
export function LandingPage({ page }: { page: PageContext }) {
  return (
    <Layout page={page} title="Placement Portal">
      <p>
        The placement office's portal for campus recruitment: students register once, apply to the
        jobs they are eligible for and follow each application; the placement office approves
        registrations, posts jobs and moves applications through their stages. Every decision that
        matters to a student reaches their phone by SMS.
      </p>
      <div class="card narrow">
        <h2>Students</h2>
        <p>
          Register with your college details. After the placement office approves your registration
          you can log in, see the jobs open to you, apply and follow your applications.
        </p>
        <p>
          <a href="/register">Register</a> · <a href="/login">Log in</a>
        </p>
      </div>
      <div class="card narrow">
        <h2>Placement office</h2>
        <p>
          Admins verify registrations, post jobs with eligibility rules, send announcements and
          track placements.
        </p>
        <p>
          <a href="/login">Log in</a>
        </p>
      </div>
    </Layout>
  );
}
