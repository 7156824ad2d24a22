import type { PropsWithChildren } from "@kitajs/html";
import { CsrfField, Layout } from "./layout.tsx";
import type { PageContext } from "./page.ts";

/**
 * The confirmation step of an irreversible action: a page (no script needed) that says what will
 * happen and who gets an SMS, then posts the same form again with `confirm=yes`. The route acts
 * only on that confirmed post; an unconfirmed one renders this page instead.
 */

/** The field a confirmed post carries. */
export const CONFIRM_FIELD = "confirm";

export function isConfirmed(body: unknown): boolean {
  return (body as Record<string, unknown> | undefined)?.[CONFIRM_FIELD] === "yes";
}

export function ConfirmPage({
  page,
  title,
  action,
  fields,
  sms,
  inputs,
  confirmLabel,
  cancelHref,
  cancelLabel = "Cancel",
  children,
}: PropsWithChildren<{
  page: PageContext;
  title: string;
  /** Where the confirmed form posts (the same route as the unconfirmed one). */
  action: string;
  /** The form's own fields, sent again unchanged. */
  fields: Record<string, string | number | readonly (string | number)[] | undefined>;
  /** Who gets an SMS, in one or a few paragraphs; "Nobody gets an SMS." when none. */
  sms: JSX.Element;
  /** Fields the admin fills in on this page before confirming (a required reason), if any. */
  inputs?: JSX.Element;
  confirmLabel: string;
  cancelHref: string;
  /** The way back without acting; say it otherwise where the action itself is a cancelling. */
  cancelLabel?: string;
}>) {
  const hidden = Object.entries(fields).flatMap(([name, value]) =>
    value === undefined
      ? []
      : (Array.isArray(value) ? value : [value]).map((v) => [name, String(v)]),
  );
  return (
    <Layout page={page} title={title}>
      <section class="card confirm" aria-labelledby="confirm-what">
        <h2 id="confirm-what">What will happen</h2>
        {children}
        <h2>SMS</h2>
        <div class="confirm-sms">{sms}</div>
        <form method="post" action={action} class="confirm-buttons" name="confirm">
          <CsrfField token={page.csrfToken} />
          {inputs ? <div class="confirm-inputs">{inputs}</div> : null}
          {hidden.map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <input type="hidden" name={CONFIRM_FIELD} value="yes" />
          <a href={cancelHref} class="button secondary" id="cancel" safe>
            {cancelLabel}
          </a>
          <button type="submit" class="danger" id="confirm" safe>
            {confirmLabel}
          </button>
        </form>
      </section>
    </Layout>
  );
}
