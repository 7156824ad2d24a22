import { Field, FormErrorSummary, type FormState, formatDateTime } from "../web/components.tsx";
import { CsrfField, Layout } from "../web/layout.tsx";
import type { PageContext } from "../web/page.ts";
import { RESET_AFTER_PHONE_CHANGE_HOURS, RESET_CODE_MINUTES } from "./password-reset.ts";

function Notice({ notice }: { notice?: string | undefined }) {
  return notice ? (
    <p class="flash flash-error" role="alert" safe>
      {notice}
    </p>
  ) : null;
}

function NewPasswordFields({
  form,
  label = "New password",
  hint = "At least 8 characters.",
}: {
  form: FormState;
  label?: string;
  hint?: string;
}) {
  return (
    <>
      <Field
        form={form}
        name="password"
        label={label}
        type="password"
        required
        autocomplete="new-password"
        hint={hint}
      />
      <Field
        form={form}
        name="password_confirm"
        label={`Repeat the ${label.toLowerCase()}`}
        type="password"
        required
        autocomplete="new-password"
      />
    </>
  );
}

export function ForgotPasswordPage({
  page,
  form,
  notice,
}: {
  page: PageContext;
  form: FormState;
  notice?: string | undefined;
}) {
  return (
    <Layout page={page} title="Forgot your password?">
      <Notice notice={notice} />
      <FormErrorSummary form={form} />
      <p>
        Students: enter the email you registered with. We send a one-time code by SMS to your
        registered mobile number; with it you choose a new password.
      </p>
      <p>Admins: ask another admin to set a new password for you (Admins page).</p>
      <form method="post" action="/password/forgot" class="card narrow" novalidate>
        <CsrfField token={page.csrfToken} />
        <Field
          form={form}
          name="email"
          label="Email"
          type="email"
          required
          autocomplete="username"
        />
        <button type="submit">Send me a code</button>
      </form>
      <p>
        <a href="/login">Back to log in</a>
      </p>
    </Layout>
  );
}

/**
 * A local trial's reset page (local-trial.ts): SMS are captured, so the code is shown here, and
 * the page says so plainly.
 */
function LocalTrialCode({ code }: { code: string | null }) {
  return (
    <p class="flash flash-info" role="status" data-testid="local-trial-code" safe>
      {`Local trial: SMS are captured on this server, not sent to phones. ${
        code === null
          ? "No live code was captured for this email."
          : `Your code is ${code} (it would have come by SMS).`
      }`}
    </p>
  );
}

export function ResetPasswordPage({
  page,
  form,
  notice,
  localTrial,
}: {
  page: PageContext;
  form: FormState;
  notice?: string | undefined;
  /** Set only in a local trial (capture mode, development): the code captured for the email. */
  localTrial?: { code: string | null } | undefined;
}) {
  return (
    <Layout page={page} title="Choose a new password">
      <Notice notice={notice} />
      {localTrial ? <LocalTrialCode code={localTrial.code} /> : null}
      <FormErrorSummary form={form} />
      <p role="status">
        If the email belongs to an approved student account that receives SMS, a 6-digit code is on
        its way to the registered mobile number. It works once, for {RESET_CODE_MINUTES} minutes. No
        SMS? Check the email, <a href="/password/forgot">ask for a new code</a>, or contact the
        placement office (also if you turned SMS off).
      </p>
      <p id="reset-after-phone-change">
        If your mobile number changed in the last {RESET_AFTER_PHONE_CHANGE_HOURS} hours, no code is
        sent: contact the placement office.
      </p>
      <form method="post" action="/password/reset" class="card narrow" novalidate>
        <CsrfField token={page.csrfToken} />
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
          name="code"
          label="Code from the SMS"
          required
          inputmode="numeric"
          autocomplete="one-time-code"
        />
        <NewPasswordFields form={form} />
        <button type="submit">Set the new password</button>
      </form>
    </Layout>
  );
}

export function ChangePasswordPage({
  page,
  form,
  action,
}: {
  page: PageContext;
  form: FormState;
  action: string;
}) {
  return (
    <Layout page={page} title="Change your password">
      <FormErrorSummary form={form} />
      <p>Your other sessions (other browsers and devices) are logged out when it changes.</p>
      <form method="post" action={action} class="card narrow" novalidate>
        <CsrfField token={page.csrfToken} />
        <Field
          form={form}
          name="current_password"
          label="Current password"
          type="password"
          required
          autocomplete="current-password"
        />
        <NewPasswordFields form={form} />
        <button type="submit">Change the password</button>
      </form>
    </Layout>
  );
}

export function SetAdminPasswordPage({
  page,
  form,
  admin,
}: {
  page: PageContext;
  form: FormState;
  admin: { id: number; email: string };
}) {
  return (
    <Layout page={page} title={`New password for ${admin.email}`}>
      <FormErrorSummary form={form} />
      <p>
        For an admin who forgot their password. Tell them the new one in person or by phone; their
        open sessions are logged out. The change is recorded in the audit log.
      </p>
      <form
        method="post"
        action={`/admin/admins/${String(admin.id)}/password`}
        class="card narrow"
        novalidate
      >
        <CsrfField token={page.csrfToken} />
        <NewPasswordFields form={form} />
        <button type="submit">Set the password</button>
      </form>
      <p>
        <a href="/admin/admins">Back to the admins</a>
      </p>
    </Layout>
  );
}

export function AdminsPage({
  page,
  admins,
  me,
  form,
}: {
  page: PageContext;
  admins: { id: number; email: string; created_at: string; last_login_at: string | null }[];
  me: number | undefined;
  form: FormState;
}) {
  return (
    <Layout page={page} title="Admins">
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Added</th>
              <th scope="col">Last login</th>
              <th scope="col">Password</th>
            </tr>
          </thead>
          <tbody>
            {admins.map((a) => (
              <tr>
                <td safe>{a.email}</td>
                <td safe>{formatDateTime(a.created_at)}</td>
                <td safe>{formatDateTime(a.last_login_at)}</td>
                <td>
                  {a.id === me ? (
                    <a href="/admin/password">Change your password</a>
                  ) : (
                    <a
                      href={`/admin/admins/${String(a.id)}/password`}
                      aria-label={`Set a new password for ${a.email}`}
                    >
                      Set a new password
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Add an admin</h2>
      <form method="post" action="/admin/admins" class="card narrow" novalidate>
        <CsrfField token={page.csrfToken} />
        <FormErrorSummary form={form} />
        <Field form={form} name="email" label="Email" type="email" required autocomplete="off" />
        <NewPasswordFields
          form={form}
          label="Password"
          hint="At least 8 characters. Tell it to the new admin in person or by phone."
        />
        <button type="submit">Add the admin</button>
      </form>
    </Layout>
  );
}
