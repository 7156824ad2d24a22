import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { describePolicy, type PlacementPolicy } from "../placement/policy.ts";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import { emptyForm, Field, FormErrorSummary, type FormState } from "../web/components.tsx";
import { ConfirmPage, echoFields, isBack, isConfirmed } from "../web/confirm.tsx";
import { formatNumber, plural } from "../web/format.ts";
import { formValues } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { orEmpty, wholeNumberParam } from "../web/schemas.ts";
import { formatDateTime } from "../web/time.ts";
import {
  PACKAGE_MULTIPLE,
  parseBase,
  parsePolicyForm,
  policyFormValues,
  TIER_ROWS,
  ticked,
  tierFromField,
  tierNameField,
} from "./form.ts";
import {
  type EffectExample,
  type EffectSide,
  POLICY_YEARS,
  type PolicyEffect,
  type PolicyYear,
  policyEffect,
  policyYear,
  policyYears,
  removePolicy,
  type StoredPolicy,
  samePolicy,
  savePolicy,
  storedPolicy,
} from "./service.ts";

const NO_POLICY = "No policy: placed students may apply to everything";

function PolicyWords({ policy }: { policy: PlacementPolicy | undefined }) {
  if (!policy) return <p>{`${NO_POLICY}.`}</p>;
  return (
    <ul class="policy">
      {describePolicy(policy).map((line) => (
        <li safe>{line}</li>
      ))}
    </ul>
  );
}

function SetBy({ stored }: { stored: StoredPolicy }) {
  return (
    <small class="hint" safe>
      {`${stored.updatedBy ? `Set by ${stored.updatedBy}` : "Set"} on ${formatDateTime(stored.updatedAt)}`}
    </small>
  );
}

