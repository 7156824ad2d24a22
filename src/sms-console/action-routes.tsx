import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { inTransaction } from "../db/transaction.ts";
import { beingCheckedNote } from "../sms/labels.ts";
import { pauseSending, resumeSending } from "../sms/outbox.ts";
import {
  type CancelSelection,
  cancelSelectedSms,
  countQueuedSelected,
  resendSms,
  signalQueued,
} from "../sms/outbox-api.ts";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { plural, pluralWord } from "../web/format.ts";
import { textField } from "../web/forms.ts";
import { pageContext } from "../web/page.ts";
import { safeNext } from "../web/safe-next.ts";
import { idList, idParams } from "../web/schemas.ts";
import { formatDateTime } from "../web/time.ts";

/**
 * The console's actions: resend one failed message, cancel queued ones, pause and resume all
 * sending. The console's pages (admin-routes.tsx) render plain forms that post here.
 */

/** The most messages one cancellation takes (a page of the console's list, ticked). */
export const MAX_CANCEL_IDS = 1000;

const REFERENCE = /^(job|announcement):[1-9][0-9]{0,9}$/;

const pauseReasonField = textField({ label: "a reason", max: 200, optional: true });

type Body = Record<string, unknown>;

function bodyOf(request: FastifyRequest): Body {
  const body = request.body;
  return typeof body === "object" && body !== null ? (body as Body) : {};
}

/** A reference in words: "job:12" -> "the alerts of job #12". */
function referenceWords(reference: string): string {
  const [what, id] = reference.split(":");
  return what === "job" ? `the alerts of job #${id}` : `the SMS of announcement #${id}`;
}

function back(reply: FastifyReply, next: string, fallback: string) {
  return reply.redirect(next || fallback, 303);
}

