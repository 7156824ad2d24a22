import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { formatLpa } from "../placement/policy.ts";
import { currentActor, currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { CsrfField, Layout } from "../web/layout.tsx";
import { pageContext } from "../web/page.ts";
import { idParams } from "../web/schemas.ts";
import { formatDateTime } from "../web/time.ts";
import { sendOfferLetter } from "./letter-reply.ts";
import { OfferTerms } from "./pages.tsx";
import { acceptOffer, declineOffer, OFFER_STATUS_LABELS, offerForStudent } from "./service.ts";

/**
 * The student's side of an offer: its page (terms, letter, state), and accepting or declining it,
 * each through a confirmation page that says what it means under the batch's placement policy.
 * Only the student's own offers: another's id reads as no offer at all.
 */
export async function studentOfferRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  async function own(request: FastifyRequest<{ Params: { id: number } }>) {
    const found = await offerForStudent(ctx, currentStudentId(request), request.params.id);
    if (!found) throw new HttpError(404, "There is no such offer.");
    return found;
  }

  app.get<{ Params: { id: number } }>(
    "/offers/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const { offer, state, plan } = await own(request);
      const page = pageContext(request, reply);
      return reply.html(
        <Layout page={page} title={`Offer: ${offer.company}`}>
          <h1 safe>{`Offer from ${offer.company}`}</h1>
          <p>
            <strong safe>{OFFER_STATUS_LABELS[state]}</strong>
            {state === "pending" ? (
              <span safe>{` — answer by ${formatDateTime(offer.answer_by)} IST.`}</span>
            ) : null}
          </p>
          <OfferTerms offer={offer} />
          <p>
            <a href={`/student/offers/${offer.id}/letter.pdf`}>Offer letter (PDF)</a>, if the office
            has added it.
          </p>
          {state === "pending" || state === "accepted" ? (
            <section aria-labelledby="answer-heading">
              <h2 id="answer-heading">Your answer</h2>
              {plan.meaning.map((line) => (
                <p safe>{line}</p>
              ))}
              {state === "pending" && plan.problem ? (
                <p class="notice" safe>{`You cannot accept it now: ${plan.problem}.`}</p>
              ) : null}
              <div class="actions">
                {state === "pending" && !plan.problem ? (
                  <form method="post" action={`/student/offers/${offer.id}/accept`}>
                    <CsrfField token={page.csrfToken} />
                    <button type="submit">Accept…</button>
                  </form>
                ) : null}
                <form method="post" action={`/student/offers/${offer.id}/decline`}>
                  <CsrfField token={page.csrfToken} />
                  <button type="submit" class="secondary">
                    {state === "accepted" ? "Decline after accepting…" : "Decline…"}
                  </button>
                </form>
              </div>
            </section>
          ) : null}
          <p>
            <a href="/student">Back to your dashboard</a>
          </p>
        </Layout>,
      );
    },
  );

  async function answer(
    request: FastifyRequest<{ Params: { id: number } }>,
    reply: FastifyReply,
    verb: "accept" | "decline",
  ) {
    const { offer, state, plan } = await own(request);
    const name = `${offer.company} (${offer.role}, ${formatLpa(offer.ctc_lpa)})`;
    // Opened from a page that is out of date: say why now, not after a confirmation.
    if (verb === "accept" && plan.problem && !isConfirmed(request.body)) {
      flash(request, "error", `You cannot accept this offer now: ${plan.problem}.`);
      return reply.redirect(`/student/offers/${offer.id}`, 303);
    }
    if (!isConfirmed(request.body)) {
      const declineAfter = verb === "decline" && state === "accepted";
      return reply.html(
        <ConfirmPage
          page={pageContext(request, reply)}
          title={
            verb === "accept" ? `Accept the offer from ${name}?` : `Decline the offer from ${name}?`
          }
          action={`/student/offers/${offer.id}/${verb}`}
          fields={{}}
          confirmLabel={verb === "accept" ? "Accept the offer" : "Decline the offer"}
          cancelHref={`/student/offers/${offer.id}`}
          sms={<p>Nobody gets an SMS; the placement office sees your answer at once.</p>}
        >
          {verb === "accept" ? (
            plan.meaning.map((line) => <p safe>{line}</p>)
          ) : (
            <>
              <p>Declining cannot be undone: the company's offer is given up.</p>
              {declineAfter ? (
                <p>
                  {plan.policy?.blockOnDecline
                    ? `You accepted this offer. Under the ${plan.policy.graduationYear} placement policy, declining an offer after accepting it ends your campus placement: you will not be able to apply to campus jobs.`
                    : "You accepted this offer. Declining it now is kept on your record, where the placement office sees it; a placement policy that ends campus placement after such a decline would count it."}
                </p>
              ) : null}
            </>
          )}
        </ConfirmPage>,
      );
    }
    const studentId = currentStudentId(request);
    const result =
      verb === "accept"
        ? await acceptOffer(ctx, currentActor(request), studentId, offer.id)
        : await declineOffer(ctx, currentActor(request), studentId, offer.id);
    if (result.ok)
      flash(
        request,
        "success",
        verb === "accept"
          ? `You accepted the offer from ${name}.${result.released > 0 ? " Your earlier offer is given up, as the policy asks." : ""}`
          : `You declined the offer from ${name}.`,
      );
    else
      flash(
        request,
        "error",
        `Not ${verb === "accept" ? "accepted" : "declined"}: ${result.problem}.`,
      );
    return reply.redirect(`/student/offers/${offer.id}`, 303);
  }

  app.post<{ Params: { id: number } }>(
    "/offers/:id/accept",
    { schema: { params: idParams } },
    (request, reply) => answer(request, reply, "accept"),
  );
  app.post<{ Params: { id: number } }>(
    "/offers/:id/decline",
    { schema: { params: idParams } },
    (request, reply) => answer(request, reply, "decline"),
  );

  app.get<{ Params: { id: number } }>(
    "/offers/:id/letter.pdf",
    { schema: { params: idParams } },
    (request, reply) =>
      sendOfferLetter(reply, ctx.db, request.params.id, currentStudentId(request)),
  );
}
