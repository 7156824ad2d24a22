import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { OFFER_SOURCES, OFFER_STATUSES } from "../db/schema.ts";
import { jobOr404 } from "../jobs/lookup.ts";
import { formatLpa } from "../placement/policy.ts";
import { currentActor, flash, HttpError, requireRole } from "../web/auth.ts";
import {
  FormErrorSummary,
  type FormState,
  Pagination,
  SelectField,
  TextAreaField,
} from "../web/components.tsx";
import { ConfirmPage, echoFields, isBack, isConfirmed } from "../web/confirm.tsx";
import { jobName, plural } from "../web/format.ts";
import { chosenUpload, formValues, parseForm, textField } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idList, idParams, pageParam } from "../web/schemas.ts";
import { SelectAllBox, SelectAllScript } from "../web/select.tsx";
import { formatDateTime } from "../web/time.ts";
import { sendOfferLetter } from "./letter-reply.ts";
import { offerMadeExample } from "./notices.ts";
import { OfferTerms, OfferTermsFields, offerTermDefaults } from "./pages.tsx";
import {
  ctcOf,
  findOffer,
  listOffers,
  makeLateCampusOffers,
  OFFER_SOURCE_LABELS,
  OFFER_STATUS_LABELS,
  OFFERS_PAGE_SIZE,
  type OfferFilters,
  offerState,
  offersOfJob,
  offerTermsSchema,
  outsideOfferSchema,
  planOutsideOffers,
  putOfferLetter,
  recordOutsideOffers,
  selectedWithoutOffer,
  withdrawOffer,
} from "./service.ts";

/**
 * The office's side of offers: a job's offers and its selected applicants without one, every
 * offer by source and state, pre-placement and off-campus offers for a pasted list of roll
 * numbers, one offer's page (its letter, a withdrawal). Each write asks first on a confirmation
 * page that says who gets which SMS.
 */

const SOURCE_OPTIONS = [
  { value: "ppo", label: OFFER_SOURCE_LABELS.ppo },
  { value: "off_campus", label: OFFER_SOURCE_LABELS.off_campus },
];

function offerSmsExample(
  db: Parameters<typeof offerMadeExample>[0],
  company: string,
  terms: { role: string; fixed_lpa: number; variable_lpa: number; answer_by: string },
) {
  return offerMadeExample(db, {
    company,
    role: terms.role,
    ctc_lpa: ctcOf(terms),
    answer_by: terms.answer_by,
  });
}