export async function smsActionRoutes(app: FastifyInstance) {
  const ctx: AppContext = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.post<{ Params: { id: number } }>(
    "/sms/:id/resend",
    { schema: { params: idParams } },
    async (request, reply) => {
      const actor = currentActor(request);
      const id = request.params.id;
      if (!isConfirmed(bodyOf(request))) {
        // A message whose outcome is unknown may have reached the phone: the admin confirms,
        // warned that it may arrive twice (decision 027). A failed one is resent at once.
        const original = await ctx.db
          .selectFrom("sms_messages")
          .select(["status", "to_e164", "student_name"])
          .where("id", "=", id)
          .executeTakeFirst();
        if (original?.status === "unknown")
          return reply.html(
            <ConfirmPage
              page={pageContext(request, reply)}
              title={`Resend SMS #${id}? It may arrive twice`}
              action={`/admin/sms/${id}/resend`}
              fields={{}}
              confirmLabel="Resend anyway"
              cancelHref={`/admin/sms/${id}`}
              cancelLabel="Do not resend"
              sms={
                <p safe>
                  {`${original.student_name ?? "The recipient"} (${original.to_e164}) gets this text again as a new message.`}
                </p>
              }
            >
              <ul>
                <li>
                  The outcome of this message is unknown: it may already have been sent. Twilio
                  could not be asked before the portal gave up, so if it did go out, the student
                  gets it twice.
                </li>
                <li>This message keeps its record; the resend is a new message.</li>
              </ul>
            </ConfirmPage>,
          );
      }
      const result = await inTransaction(ctx.db, async (trx) => {
        const resent = await resendSms(trx, ctx, id);
        if (resent.outcome === "queued")
          await recordAudit(trx, ctx, actor, {
            action: "sms.resend",
            subject: `SMS #${id}`,
            details: { messageId: id, newMessageId: resent.id, status: resent.status },
          });
        return resent;
      });
      switch (result.outcome) {
        case "queued":
          signalQueued(ctx);
          flash(
            request,
            result.status === "queued" ? "success" : "info",
            result.status === "queued"
              ? `Resent: message #${result.id} queued.`
              : `SMS is disabled: the resend (message #${result.id}) was recorded as skipped, not sent.`,
          );
          return reply.redirect(`/admin/sms/${result.id}`, 303);
        case "already":
          flash(
            request,
            "info",
            `Already resent: message #${result.id} is the resend of #${id}; nothing more was queued.`,
          );
          return reply.redirect(`/admin/sms/${result.id}`, 303);
        case "refused":
          flash(request, "error", result.reason);
          return reply.redirect(result.missing ? "/admin/sms" : `/admin/sms/${id}`, 303);
      }
    },
  );

  app.post("/sms/cancel", async (request, reply) => {
    const body = bodyOf(request);
    const next = safeNext(body.next);
    const rawIds = Array.isArray(body.ids) ? body.ids : body.ids === undefined ? [] : [body.ids];
    if (rawIds.length > MAX_CANCEL_IDS) {
      flash(
        request,
        "error",
        `At most ${MAX_CANCEL_IDS.toLocaleString("en-IN")} messages can be cancelled at once; nothing was cancelled.`,
      );
      return back(reply, next, "/admin/sms");
    }
    const ids = idList(rawIds, MAX_CANCEL_IDS);
    const reference =
      typeof body.reference === "string" && REFERENCE.test(body.reference)
        ? body.reference
        : undefined;
    if (ids.length === 0 && !reference) {
      flash(request, "error", "Choose the messages to cancel first; nothing was cancelled.");
      return back(reply, next, "/admin/sms");
    }
    const selection: CancelSelection = reference ? { reference } : { ids };
    const what = reference ? referenceWords(reference) : plural(ids.length, "selected message");

    if (!isConfirmed(body)) {
      const queued = await countQueuedSelected(ctx.db, selection);
      if (queued === 0) {
        flash(
          request,
          "info",
          `None of ${what} is still queued: nothing to cancel (sent or sending messages stay as they are).`,
        );
        return back(reply, next, "/admin/sms");
      }
      return reply.html(
        <ConfirmPage
          page={pageContext(request, reply)}
          title={`Cancel ${plural(queued, "queued SMS", "queued SMS")}?`}
          action="/admin/sms/cancel"
          fields={{ ids: reference ? undefined : ids, reference, next: next || undefined }}
          confirmLabel={`Cancel ${plural(queued, "SMS", "SMS")}`}
          cancelHref={next || "/admin/sms"}
          // "Cancel" beside "Cancel 1 SMS" would read as the same act.
          cancelLabel={queued === 1 ? "Keep it queued" : "Keep them queued"}
          sms={
            <p safe>
              {`${plural(queued, "queued message")} of ${what} ${pluralWord(queued, "is", "are")} not sent. Messages already sent or being sent stay as they are.`}
            </p>
          }
        >
          <ul>
            <li safe>
              {`${plural(queued, "message")} still waiting to be sent ${pluralWord(queued, "is", "are")} marked cancelled, with your email as the reason. This cannot be undone (a cancelled message can be resent only by sending it anew).`}
            </li>
          </ul>
        </ConfirmPage>,
      );
    }

    const actor = currentActor(request);
    const result = await inTransaction(ctx.db, async (trx) => {
      const done = await cancelSelectedSms(trx, ctx, selection, `Cancelled by ${actor.email}`);
      if (done.cancelled > 0 || done.beingChecked > 0)
        await recordAudit(trx, ctx, actor, {
          action: "sms.cancel",
          subject: reference ?? plural(ids.length, "selected SMS", "selected SMS"),
          details: {
            cancelled: done.cancelled,
            beingChecked: done.beingChecked,
            alreadyGone: done.alreadyGone,
            reference: reference ?? null,
            selected: reference ? null : ids.length,
          },
        });
      return done;
    });
    const n = result.alreadyGone;
    const gone =
      n > 0
        ? ` ${n.toLocaleString("en-IN")} ${pluralWord(n, "was", "were")} already sent and ${pluralWord(n, "is left as it is", "are left as they are")}.`
        : "";
    const checked = beingCheckedNote(result.beingChecked);
    flash(
      request,
      result.cancelled > 0 ? "success" : "info",
      result.cancelled > 0
        ? `${plural(result.cancelled, "SMS", "SMS")} cancelled.${checked}${gone}`
        : `Nothing was cancelled${result.beingChecked > 0 ? " yet" : `: none of ${what} was still queued`}.${checked}${gone}`,
    );
    return back(reply, next, "/admin/sms");
  });

  app.post("/sms/pause", async (request, reply) => {
    const body = bodyOf(request);
    const next = safeNext(body.next);
    const reason = pauseReasonField.safeParse(body.reason ?? "");
    if (!reason.success) {
      flash(
        request,
        "error",
        `Sending was not paused: ${reason.error.issues[0]?.message ?? "the reason is not valid."}`,
      );
      return back(reply, next, "/admin/sms");
    }
    const actor = currentActor(request);
    const { started, pause } = await pauseSending(ctx, actor.email, reason.data || null);
    if (started) {
      await recordAudit(ctx.db, ctx, actor, {
        action: "sms.pause",
        subject: "all SMS sending",
        details: { reason: reason.data || null },
      });
      flash(
        request,
        "success",
        "Sending paused: no SMS is sent until you resume it (messages on their way finish).",
      );
    } else
      flash(
        request,
        "info",
        `Sending was already paused by ${pause.byEmail ?? "an admin"} since ${formatDateTime(pause.at)}.`,
      );
    return back(reply, next, "/admin/sms");
  });

  app.post("/sms/resume", async (request, reply) => {
    const next = safeNext(bodyOf(request).next);
    const actor = currentActor(request);
    const ended = await resumeSending(ctx);
    if (ended) {
      await recordAudit(ctx.db, ctx, actor, {
        action: "sms.resume",
        subject: "all SMS sending",
        details: { pausedAt: ended.at, pausedBy: ended.byEmail, reason: ended.reason },
      });
      signalQueued(ctx);
      flash(request, "success", "Sending resumed: queued SMS go out now.");
    } else flash(request, "info", "Sending was not paused: nothing to resume.");
    return back(reply, next, "/admin/sms");
  });
}
