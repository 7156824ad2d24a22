import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { recordAudit } from "../audit/service.ts";
import { lockKeys } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";
import { countSegments } from "../sms/encoding.ts";
import {
  currentTemplateVersion,
  currentTemplateVersions,
  type DltSettings,
  readDltSettings,
  saveDltSettings,
  saveTemplateVersion,
  type TemplateVersion,
  templateHistory,
} from "../sms/template-store.ts";
import {
  checkTemplateText,
  type SmsTemplate,
  sampleValues,
  type TemplateVariable,
} from "../sms/templates.ts";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import {
  Field,
  FormErrorSummary,
  type FormState,
  formatDateTime,
  TextAreaField,
} from "../web/components.tsx";
import { pluralWord } from "../web/format.ts";
import { blankAsNull, type FieldErrors, parseForm, textField } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";

/**
 * The office's SMS texts: `/admin/sms/templates` lists every template with its current version
 * and the sender's DLT ids; `/admin/sms/templates/:id` edits one (text and DLT template id), with
 * a preview from sample values and the version history. The templates come from the features:
 * app.ts, the one module that knows them all, hands them over.
 */

export interface TemplateRoutesOptions {
  templates: readonly SmsTemplate[];
}

/**
 * DLT ids are 19-digit numbers: the template ids the DLT portals (Jio, Airtel, Vi, BSNL...)
 * issue and the principal entity id alike.
 */
const DLT_ID = /^[0-9]{19}$/;

function dltIdField(what: string) {
  return blankAsNull(
    textField({ label: what, max: 40 }).refine((v) => DLT_ID.test(v), {
      message: `A DLT ${what} is 19 digits, as the DLT portal shows it (such as 1107161234567890123); leave it blank if it is not registered yet.`,
    }),
  );
}

/** A sender id (header) for service and transactional SMS: 6 letters, such as PLCOFF. */
const HEADER = /^[A-Za-z]{6}$/;

const templateEditSchema = z.object({
  text: textField({ label: "the text of the SMS", max: 1000 }),
  dlt_template_id: dltIdField("template id"),
  base_version: z
    .string({ message: "The form came without its version: open the template again." })
    .regex(/^[0-9]{1,9}$/, {
      message: "The form came without its version: open the template again.",
    })
    .transform(Number),
  action: z.enum(["preview", "save"]).optional().default("save"),
});

const dltSettingsSchema = z.object({
  entity_id: dltIdField("entity id"),
  header: blankAsNull(
    textField({ label: "the sender id", max: 20 }).refine((v) => HEADER.test(v), {
      message:
        "A sender id (header) for service and transactional SMS is 6 letters, such as PLCOFF.",
    }),
  ).transform((v) => (v === null ? null : v.toUpperCase())),
});

function Variables({ template }: { template: SmsTemplate }) {
  return (
    <ul class="small">
      {Object.entries<TemplateVariable>(template.variables).map(([name, v]) => (
        <li>
          <code safe>{`{${name}}`}</code>{" "}
          <span
            safe
          >{`${v.about}${v.cut ? " (cut with ... when the SMS would be too long)" : ""}`}</span>
        </li>
      ))}
    </ul>
  );
}

function Preview({ template, text }: { template: SmsTemplate; text: string }) {
  // A text with an error cannot be filled in: it is shown as typed, never the saved one instead.
  if (!checkTemplateText(template, text).ok)
    return (
      <section class="card" aria-label="Preview">
        <h2>Preview</h2>
        <p class="hint">
          Your text, as typed: it is filled in with sample values once the error above is corrected.
        </p>
        <p class="pre" data-testid="preview-body" safe>
          {text}
        </p>
      </section>
    );
  const body = template.render(sampleValues(template), text);
  const { encoding, segments, characters } = countSegments(body);
  return (
    <section class="card" aria-label="Preview">
      <h2>Preview with sample values</h2>
      <p class="pre" data-testid="preview-body" safe>
        {body}
      </p>
      <p class="hint" data-testid="preview-count" safe>
        {`${encoding}${encoding === "UCS-2" ? " (Unicode: 70 characters a segment, 67 when split)" : ""}, ${characters} ${pluralWord(characters, "character")}, ${segments} ${pluralWord(segments, "segment")} (at most ${template.maxSegments}).`}
      </p>
    </section>
  );
}

function editedWords(v: TemplateVersion): string {
  return v.createdBy
    ? `${v.createdBy}, ${formatDateTime(v.createdAt)}`
    : "Default text (never edited)";
}

