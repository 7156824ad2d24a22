import type { Offer } from "../db/schema.ts";
import { formatLpa } from "../placement/policy.ts";
import { Field, type FormState } from "../web/components.tsx";
import { formatDateTime, toLocalInput } from "../web/time.ts";
import { OFFER_SOURCE_LABELS, OFFER_STATUS_LABELS, offerState } from "./service.ts";

/**
 * The views of offers other features show: the terms fields of the selection's confirmation page
 * (applications), the student's offers on the dashboard.
 */

/** The default terms for a job's offers: its title, place and package, a week to answer. */
export function offerTermDefaults(
  job: { title: string; location: string; package_lpa: number | null },
  now: Date,
): Record<string, string> {
  const week = new Date(now.getTime() + 7 * 86_400_000);
  // 17:00 India time, a week from now: an office hour to answer by.
  const day = toLocalInput(week.toISOString()).slice(0, 10);
  return {
    role: job.title,
    location: job.location,
    fixed_lpa: job.package_lpa === null ? "" : String(job.package_lpa),
    variable_lpa: "0",
    joining_date: "",
    answer_by: `${day}T17:00`,
  };
}

export function OfferTermsFields({ form }: { form: FormState }) {
  return (
    <>
      <Field form={form} name="role" label="Role" required />
      <Field form={form} name="location" label="Location" required />
      <Field
        form={form}
        name="fixed_lpa"
        type="text"
        inputmode="decimal"
        label="Fixed pay (lakh a year)"
        hint="The package (CTC) is fixed plus variable."
        required
      />
      <Field
        form={form}
        name="variable_lpa"
        type="text"
        inputmode="decimal"
        label="Variable pay (lakh a year)"
      />
      <Field
        form={form}
        name="joining_date"
        type="date"
        label="Joining date"
        hint="Leave blank if not known yet."
      />
      <Field
        form={form}
        name="answer_by"
        type="datetime-local"
        label="Answer by (India time)"
        hint="A reminder SMS goes a day before; after this time an unanswered offer lapses."
        required
      />
    </>
  );
}

export function OfferTerms({ offer }: { offer: Offer }) {
  return (
    <dl class="facts">
      <dt>Company</dt>
      <dd safe>{offer.company}</dd>
      <dt>Role</dt>
      <dd safe>{offer.role}</dd>
      <dt>Package (CTC)</dt>
      <dd
        safe
      >{`${formatLpa(offer.ctc_lpa)} (fixed ${formatLpa(offer.fixed_lpa)}, variable ${formatLpa(offer.variable_lpa)})`}</dd>
      <dt>Location</dt>
      <dd safe>{offer.location}</dd>
      <dt>Joining date</dt>
      <dd safe>{offer.joining_date ?? "Not known yet"}</dd>
      <dt>Kind</dt>
      <dd safe>{OFFER_SOURCE_LABELS[offer.source]}</dd>
      <dt>Answer by</dt>
      <dd safe>{`${formatDateTime(offer.answer_by)} IST`}</dd>
    </dl>
  );
}

/** The student's offers on their dashboard: those to answer first, each linking to its page. */
export function StudentOffersCard({ offers, now }: { offers: Offer[]; now: Date }) {
  if (offers.length === 0) return "";
  const open = offers.filter((o) => offerState(o, now) === "pending");
  return (
    <section class="card" aria-labelledby="offers-heading">
      <h2 id="offers-heading">Your offers</h2>
      {open.length > 0 ? (
        <p
          safe
        >{`${open.length === 1 ? "One offer awaits" : `${open.length} offers await`} your answer.`}</p>
      ) : null}
      <ul class="plain-list">
        {offers.map((o) => {
          const state = offerState(o, now);
          return (
            <li>
              <a href={`/student/offers/${o.id}`} safe>
                {`${o.company}: ${o.role}, ${formatLpa(o.ctc_lpa)}`}
              </a>{" "}
              <span class={`badge badge-offer-${state}`} safe>
                {state === "pending"
                  ? `Answer by ${formatDateTime(o.answer_by)} IST`
                  : OFFER_STATUS_LABELS[state]}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
