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

/** The field a "Cancel" carries when it posts the form back (`cancelPostsBack`). */
export const BACK_FIELD = "back";

/** Whether this post is a confirmation page's Cancel, asking for its form again as it was typed. */
export function isBack(body: unknown): boolean {
  return (body as Record<string, unknown> | undefined)?.[BACK_FIELD] === "yes";
}

/**
 * A posted form's fields, to be sent again through a confirmation page: every text field and
 * checkbox group as it came (the CSRF token and the confirmation's own fields aside).
 */
export function echoFields(body: unknown): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  if (typeof body !== "object" || body === null) return fields;
  for (const [name, value] of Object.entries(body)) {
    if (name === "_csrf" || name === CONFIRM_FIELD || name === BACK_FIELD) continue;
    if (typeof value === "string") fields[name] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === "string"))
      fields[name] = value;
  }
  return fields;
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
  cancelPostsBack = false,
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
  /**
   * Cancel posts the fields back to `action` with `back=yes` (see isBack) instead of following
   * `cancelHref`, so that the form it came from is shown again with everything typed.
   */
  cancelPostsBack?: boolean;
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
          {cancelPostsBack ? (
            <button
              type="submit"
              name={BACK_FIELD}
              value="yes"
              class="secondary"
              id="cancel"
              formnovalidate
              safe
            >
              {cancelLabel}
            </button>
          ) : (
            <a href={cancelHref} class="button secondary" id="cancel" safe>
              {cancelLabel}
            </a>
          )}
          <button type="submit" class="danger" id="confirm" safe>
            {confirmLabel}
          </button>
        </form>
      </section>
    </Layout>
  );
}
