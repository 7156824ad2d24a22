import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB, Offer } from "../db/schema.ts";
import { formatLpa } from "../placement/policy.ts";
import {
  type CancelOutcome,
  cancelQueuedSms,
  type OutboxMessage,
  PRIORITY_TRANSACTIONAL,
  type QueueResult,
  queueSmsBatch,
} from "../sms/outbox-api.ts";
import { renderCurrent, renderCurrentEach } from "../sms/template-store.ts";
import { defineTemplate } from "../sms/templates.ts";
import { formatDateTime } from "../web/time.ts";

/**
 * The offers' SMS, all of kind `offer`. An offer made is told at once (it says the student was
 * selected, so a selection that records an offer sends this instead of the status SMS); its
 * reminder is written with it, due a day before the answer time, held by quiet hours and never
 * sent after that time; answering or a withdrawal cancels the reminder. A withdrawal is told at
 * once. References: `offer:<id>` and `offer:<id>:reminder`.
 */

const offerVariables = {
  company: { about: "the company", sample: "Tata Consultancy Services", cut: true },
  role: { about: "the role offered", sample: "Systems Engineer", cut: true },
  ctc: { about: "the package, in lakh a year", sample: "7.5 LPA" },
  answer_by: { about: "the time to answer by, India time", sample: "12 Dec 2026, 17:00" },
} as const;

export const offerMadeSms = defineTemplate({
  id: "offer_made",
  title: "Offer made",
  variables: offerVariables,
  defaultText:
    "Congratulations! {company} offers you {role} at {ctc}. Accept or decline on the Placement Portal by {answer_by} IST.",
  maxSegments: 2,
});

export const offerReminderSms = defineTemplate({
  id: "offer_reminder",
  title: "Offer answer reminder",
  variables: offerVariables,
  defaultText:
    "Reminder: answer the {company} offer ({role}, {ctc}) on the Placement Portal by {answer_by} IST, or it lapses.",
  maxSegments: 2,
});

export const offerWithdrawnSms = defineTemplate({
  id: "offer_withdrawn",
  title: "Offer withdrawn",
  variables: offerVariables,
  defaultText:
    "{company} has withdrawn its offer of {role} ({ctc}). The placement office can tell you more.",
  maxSegments: 2,
});

export const OFFER_TEMPLATES = [offerMadeSms, offerReminderSms, offerWithdrawnSms] as const;

/** How long before the answer time the reminder is due. */
export const OFFER_REMINDER_HOURS = 24;

export function offerReference(offerId: number): string {
  return `offer:${offerId}`;
}

export function offerReminderReference(offerId: number): string {
  return `offer:${offerId}:reminder`;
}

type Ctx = Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">;

/** An offer with what its SMS needs of its student. */
export type OfferToTell = Pick<
  Offer,
  "id" | "company" | "role" | "ctc_lpa" | "answer_by" | "student_id"
> & {
  phone_e164: string;
  sms_opted_out_at: string | null;
  full_name: string;
  roll_number: string;
};

function varsOf(offer: OfferToTell) {
  return {
    company: offer.company,
    role: offer.role,
    ctc: formatLpa(offer.ctc_lpa),
    answer_by: formatDateTime(offer.answer_by),
  };
}

function messageOf(
  offer: OfferToTell,
  kind: "made" | "reminder" | "withdrawn",
  rendered: { body: string; template: OutboxMessage["template"] },
  extra: Partial<OutboxMessage> = {},
): OutboxMessage {
  return {
    kind: "offer",
    dedupeKey: `offer:${offer.id}:${kind}`,
    reference: kind === "reminder" ? offerReminderReference(offer.id) : offerReference(offer.id),
    studentId: offer.student_id,
    toE164: offer.phone_e164,
    body: rendered.body,
    template: rendered.template ?? null,
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: offer.sms_opted_out_at !== null,
    studentNames: { fullName: offer.full_name, rollNumber: offer.roll_number },
    ...extra,
  };
}

/**
 * "You have an offer" for each new offer, and its reminder a day before the answer time (none when
 * that day has begun already), in two multi-row INSERTs. Results of the offers' SMS, in order.
 */
export async function tellOffersMade(
  trx: Kysely<DB>,
  ctx: Ctx,
  offers: readonly OfferToTell[],
): Promise<QueueResult[]> {
  if (offers.length === 0) return [];
  const now = ctx.clock.now().getTime();
  const texts = await renderCurrentEach(trx, offerMadeSms, offers.map(varsOf));
  const made = offers.map((offer, i) => messageOf(offer, "made", texts[i]!));
  const remind = offers.filter(
    (o) => Date.parse(o.answer_by) - OFFER_REMINDER_HOURS * 3_600_000 > now,
  );
  const reminderTexts = await renderCurrentEach(trx, offerReminderSms, remind.map(varsOf));
  const reminders = remind.map((offer, i) => {
    const answerBy = Date.parse(offer.answer_by);
    return messageOf(offer, "reminder", reminderTexts[i]!, {
      dueAt: new Date(answerBy - OFFER_REMINDER_HOURS * 3_600_000),
      notAfter: new Date(answerBy),
      quiet: true,
    });
  });
  const results = await queueSmsBatch(trx, ctx, made);
  if (reminders.length > 0) await queueSmsBatch(trx, ctx, reminders);
  return results;
}

/** The "offer made" SMS as it would read for these terms: for confirmation pages. */
export async function offerMadeExample(
  db: Kysely<DB>,
  offer: { company: string; role: string; ctc_lpa: number; answer_by: string },
): Promise<string> {
  const text = await renderCurrent(db, offerMadeSms, {
    company: offer.company,
    role: offer.role,
    ctc: formatLpa(offer.ctc_lpa),
    answer_by: formatDateTime(offer.answer_by),
  });
  return text.body;
}

export async function tellOfferWithdrawn(
  trx: Kysely<DB>,
  ctx: Ctx,
  offer: OfferToTell,
): Promise<QueueResult> {
  const [result] = await queueSmsBatch(trx, ctx, [
    messageOf(offer, "withdrawn", await renderCurrent(trx, offerWithdrawnSms, varsOf(offer))),
  ]);
  return result as QueueResult;
}

/** The offer was answered, withdrawn or lapsed: its reminder, if not sent yet, never will be. */
export function cancelOfferReminder(
  trx: Kysely<DB>,
  ctx: Ctx,
  offerId: number,
  reason: string,
): Promise<CancelOutcome> {
  return cancelQueuedSms(trx, ctx, offerReminderReference(offerId), reason);
}
