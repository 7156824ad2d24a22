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
        New student? <a href="/register">Register here</a>.
      </p>
    </Layout>
  );
}