function TemplatesPage({
  page,
  templates,
  current,
  dlt,
  dltForm,
}: {
  page: PageContext;
  templates: readonly SmsTemplate[];
  current: Map<string, TemplateVersion>;
  dlt: DltSettings;
  dltForm: FormState;
}) {
  return (
    <Layout page={page} title="SMS templates">
      <p>
        Every SMS the portal sends is one of these texts with its variables filled in. In India each
        must be registered on DLT before operators deliver it: keep each text here the same as its
        registration, and enter the DLT ids.
      </p>
      <FormErrorSummary form={dltForm} />
      <form method="post" action="/admin/sms/templates/dlt" class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        <h2>Sender's DLT registration</h2>
        <Field
          form={dltForm}
          name="entity_id"
          label="DLT entity id (principal entity id)"
          inputmode="numeric"
          value={dlt.entityId ?? ""}
          hint="19 digits, from the DLT portal."
        />
        <Field
          form={dltForm}
          name="header"
          label="Sender id (header)"
          value={dlt.header ?? ""}
          hint="6 letters, such as PLCOFF."
        />
        {dlt.updatedBy ? (
          <p
            class="hint"
            safe
          >{`Last changed by ${dlt.updatedBy}, ${formatDateTime(dlt.updatedAt)}.`}</p>
        ) : null}
        <button type="submit">Save DLT ids</button>
      </form>
      {/* Wider than a phone: the table scrolls in its own box, the page does not. */}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Template</th>
              <th scope="col">Version</th>
              <th scope="col">DLT template id</th>
              <th scope="col">Last edited</th>
              <th scope="col">Text</th>
            </tr>
          </thead>
          <tbody>
            {templates.map((t) => {
              const v = current.get(t.id)!;
              return (
                <tr>
                  <td>
                    <a href={`/admin/sms/templates/${t.id}`} safe>
                      {t.title}
                    </a>
                  </td>
                  <td safe>{String(v.version)}</td>
                  <td safe>{v.dltTemplateId ?? "Not registered"}</td>
                  <td safe>{editedWords(v)}</td>
                  <td class="pre" safe>
                    {v.text}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

function TemplatePage({
  page,
  template,
  current,
  history,
  form,
  preview,
  status = "",
}: {
  page: PageContext;
  template: SmsTemplate;
  current: TemplateVersion;
  history: TemplateVersion[];
  form: FormState;
  /** The text typed (a preview, a form sent back); null: the saved one; false: none can be shown. */
  preview: string | null | false;
  status?: string;
}) {
  return (
    <Layout page={page} title={`SMS template: ${template.title}`}>
      <p>
        <a href="/admin/sms/templates">All SMS templates</a>
      </p>
      {status ? (
        <p class="flash flash-error" role="alert" safe>
          {status}
        </p>
      ) : null}
      <FormErrorSummary form={form} />
      <p
        safe
      >{`Version ${current.version}. At most ${template.maxSegments} ${pluralWord(template.maxSegments, "segment")}. Its variables:`}</p>
      <Variables template={template} />
      {template.whenCut ? (
        <p
          class="hint"
          safe
        >{`When a variable is cut, the SMS ends with: "${template.whenCut.trim()}"`}</p>
      ) : null}
      <form method="post" action={`/admin/sms/templates/${template.id}`} class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        <input
          type="hidden"
          name="base_version"
          value={form.values.base_version ?? String(current.version)}
        />
        <TextAreaField
          form={form}
          name="text"
          label="Text"
          rows={4}
          value={current.text}
          hint="One line; write each variable in braces, as {name}."
        />
        <Field
          form={form}
          name="dlt_template_id"
          label="DLT template id"
          inputmode="numeric"
          value={current.dltTemplateId ?? ""}
          hint="19 digits, from the DLT portal; blank if not registered yet."
        />
        <button type="submit" name="action" value="preview" class="secondary">
          Preview
        </button>{" "}
        <button type="submit" name="action" value="save" safe>
          {`Save as version ${current.version + 1}`}
        </button>
      </form>
      {preview === false ? (
        <section class="card" aria-label="Preview">
          <h2>Preview</h2>
          <p class="hint">No preview: correct the text above first.</p>
        </section>
      ) : (
        <Preview template={template} text={preview ?? current.text} />
      )}
      <h2>Versions</h2>
      <ul class="versions">
        {history.map((v) => (
          <li>
            <p safe>
              {`Version ${v.version}${v.version === current.version ? " (current)" : ""}: ${editedWords(v)}${v.dltTemplateId ? ` · DLT template id ${v.dltTemplateId}` : ""}`}
            </p>
            <p class="pre" safe>
              {v.text}
            </p>
          </li>
        ))}
      </ul>
    </Layout>
  );
}

/** Field errors for a text the template cannot use (unknown variable, braces, too long). */
function textErrors(template: SmsTemplate, text: string): FieldErrors {
  const check = checkTemplateText(template, text);
  return check.ok ? {} : { text: check.error ?? "This text cannot be used." };
}

export async function smsTemplateRoutes(app: FastifyInstance, options: TemplateRoutesOptions) {
  const ctx = app.ctx;
  const byId = new Map(options.templates.map((t) => [t.id, t]));
  app.addHook("onRequest", requireRole("admin"));

  async function listPage(page: PageContext, dltForm: FormState) {
    const [current, dlt] = await Promise.all([
      currentTemplateVersions(ctx.db, options.templates),
      readDltSettings(ctx.db),
    ]);
    return (
      <TemplatesPage
        page={page}
        templates={options.templates}
        current={current}
        dlt={dlt}
        dltForm={dltForm}
      />
    );
  }

  app.get("/sms/templates", async (request, reply) =>
    reply.html(await listPage(pageContext(request, reply), { values: {}, errors: {} })),
  );

  app.post("/sms/templates/dlt", async (request, reply) => {
    const parsed = parseForm(dltSettingsSchema, request.body);
    if (!parsed.ok)
      return reply.code(422).html(
        await listPage(pageContext(request, reply), {
          values: parsed.values,
          errors: parsed.errors,
        }),
      );
    const actor = currentActor(request);
    const changed = await inTransaction(ctx.db, async (trx) => {
      // One save at a time: the same form sent twice at once would otherwise read the old ids in
      // both transactions and record the change twice (PostgreSQL).
      await lockKeys(trx, ctx.dialect, ["sms-dlt-settings"]);
      const previous = await saveDltSettings(trx, {
        entityId: parsed.data.entity_id,
        header: parsed.data.header,
        by: actor.email,
        at: ctx.clock.now().toISOString(),
      });
      if (!previous) return false;
      await recordAudit(trx, ctx, actor, {
        action: "sms_dlt.edit",
        subject: "SMS sender's DLT registration",
        details: {
          entityId: { from: previous.entityId, to: parsed.data.entity_id },
          header: { from: previous.header, to: parsed.data.header },
        },
      });
      return true;
    });
    flash(request, changed ? "success" : "info", changed ? "DLT ids saved." : "Nothing changed.");
    return reply.redirect("/admin/sms/templates", 303);
  });

  async function templatePage(
    page: PageContext,
    template: SmsTemplate,
    form: FormState,
    preview: string | null | false,
    status?: string,
  ) {
    const history = await templateHistory(ctx.db, template);
    return (
      <TemplatePage
        page={page}
        template={template}
        current={history[0]!}
        history={history}
        form={form}
        preview={preview}
        status={status ?? ""}
      />
    );
  }

  function find(id: string): SmsTemplate | null {
    return byId.get(id) ?? null;
  }

  app.get<{ Params: { id: string } }>(
    // The id is only ever looked up among the templates (unknown: 404), so any string is safe;
    // no params schema, which would answer 400 before the CSRF check's 403.
    "/sms/templates/:id",
    async (request, reply) => {
      const template = find(request.params.id);
      if (!template) return reply.callNotFound();
      return reply.html(
        await templatePage(pageContext(request, reply), template, { values: {}, errors: {} }, null),
      );
    },
  );

  app.post<{ Params: { id: string } }>("/sms/templates/:id", async (request, reply) => {
    const template = find(request.params.id);
    if (!template) return reply.callNotFound();
    const page = pageContext(request, reply);
    const parsed = parseForm(templateEditSchema, request.body);
    if (!parsed.ok) {
      // Every error at once: the text is also checked as a template when another field failed,
      // and the preview shows the text typed.
      const typed = typeof parsed.values.text === "string" ? parsed.values.text.trim() : null;
      const errors =
        typed !== null && !parsed.errors.text
          ? { ...parsed.errors, ...textErrors(template, typed) }
          : parsed.errors;
      return reply
        .code(422)
        .html(
          await templatePage(
            page,
            template,
            { values: parsed.values, errors },
            parsed.errors.text ? false : typed,
          ),
        );
    }
    const { text, dlt_template_id: dltTemplateId, base_version: baseVersion } = parsed.data;
    // The version the admin started from stays in the form through a preview: a save after it
    // is still checked against that version.
    const values = {
      text,
      dlt_template_id: dltTemplateId ?? "",
      base_version: String(baseVersion),
    };
    const errors = textErrors(template, text);
    if (Object.keys(errors).length > 0)
      return reply.code(422).html(await templatePage(page, template, { values, errors }, text));
    if (parsed.data.action === "preview")
      return reply.html(await templatePage(page, template, { values, errors: {} }, text));

    const actor = currentActor(request);
    const outcome = await inTransaction(ctx.db, async (trx) => {
      const saved = await saveTemplateVersion(trx, template, {
        baseVersion,
        text,
        dltTemplateId,
        by: actor.email,
        at: ctx.clock.now().toISOString(),
      });
      if (saved.outcome === "saved")
        await recordAudit(trx, ctx, actor, {
          action: "sms_template.edit",
          subject: template.title,
          details: {
            template: template.id,
            from: saved.previous.version,
            to: saved.version,
            dltTemplateId,
          },
        });
      return saved;
    });
    if (outcome.outcome === "changed") {
      const current = await currentTemplateVersion(ctx.db, template);
      return reply
        .code(409)
        .html(
          await templatePage(
            page,
            template,
            { values: { ...values, base_version: String(current.version) }, errors: {} },
            text,
            `Not saved: ${current.createdBy ?? "another admin"} saved version ${current.version} while you were editing. Your text is kept below; check the current version and save again.`,
          ),
        );
    }
    flash(
      request,
      outcome.outcome === "saved" ? "success" : "info",
      outcome.outcome === "saved"
        ? `Saved version ${outcome.version} of “${template.title}”. Messages already queued keep their text.`
        : "Nothing changed: this is the current text and DLT template id.",
    );
    return reply.redirect(`/admin/sms/templates/${template.id}`, 303);
  });
}