export async function adminOfferRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  async function JobOffersPage(
    request: FastifyRequest,
    reply: FastifyReply,
    jobId: number,
    form: FormState,
  ) {
    const job = await jobOr404(ctx, jobId);
    const [offers, waiting] = await Promise.all([
      offersOfJob(ctx, job.id),
      selectedWithoutOffer(ctx, job.id),
    ]);
    const page = pageContext(request, reply);
    const now = ctx.clock.now();
    const values = { ...offerTermDefaults(job, now), ...form.values };
    return (
      <Layout page={page} title={`Offers: ${jobName(job)}`}>
        <p>
          <a href={`/admin/jobs/${job.id}/applicants`}>Applicants</a> ·{" "}
          <a href={`/admin/jobs/${job.id}/rounds`}>Rounds</a> ·{" "}
          <a href="/admin/offers">All offers</a>
        </p>
        <h1 safe>{`Offers: ${jobName(job)}`}</h1>
        {offers.length === 0 ? (
          <p>No offers yet. Selecting an applicant records the offer with the selection.</p>
        ) : (
          <section class="table-wrap" aria-label="The job's offers" tabindex="0">
            <table>
              <caption safe>{plural(offers.length, "offer")}</caption>
              <thead>
                <tr>
                  <th scope="col">Student</th>
                  <th scope="col">Package</th>
                  <th scope="col">Role, location</th>
                  <th scope="col">Answer</th>
                  <th scope="col">Letter</th>
                </tr>
              </thead>
              <tbody>
                {offers.map((o) => {
                  const state = offerState(o, now);
                  return (
                    <tr>
                      <td>
                        <a
                          href={`/admin/offers/${o.id}`}
                          safe
                        >{`${o.full_name} (${o.roll_number})`}</a>
                      </td>
                      <td safe>{formatLpa(o.ctc_lpa)}</td>
                      <td safe>{`${o.role}, ${o.location}`}</td>
                      <td safe>
                        {state === "pending"
                          ? `Awaiting, by ${formatDateTime(o.answer_by)} IST`
                          : OFFER_STATUS_LABELS[state]}
                      </td>
                      <td>{o.letter_size !== null ? "Added" : "—"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        )}
        <section aria-labelledby="late-heading">
          <h2 id="late-heading">Selected, without an offer</h2>
          {waiting.length === 0 ? (
            <p>Every selected applicant of this job holds an offer.</p>
          ) : (
            <form method="post" action={`/admin/jobs/${job.id}/offers`}>
              <CsrfField token={page.csrfToken} />
              <FormErrorSummary form={form} />
              <fieldset>
                <legend>Record offers for</legend>
                <SelectAllBox name="ids" label="All of them" />
                {waiting.map((w) => (
                  <label class="check">
                    <input
                      type="checkbox"
                      name="ids"
                      value={String(w.applicationId)}
                      checked={
                        form.values.ids === undefined ||
                        form.values.ids.includes(String(w.applicationId))
                      }
                    />{" "}
                    <span safe>{`${w.full_name} (${w.roll_number})`}</span>
                  </label>
                ))}
              </fieldset>
              <OfferTermsFields form={{ values, errors: form.errors }} />
              <button type="submit">Record offers…</button>
            </form>
          )}
          <SelectAllScript />
        </section>
      </Layout>
    );
  }

  app.get<{ Params: { id: number } }>(
    "/jobs/:id/offers",
    { schema: { params: idParams } },
    async (request, reply) =>
      reply.html(
        await JobOffersPage(request, reply, request.params.id, { values: {}, errors: {} }),
      ),
  );

  app.post<{ Params: { id: number } }>(
    "/jobs/:id/offers",
    { schema: { params: idParams } },
    async (request, reply) => {
      const job = await jobOr404(ctx, request.params.id);
      const body = request.body as Record<string, unknown>;
      const ids = idList(body?.ids);
      const parsed = parseForm(offerTermsSchema(ctx.clock.now()), body);
      const values = { ...formValues(body), ids: ids.join(",") };
      if (!parsed.ok || ids.length === 0 || isBack(body)) {
        const errors = parsed.ok ? {} : parsed.errors;
        if (ids.length === 0 && !isBack(body)) errors.ids = "Tick at least one student.";
        return reply
          .code(isBack(body) ? 200 : 400)
          .html(await JobOffersPage(request, reply, job.id, { values, errors }));
      }
      if (!isConfirmed(body)) {
        const waiting = (await selectedWithoutOffer(ctx, job.id)).filter((w) =>
          ids.includes(w.applicationId),
        );
        const reachable = waiting.filter((w) => w.sms_opted_out_at === null).length;
        const example = await offerSmsExample(ctx.db, job.company, parsed.data);
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Record ${plural(waiting.length, "offer")} from ${job.company}?`}
            action={`/admin/jobs/${job.id}/offers`}
            fields={echoFields(body)}
            confirmLabel={`Record ${plural(waiting.length, "offer")}`}
            cancelHref={`/admin/jobs/${job.id}/offers`}
            cancelPostsBack
            sms={
              <p
                safe
              >{`${plural(reachable, "student")} will get an SMS: “${example}”, and a reminder a day before the answer time if they have not answered.`}</p>
            }
          >
            <p
              safe
            >{`${parsed.data.role}, ${formatLpa(ctcOf(parsed.data))}, ${parsed.data.location}; answer by ${formatDateTime(parsed.data.answer_by)} IST.`}</p>
            <ul>
              {waiting.map((w) => (
                <li safe>{`${w.full_name} (${w.roll_number})`}</li>
              ))}
            </ul>
          </ConfirmPage>,
        );
      }
      const result = await makeLateCampusOffers(ctx, currentActor(request), job, ids, parsed.data);
      flash(
        request,
        result.made > 0 ? "success" : "error",
        `${plural(result.made, "offer")} recorded${result.skipped > 0 ? `; ${result.skipped} not (no longer selected, or holding an offer already)` : ""}.`,
      );
      return reply.redirect(`/admin/jobs/${job.id}/offers`, 303);
    },
  );

  // ---- Every offer. ----

  app.get<{ Querystring: { source?: string; status?: string; page: number } }>(
    "/offers",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            source: { type: "string", enum: ["", ...OFFER_SOURCES] },
            status: { type: "string", enum: ["", ...OFFER_STATUSES] },
            page: pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const filters: OfferFilters = {
        source: (request.query.source ?? "") as OfferFilters["source"],
        status: (request.query.status ?? "") as OfferFilters["status"],
        page: request.query.page,
      };
      const { rows, total } = await listOffers(ctx, filters);
      const now = ctx.clock.now();
      const form = { values: { source: filters.source, status: filters.status }, errors: {} };
      return reply.html(
        <Layout page={pageContext(request, reply)} title="Offers">
          <h1>Offers</h1>
          <p>
            <a href="/admin/offers/new" class="button">
              Record PPO or off-campus offers
            </a>
          </p>
          <form method="get" action="/admin/offers" class="filters">
            <SelectField
              form={form}
              name="source"
              label="Kind"
              options={[
                { value: "", label: "All" },
                ...OFFER_SOURCES.map((s) => ({ value: s, label: OFFER_SOURCE_LABELS[s] })),
              ]}
            />
            <SelectField
              form={form}
              name="status"
              label="State"
              options={[
                { value: "", label: "All" },
                ...OFFER_STATUSES.map((s) => ({ value: s, label: OFFER_STATUS_LABELS[s] })),
              ]}
            />
            <button type="submit">Show</button>
          </form>
          <section class="table-wrap" aria-label="Offers" tabindex="0">
            <table>
              <caption safe>{plural(total, "offer")}</caption>
              <thead>
                <tr>
                  <th scope="col">Student</th>
                  <th scope="col">Company, role</th>
                  <th scope="col">Package</th>
                  <th scope="col">Kind</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((o) => (
                  <tr>
                    <td>
                      <a
                        href={`/admin/offers/${o.id}`}
                        safe
                      >{`${o.full_name} (${o.roll_number})`}</a>
                    </td>
                    <td safe>{`${o.company}: ${o.role}`}</td>
                    <td safe>{formatLpa(o.ctc_lpa)}</td>
                    <td safe>{OFFER_SOURCE_LABELS[o.source]}</td>
                    <td safe>{OFFER_STATUS_LABELS[offerState(o, now)]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <Pagination
            page={filters.page}
            pageSize={OFFERS_PAGE_SIZE}
            total={total}
            baseUrl="/admin/offers"
            query={{ source: filters.source || undefined, status: filters.status || undefined }}
          />
        </Layout>,
      );
    },
  );

  // ---- Pre-placement and off-campus offers. ----

  function OutsideOffersPage({ page, form }: { page: PageContext; form: FormState }) {
    return (
      <Layout page={page} title="Record PPO or off-campus offers">
        <h1>Record PPO or off-campus offers</h1>
        <p>
          Pre-placement offers (from internships) and offers found off campus count in the season
          report apart from campus offers. Every student gets an SMS and answers in the portal.
        </p>
        <form method="post" action="/admin/offers/new">
          <CsrfField token={page.csrfToken} />
          <FormErrorSummary form={form} />
          <SelectField form={form} name="source" label="Kind" options={SOURCE_OPTIONS} required />
          <OfferTermsFields form={form} />
          <div class={form.errors.company ? "field has-error" : "field"}>
            <label for="f-company">Company</label>
            <input
              id="f-company"
              name="company"
              value={form.values.company ?? ""}
              required
              aria-invalid={form.errors.company ? "true" : undefined}
            />
            {form.errors.company ? (
              <small class="error" safe>
                {form.errors.company}
              </small>
            ) : null}
          </div>
          <TextAreaField
            form={form}
            name="roll_numbers"
            label="Roll numbers (one per line, or separated by commas)"
          />
          <button type="submit">Record offers…</button>
        </form>
      </Layout>
    );
  }

  app.get("/offers/new", async (request, reply) => {
    const defaults = offerTermDefaults(
      { title: "", location: "", package_lpa: null },
      ctx.clock.now(),
    );
    return reply.html(
      <OutsideOffersPage
        page={pageContext(request, reply)}
        form={{ values: { ...defaults, source: "ppo" }, errors: {} }}
      />,
    );
  });

  app.post("/offers/new", async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const parsed = parseForm(outsideOfferSchema(ctx.clock.now()), body);
    const page = pageContext(request, reply);
    if (!parsed.ok || isBack(body))
      return reply
        .code(parsed.ok ? 200 : 400)
        .html(
          <OutsideOffersPage
            page={page}
            form={{ values: formValues(body), errors: parsed.ok ? {} : parsed.errors }}
          />,
        );
    const input = parsed.data;
    const plan = await planOutsideOffers(ctx, input.roll_numbers, input);
    if (plan.problems.length > 0)
      return reply.code(400).html(
        <OutsideOffersPage
          page={page}
          form={{
            values: formValues(body),
            errors: {
              roll_numbers: `No offer is recorded until every roll number is right: ${plan.problems.slice(0, 20).join("; ")}${plan.problems.length > 20 ? `; and ${plan.problems.length - 20} more` : ""}.`,
            },
          }}
        />,
      );
    if (!isConfirmed(body)) {
      const reachable = plan.students.filter((s) => s.sms_opted_out_at === null).length;
      const example = await offerSmsExample(ctx.db, input.company, input);
      return reply.html(
        <ConfirmPage
          page={page}
          title={`Record ${plural(plan.students.length, OFFER_SOURCE_LABELS[input.source].toLowerCase())} from ${input.company}?`}
          action="/admin/offers/new"
          fields={echoFields(body)}
          confirmLabel={`Record ${plural(plan.students.length, "offer")}`}
          cancelHref="/admin/offers/new"
          cancelPostsBack
          sms={
            <p
              safe
            >{`${plural(reachable, "student")} will get an SMS: “${example}”, and a reminder a day before the answer time if they have not answered.`}</p>
          }
        >
          <p
            safe
          >{`${input.role}, ${formatLpa(ctcOf(input))}, ${input.location}; answer by ${formatDateTime(input.answer_by)} IST.`}</p>
          <ul>
            {plan.students.map((s) => (
              <li safe>{`${s.full_name} (${s.roll_number})`}</li>
            ))}
          </ul>
        </ConfirmPage>,
      );
    }
    const result = await recordOutsideOffers(ctx, currentActor(request), input);
    if (!result.ok) {
      flash(request, "error", `No offer recorded: ${result.problems.slice(0, 5).join("; ")}.`);
      return reply.redirect("/admin/offers/new", 303);
    }
    flash(
      request,
      "success",
      `${plural(result.made, "offer")} recorded; each student is told by SMS.`,
    );
    return reply.redirect(`/admin/offers?source=${input.source}`, 303);
  });

  // ---- One offer. ----

  async function offerOr404(id: number) {
    const offer = await findOffer(ctx, id);
    if (!offer) throw new HttpError(404, "There is no such offer.");
    return offer;
  }

  app.get<{ Params: { id: number } }>(
    "/offers/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const offer = await offerOr404(request.params.id);
      const state = offerState(offer, ctx.clock.now());
      const page = pageContext(request, reply);
      return reply.html(
        <Layout page={page} title={`Offer: ${offer.full_name}`}>
          <p>
            {offer.job_id !== null ? (
              <a href={`/admin/jobs/${offer.job_id}/offers`}>The job's offers</a>
            ) : (
              <a href="/admin/offers">All offers</a>
            )}
          </p>
          <h1 safe>{`${offer.full_name} (${offer.roll_number}): ${offer.company}`}</h1>
          <p>
            <strong safe>{OFFER_STATUS_LABELS[state]}</strong>
            {offer.withdrawn_reason ? <span safe>{` — ${offer.withdrawn_reason}`}</span> : null}
          </p>
          <OfferTerms offer={offer} />
          <section aria-labelledby="letter-heading">
            <h2 id="letter-heading">Offer letter</h2>
            {offer.letter_size !== null ? (
              <p>
                <a href={`/admin/offers/${offer.id}/letter.pdf`}>The letter (PDF)</a>
              </p>
            ) : (
              <p>No letter yet.</p>
            )}
            <form
              method="post"
              action={`/admin/offers/${offer.id}/letter`}
              enctype="multipart/form-data"
            >
              <CsrfField token={page.csrfToken} />
              <label for="f-letter">
                {offer.letter_size !== null ? "Replace the letter (PDF)" : "Add the letter (PDF)"}
              </label>
              <input
                id="f-letter"
                name="letter"
                type="file"
                accept="application/pdf,.pdf"
                required
              />
              <button type="submit">Upload</button>
            </form>
          </section>
          {state === "pending" || state === "accepted" ? (
            <section aria-labelledby="withdraw-heading">
              <h2 id="withdraw-heading">Withdraw</h2>
              <form method="post" action={`/admin/offers/${offer.id}/withdraw`}>
                <CsrfField token={page.csrfToken} />
                <button type="submit" class="secondary">
                  Withdraw this offer…
                </button>
              </form>
            </section>
          ) : null}
        </Layout>,
      );
    },
  );

  const reasonField = textField({ label: "the reason", max: 300 });

  app.post<{ Params: { id: number } }>(
    "/offers/:id/withdraw",
    { schema: { params: idParams } },
    async (request, reply) => {
      const offer = await offerOr404(request.params.id);
      const body = request.body as Record<string, unknown>;
      const reason = reasonField.safeParse(body?.reason);
      if (!isConfirmed(body) || !reason.success) {
        const error = isConfirmed(body) && !reason.success ? reason.error.issues[0]?.message : null;
        return reply.code(error ? 400 : 200).html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Withdraw the offer of ${offer.company} to ${offer.full_name}?`}
            action={`/admin/offers/${offer.id}/withdraw`}
            fields={{}}
            confirmLabel="Withdraw the offer"
            cancelHref={`/admin/offers/${offer.id}`}
            inputs={
              <div class={error ? "field has-error" : "field"}>
                <label for="f-reason">Reason (kept in the audit log)</label>
                <input
                  id="f-reason"
                  name="reason"
                  required
                  value={typeof body?.reason === "string" ? body.reason : ""}
                  aria-invalid={error ? "true" : undefined}
                />
                {error ? (
                  <small class="error" safe>
                    {error}
                  </small>
                ) : null}
              </div>
            }
            sms={
              <p safe>
                {offer.sms_opted_out_at === null
                  ? `${offer.full_name} will get an SMS at ${offer.phone_e164} that ${offer.company} withdrew its offer.`
                  : `${offer.full_name} opted out of SMS and will not get one.`}
              </p>
            }
          >
            <p
              safe
            >{`${offer.role}, ${formatLpa(offer.ctc_lpa)} (${OFFER_STATUS_LABELS[offerState(offer, ctx.clock.now())]}). A withdrawn offer no longer counts: if it was accepted, the student is no longer placed by it (an earlier offer the student gave up for it stays given up).`}</p>
          </ConfirmPage>,
        );
      }
      const result = await withdrawOffer(ctx, currentActor(request), offer.id, reason.data);
      flash(
        request,
        result.ok ? "success" : "error",
        result.ok
          ? "The offer is withdrawn; the student is told."
          : `Not withdrawn: ${result.problem}.`,
      );
      return reply.redirect(`/admin/offers/${offer.id}`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/offers/:id/letter",
    { schema: { params: idParams }, config: { upload: true } },
    async (request, reply) => {
      const offer = await offerOr404(request.params.id);
      const file = chosenUpload((request.body as Record<string, unknown>)?.letter);
      const problem = file
        ? await letterProblem(file, ctx.config.RESUME_MAX_BYTES)
        : "Choose a PDF file.";
      if (problem || !file) {
        flash(request, "error", `No letter stored: ${problem}`);
        return reply.redirect(`/admin/offers/${offer.id}`, 303);
      }
      await putOfferLetter(
        ctx,
        currentActor(request),
        offer.id,
        file.data,
        createHash("sha256").update(file.data).digest("hex"),
      );
      flash(request, "success", "The offer letter is stored; the student can open it.");
      return reply.redirect(`/admin/offers/${offer.id}`, 303);
    },
  );

  app.get<{ Params: { id: number } }>(
    "/offers/:id/letter.pdf",
    { schema: { params: idParams } },
    (request, reply) => sendOfferLetter(reply, ctx.db, request.params.id),
  );
}

/** Why an upload is no offer letter, or null. Checked by content, as resumes are. */
async function letterProblem(
  file: { data: Buffer; truncated?: boolean },
  maxBytes: number,
): Promise<string | null> {
  if (file.truncated || file.data.length > maxBytes)
    return `the letter must be at most ${Math.round(maxBytes / 1024 / 1024) || 1} MB.`;
  if (file.data.length === 0) return "the file is empty.";
  const { fileTypeFromBuffer } = await import("file-type");
  const type = await fileTypeFromBuffer(file.data);
  return type?.mime === "application/pdf" ? null : "the letter must be a PDF file.";
}