function PoliciesPage({ page, years }: { page: PageContext; years: PolicyYear[] }) {
  return (
    <Layout page={page} title="Placement policy">
      <p>
        One policy per graduation year: how many offers a student may hold accepted, the tiers by
        package, what a student at that limit may still apply to, whether declining an accepted
        offer ends campus placement, and whether PPO holders take part. A student who holds no
        accepted offer and never declined one after accepting it is never held back by it (a student
        opted out of placement is held back whatever it says). Every change shows its effect on the
        open jobs before it applies, and is recorded in the audit log.
      </p>
      {years.length === 0 ? (
        <p class="empty">No students yet.</p>
      ) : (
        <section class="table-wrap" aria-label="Placement policy by graduation year" tabindex="0">
          <table>
            <thead>
              <tr>
                <th scope="col">Graduation year</th>
                <th scope="col">Students</th>
                <th scope="col">Policy</th>
                <th scope="col">
                  <span class="visually-hidden">Change</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {years.map((y) => (
                <tr>
                  <th scope="row" safe>
                    {String(y.year)}
                  </th>
                  <td>
                    <span safe>{`${formatNumber(y.students)} approved`}</span>
                    <small class="hint" safe>
                      {`${formatNumber(y.placed)} holding an accepted offer or having declined one after accepting it`}
                    </small>
                  </td>
                  <td>
                    <PolicyWords policy={y.stored?.policy} />
                    {y.stored ? <SetBy stored={y.stored} /> : null}
                  </td>
                  <td>
                    <a href={`/admin/policies/${y.year}`} safe>
                      {y.stored ? `Change the ${y.year} policy` : `Set a policy for ${y.year}`}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <form method="get" action="/admin/policies" class="filters" aria-label="Another year">
        <label>
          Another graduation year{" "}
          <input
            type="number"
            name="year"
            min={String(POLICY_YEARS.min)}
            max={String(POLICY_YEARS.max)}
            inputmode="numeric"
            required
          />
        </label>
        <button type="submit">Open its policy</button>
      </form>
    </Layout>
  );
}

/** A small field of the tier table: its input and, beside it, its error. */
function TierInput({
  form,
  name,
  label,
  numeric,
}: {
  form: FormState;
  name: string;
  label: string;
  numeric?: boolean;
}) {
  const error = form.errors[name];
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={`f-${name}`} class="visually-hidden" safe>
        {label}
      </label>
      <input
        id={`f-${name}`}
        name={name}
        type={numeric ? "number" : "text"}
        value={form.values[name] ?? ""}
        inputmode={numeric ? "decimal" : undefined}
        step={numeric ? "0.01" : undefined}
        min={numeric ? "0" : undefined}
        maxlength={numeric ? undefined : "40"}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `f-${name}-error` : undefined}
      />
      {error ? (
        <small id={`f-${name}-error`} class="error" safe>
          {error}
        </small>
      ) : null}
    </div>
  );
}

const CHOICES = [
  { value: "none", label: "Nothing more: campus placement ends for them" },
  {
    value: "higher_tier",
    label: "Only jobs in a higher tier than their best accepted offer (an upgrade)",
  },
  { value: "multiple", label: "Only jobs paying at least N times their best accepted package" },
] as const;

function PolicyPage({
  page,
  year,
  stored,
  form,
  conflict,
}: {
  page: PageContext;
  year: number;
  stored: StoredPolicy | null;
  form: FormState;
  /** Another change came first: said above the form. */
  conflict?: string | undefined;
}) {
  const action = `/admin/policies/${year}`;
  const choice = form.values.placed_may_apply ?? "";
  return (
    <Layout page={page} title={`Placement policy of the ${year} batch`}>
      {conflict ? (
        <p class="flash flash-error" role="alert" safe>
          {conflict}
        </p>
      ) : null}
      <FormErrorSummary form={form} />
      <section aria-labelledby="in-force">
        <h2 id="in-force">In force now</h2>
        <PolicyWords policy={stored?.policy} />
        {stored ? <SetBy stored={stored} /> : null}
      </section>
      <form method="post" action={action} class="card" novalidate>
        <CsrfField token={page.csrfToken} />
        <input type="hidden" name="base_updated_at" value={form.values.base_updated_at ?? ""} />
        <Field
          form={form}
          name="max_accepted"
          label="Offers a student may hold accepted"
          type="number"
          min="1"
          max="10"
          inputmode="numeric"
          required
          hint="Usually 1. At this many, a student may apply only as the choice below allows."
        />
        <fieldset class="checks">
          <legend>Tiers by package</legend>
          <small class="hint">
            Lowest first, each from a package in lakh a year (LPA); the first from 0. A job's tier
            is read from the top of its package. Leave a row blank to leave it out.
          </small>
          <table class="tiers">
            <thead>
              <tr>
                <th scope="col">Tier name</th>
                <th scope="col">From (LPA)</th>
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: TIER_ROWS }, (_, i) => i + 1).map((row) => (
                <tr>
                  <td>
                    <TierInput form={form} name={tierNameField(row)} label={`Tier ${row}: name`} />
                  </td>
                  <td>
                    <TierInput
                      form={form}
                      name={tierFromField(row)}
                      label={`Tier ${row}: from, in LPA`}
                      numeric
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {form.errors.tiers ? (
            <small id="f-tiers-error" class="error" safe>
              {form.errors.tiers}
            </small>
          ) : null}
        </fieldset>
        <fieldset class="checks">
          <legend>A student at that limit may still apply to</legend>
          {CHOICES.map((c) => (
            <label class="check">
              <input
                type="radio"
                name="placed_may_apply"
                value={c.value}
                checked={choice === c.value}
              />{" "}
              <span>{c.label}</span>
            </label>
          ))}
          {form.errors.placed_may_apply ? (
            <small id="f-placed_may_apply-error" class="error" safe>
              {form.errors.placed_may_apply}
            </small>
          ) : null}
          <Field
            form={form}
            name="package_multiple"
            label="N, for the last choice"
            type="number"
            step="0.01"
            min={String(PACKAGE_MULTIPLE.min)}
            max={String(PACKAGE_MULTIPLE.max)}
            inputmode="decimal"
            hint="From 1 to 10, decimals allowed: 1.5 opens jobs paying half as much again."
          />
        </fieldset>
        <label class="check">
          <input
            type="checkbox"
            name="block_on_decline"
            checked={ticked(form.values, "block_on_decline")}
          />{" "}
          <span>Declining an offer after accepting it ends campus placement</span>
        </label>
        <label class="check">
          <input
            type="checkbox"
            name="ppo_in_campus"
            checked={ticked(form.values, "ppo_in_campus")}
          />{" "}
          <span>
            Students who accepted a pre-placement offer (PPO) take part in campus placement
          </span>
        </label>
        <div class="buttons">
          <button type="submit">Preview the change</button>
        </div>
      </form>
      {stored ? (
        <form method="post" action={`${action}/remove`} class="inline">
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="base_updated_at" value={stored.updatedAt} />
          <button type="submit" class="danger" safe>
            {`Remove the ${year} policy…`}
          </button>
        </form>
      ) : null}
      <p>
        <a href="/admin/policies">Back to the policies</a>
      </p>
    </Layout>
  );
}

function Examples({ side, caption, why }: { side: EffectSide; caption: string; why: string }) {
  if (side.examples.length === 0) return null;
  return (
    // Scrolls sideways on a phone: focusable, so a keyboard can scroll it too.
    <section class="table-wrap" aria-label={caption} tabindex="0">
      <table>
        <caption safe>
          {side.students > side.examples.length
            ? `${caption} (${side.examples.length} of ${formatNumber(side.students)})`
            : caption}
        </caption>
        <thead>
          <tr>
            <th scope="col">Roll number</th>
            <th scope="col">Name</th>
            <th scope="col">Job</th>
            <th scope="col" safe>
              {why}
            </th>
          </tr>
        </thead>
        <tbody>
          {side.examples.map((e: EffectExample) => (
            <tr>
              <td safe>{e.rollNumber}</td>
              <td safe>{e.name}</td>
              <td safe>{e.job}</td>
              <td safe>{e.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** "This change makes 214 students ineligible for 37 open jobs and 12 students eligible again for 5 jobs." */
function effectSentence(effect: PolicyEffect): string {
  const { ineligible: lost, eligibleAgain: gained } = effect;
  const losing = `${plural(lost.students, "student")} ineligible for ${plural(lost.jobs, "open job")}`;
  const gaining = `${plural(gained.students, "student")} eligible again for ${plural(gained.jobs, "job")}`;
  if (lost.students > 0 && gained.students > 0)
    return `This change makes ${losing} and ${gaining}.`;
  if (lost.students > 0) return `This change makes ${losing}, and nobody eligible again.`;
  if (gained.students > 0)
    return `This change makes ${gaining}, and nobody ineligible for an open job.`;
  return "This change makes nobody ineligible for an open job, and nobody eligible again.";
}

function EffectOf({
  year,
  before,
  after,
  effect,
}: {
  year: number;
  before: PlacementPolicy | undefined;
  after: PlacementPolicy | undefined;
  effect: PolicyEffect;
}) {
  return (
    <>
      <h3>The policy now</h3>
      <PolicyWords policy={before} />
      <h3>After this change</h3>
      <PolicyWords policy={after} />
      <p id="effect">
        <strong safe>{effectSentence(effect)}</strong>
      </p>
      <p class="hint" safe>
        {`Worked out over the ${plural(effect.openJobs, "open job")} taking applications and the ${plural(effect.studentsRead, "approved student")} of the ${year} batch who hold an accepted offer or declined one: the policy holds back nobody else. Applications already made stay as they are.`}
      </p>
      <Examples
        side={effect.ineligible}
        caption="No longer eligible"
        why="Why, under the new policy"
      />
      <Examples
        side={effect.eligibleAgain}
        caption="Eligible again"
        why="Why they could not apply until now"
      />
    </>
  );
}

/** The message when another change of the year's policy came first. */
function conflictMessage(year: number, current: StoredPolicy | null): string {
  const who = current
    ? `${current.updatedBy ?? "another admin"} changed it on ${formatDateTime(current.updatedAt)}`
    : "another admin removed it";
  return `Nothing was saved: the ${year} policy changed after you opened this form (${who}). The policy in force now is shown below, with your values kept in the form: check them and preview again.`;
}

/**
 * /admin/policies: the placement policy of each graduation year. A change is previewed on a
 * confirmation page (who it makes ineligible for which open job, and who eligible again) and
 * applies only when confirmed, if nobody changed the year's policy meanwhile.
 */
export async function adminPolicyRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: { year?: number | "" } }>(
    "/policies",
    {
      schema: {
        querystring: {
          type: "object",
          properties: { year: orEmpty(wholeNumberParam(POLICY_YEARS.min, POLICY_YEARS.max)) },
        },
      },
    },
    async (request, reply) => {
      if (typeof request.query.year === "number")
        return reply.redirect(`/admin/policies/${request.query.year}`, 303);
      return reply.html(
        <PoliciesPage page={pageContext(request, reply)} years={await policyYears(ctx)} />,
      );
    },
  );

  function policyPage(
    request: FastifyRequest,
    reply: FastifyReply,
    year: number,
    stored: StoredPolicy | null,
    form: FormState | null,
    status = 200,
    conflict?: string,
  ) {
    const values = form?.values ?? {
      ...policyFormValues(stored?.policy),
      base_updated_at: stored?.updatedAt ?? "",
    };
    return reply
      .code(status)
      .html(
        <PolicyPage
          page={pageContext(request, reply)}
          year={year}
          stored={stored}
          form={{ ...(form ?? emptyForm), values }}
          conflict={conflict}
        />,
      );
  }

  /** The form again as it was sent, told that another change came first, carrying that one's time. */
  function conflictPage(
    request: FastifyRequest,
    reply: FastifyReply,
    year: number,
    current: StoredPolicy | null,
    body: unknown,
    keepValues: boolean,
  ) {
    const values = keepValues ? formValues(body) : policyFormValues(current?.policy);
    values.base_updated_at = current?.updatedAt ?? "";
    return policyPage(
      request,
      reply,
      year,
      current,
      { values, errors: {} },
      409,
      conflictMessage(year, current),
    );
  }

  // The page: a year written plainly, or a 400 like any other id in an address.
  app.get<{ Params: { year: number } }>(
    "/policies/:year",
    {
      schema: {
        params: {
          type: "object",
          properties: { year: wholeNumberParam(POLICY_YEARS.min, POLICY_YEARS.max) },
          required: ["year"],
        },
      },
    },
    async (request, reply) =>
      policyPage(
        request,
        reply,
        request.params.year,
        await storedPolicy(ctx, request.params.year),
        null,
      ),
  );

  // The forms read the year themselves (anything but a plain year: 404): a params schema would
  // answer 400 before the CSRF check's 403.
  app.post<{ Params: { year: string } }>("/policies/:year", async (request, reply) => {
    const year = policyYear(request.params.year);
    if (year === null) return reply.callNotFound();
    const body = request.body ?? {};
    const stored = await storedPolicy(ctx, year);
    if (isBack(body))
      return policyPage(request, reply, year, stored, { values: formValues(body), errors: {} });
    const parsed = parsePolicyForm(body, year);
    if (!parsed.ok)
      return policyPage(
        request,
        reply,
        year,
        stored,
        { values: parsed.values, errors: parsed.errors },
        400,
      );
    const base = parseBase((body as Record<string, unknown>).base_updated_at);
    if (base === null || base !== (stored?.updatedAt ?? ""))
      return conflictPage(request, reply, year, stored, body, true);
    const after = parsed.data;
    if (samePolicy(stored?.policy, after)) {
      flash(request, "info", `That is the ${year} policy in force already: nothing changed.`);
      return reply.redirect(`/admin/policies/${year}`, 303);
    }
    if (!isConfirmed(body)) {
      const effect = await policyEffect(ctx, year, stored?.policy, after);
      request.log.debug({ year, ms: Math.round(effect.ms) }, "placement policy preview");
      return reply.html(
        <ConfirmPage
          page={pageContext(request, reply)}
          title={`${stored ? "Change" : "Set"} the placement policy of the ${year} batch?`}
          action={`/admin/policies/${year}`}
          fields={echoFields(body)}
          confirmLabel={stored ? "Change the policy" : "Set the policy"}
          cancelHref={`/admin/policies/${year}`}
          cancelLabel="Back to the form"
          cancelPostsBack
          sms={<p>Nobody gets an SMS.</p>}
        >
          <EffectOf year={year} before={stored?.policy} after={after} effect={effect} />
        </ConfirmPage>,
      );
    }
    const result = await savePolicy(ctx, currentActor(request), after, base === "" ? null : base);
    if (!result.ok) return conflictPage(request, reply, year, result.current, body, true);
    flash(
      request,
      "success",
      `The placement policy of the ${year} batch is ${stored ? "changed" : "set"}.`,
    );
    return reply.redirect("/admin/policies", 303);
  });

  app.post<{ Params: { year: string } }>("/policies/:year/remove", async (request, reply) => {
    const year = policyYear(request.params.year);
    if (year === null) return reply.callNotFound();
    const body = request.body ?? {};
    const stored = await storedPolicy(ctx, year);
    if (!stored) {
      // Removed (or never set) after the page carrying a time was shown: another change came first.
      if (parseBase((body as Record<string, unknown>).base_updated_at))
        return conflictPage(request, reply, year, null, body, false);
      flash(request, "info", `The ${year} batch has no placement policy to remove.`);
      return reply.redirect(`/admin/policies/${year}`, 303);
    }
    const base = parseBase((body as Record<string, unknown>).base_updated_at);
    if (base !== stored.updatedAt) return conflictPage(request, reply, year, stored, body, false);
    if (!isConfirmed(body)) {
      const effect = await policyEffect(ctx, year, stored.policy, undefined);
      return reply.html(
        <ConfirmPage
          page={pageContext(request, reply)}
          title={`Remove the placement policy of the ${year} batch?`}
          action={`/admin/policies/${year}/remove`}
          fields={{ base_updated_at: stored.updatedAt }}
          confirmLabel="Remove the policy"
          cancelHref={`/admin/policies/${year}`}
          sms={<p>Nobody gets an SMS.</p>}
        >
          <EffectOf year={year} before={stored.policy} after={undefined} effect={effect} />
        </ConfirmPage>,
      );
    }
    const result = await removePolicy(ctx, currentActor(request), year, stored.updatedAt);
    if (!result.ok) return conflictPage(request, reply, year, result.current, body, false);
    flash(request, "success", `The placement policy of the ${year} batch is removed.`);
    return reply.redirect("/admin/policies", 303);
  });
}
