import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import { emptyForm, Field, FormErrorSummary, type FormState } from "../web/components.tsx";
import { formValues, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import type { LimitSetting } from "../web/limits.ts";
import { type PageContext, pageContext } from "../web/page.ts";
import { formatDateTime } from "../web/time.ts";
import { type LimitRow, limitEditSchema, limitInWords, listLimits, saveLimit } from "./service.ts";

function InForce({ row }: { row: LimitRow }) {
  return (
    <>
      <span safe>{limitInWords(row.current)}</span>
      {row.changed ? (
        <small class="hint" safe>
          {`Set by ${row.changed.by} on ${formatDateTime(row.changed.at)}`}
        </small>
      ) : (
        <small class="hint">The default</small>
      )}
    </>
  );
}

function LimitsPage({ page, rows }: { page: PageContext; rows: LimitRow[] }) {
  const areas = [...new Set(rows.map((r) => r.setting.area))];
  return (
    <Layout page={page} title="Limits">
      <p>
        The portal refuses an attempt (a login, a reset code, a registration) once this many were
        made in the window before it, and says how long to wait. The counts are kept in the
        database, so every web process counts the same; a change holds from the next attempt, and is
        recorded in the audit log.
      </p>
      {areas.map((area) => (
        <section>
          <h2 safe>{area}</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Limit</th>
                  <th scope="col">In force</th>
                  <th scope="col">Default</th>
                  <th scope="col">
                    <span class="visually-hidden">Change</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows
                  .filter((r) => r.setting.area === area)
                  .map((row) => (
                    <tr>
                      <td>
                        <strong safe>{row.setting.title}</strong>
                        <small class="hint" safe>
                          {row.setting.about}
                        </small>
                      </td>
                      <td>
                        <InForce row={row} />
                      </td>
                      <td safe>{limitInWords(row.setting.default)}</td>
                      <td>
                        <a href={`/admin/limits/${row.setting.name}`}>
                          Change<span class="visually-hidden" safe>{` ${row.setting.title}`}</span>
                        </a>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </Layout>
  );
}

function LimitPage({ page, row, form }: { page: PageContext; row: LimitRow; form: FormState }) {
  const { setting } = row;
  const action = `/admin/limits/${setting.name}`;
  return (
    <Layout page={page} title={`Limit: ${setting.title}`}>
      <FormErrorSummary form={form} />
      <p safe>{setting.about}</p>
      <p>
        In force: <InForce row={row} />
      </p>
      <form method="post" action={action} class="card narrow" novalidate>
        <CsrfField token={page.csrfToken} />
        <Field
          form={form}
          name="max"
          label="Attempts allowed"
          type="number"
          required
          inputmode="numeric"
          hint="The attempt after this many is refused until the oldest leaves the window."
        />
        <Field
          form={form}
          name="window_minutes"
          label="Window, in minutes"
          type="number"
          required
          inputmode="numeric"
          hint="60 is an hour, 1440 a day (the longest: events are kept a day)."
        />
        <button type="submit">Save</button>
      </form>
      {row.changed ? (
        <form method="post" action={action} class="inline">
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="max" value={String(setting.default.max)} />
          <input
            type="hidden"
            name="window_minutes"
            value={String(setting.default.windowSeconds / 60)}
          />
          <button type="submit" class="secondary" safe>
            {`Back to the default: ${limitInWords(setting.default)}`}
          </button>
        </form>
      ) : null}
      <p>
        <a href="/admin/limits">Back to the limits</a>
      </p>
    </Layout>
  );
}

/**
 * /admin/limits: every limit the features declared (handed over by src/app.ts), its value in
 * force and its default; an admin changes one on its own page.
 */
export async function limitRoutes(
  app: FastifyInstance,
  options: { settings: readonly LimitSetting[] },
) {
  const ctx = app.ctx;
  const byName = new Map(options.settings.map((s) => [s.name, s]));
  app.addHook("onRequest", requireRole("admin"));

  app.get("/limits", async (request, reply) =>
    reply.html(
      <LimitsPage
        page={pageContext(request, reply)}
        rows={await listLimits(ctx, options.settings)}
      />,
    ),
  );

  async function limitPage(
    request: FastifyRequest,
    reply: FastifyReply,
    setting: LimitSetting,
    form: FormState | null,
    status = 200,
  ) {
    const [row] = await listLimits(ctx, [setting]);
    const values = {
      max: String(row!.current.max),
      window_minutes: String(row!.current.windowSeconds / 60),
    };
    return reply
      .code(status)
      .html(
        <LimitPage
          page={pageContext(request, reply)}
          row={row!}
          form={form ?? { ...emptyForm, values }}
        />,
      );
  }

  // The name is only ever looked up among the limits (unknown: 404), so any string is safe; no
  // params schema, which would answer 400 before the CSRF check's 403.
  app.get<{ Params: { name: string } }>("/limits/:name", async (request, reply) => {
    const setting = byName.get(request.params.name);
    if (!setting) return reply.callNotFound();
    return limitPage(request, reply, setting, null);
  });

  app.post<{ Params: { name: string } }>("/limits/:name", async (request, reply) => {
    const setting = byName.get(request.params.name);
    if (!setting) return reply.callNotFound();
    const parsed = parseForm(limitEditSchema, request.body);
    if (!parsed.ok)
      return limitPage(
        request,
        reply,
        setting,
        { values: formValues(request.body), errors: parsed.errors },
        422,
      );
    const value = { max: parsed.data.max, windowSeconds: parsed.data.window_minutes * 60 };
    const changed = await saveLimit(ctx, currentActor(request), setting, value);
    flash(
      request,
      changed ? "success" : "info",
      changed ? `${setting.title}: now ${limitInWords(value)}.` : "Nothing changed.",
    );
    return reply.redirect("/admin/limits", 303);
  });
}
