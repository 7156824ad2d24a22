import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { ApplicationStatus, DB, Job, SmsKind } from "../db/schema.ts";
import { STATUS_LABELS } from "../placement/stages.ts";
import {
  type OutboxMessage,
  PRIORITY_TRANSACTIONAL,
  type QueueResult,
  queueSms,
  queueSmsBatch,
} from "../sms/outbox-api.ts";
import { renderCurrent, renderCurrentEach } from "../sms/template-store.ts";
import { defineTemplate, firstName, type RenderedSms } from "../sms/templates.ts";
import type { StudentForSms } from "../students/notices.ts";

/**
 * The application's SMS: the student's status changed. It fits two segments in the encoding it is
 * sent in: the first name, the company and the title are cut with "..." as far as needed.
 */

const LONGEST_STATUS = Object.values(STATUS_LABELS).reduce((a, b) => (b.length > a.length ? b : a));

export const statusUpdateSms = defineTemplate({
  id: "status_update",
  title: "Status update",
  variables: {
    name: { about: "the student's first name", sample: "Asha", cut: true },
    company: { about: "the company", sample: "Infosys", cut: true },
    title: { about: "the job title", sample: "Systems Engineer", cut: true },
    status: { about: "the new status, in words", sample: "Shortlisted", longest: LONGEST_STATUS },
  },
  defaultText:
    "Dear {name}, your status for {company} - {title} has been updated to '{status}'. Check the Placement Portal for details.",
  maxSegments: 2,
});

export function statusUpdateVars(change: {
  fullName: string;
  company: string;
  title: string;
  status: ApplicationStatus;
}) {
  return {
    name: firstName(change.fullName),
    company: change.company,
    title: change.title,
    status: STATUS_LABELS[change.status],
  };
}

/** The message as the student would get it now (the confirmation page shows it). */
export async function statusUpdateExample(
  db: Kysely<DB>,
  change: Parameters<typeof statusUpdateVars>[0],
): Promise<string> {
  return (await renderCurrent(db, statusUpdateSms, statusUpdateVars(change))).body;
}

/** What a move's SMS is about: the event that caused it, its application, student and job. */
interface ApplicationChange {
  eventId: number;
  applicationId: number;
  student: StudentForSms;
  job: Pick<Job, "company" | "title">;
  to: ApplicationStatus;
}

/** An application's SMS as the outbox takes it: one per event (`dedupePrefix`:eventId), to its student. */
function applicationSms(
  change: ApplicationChange,
  message: {
    kind: SmsKind;
    dedupePrefix: string;
    rendered: Awaited<ReturnType<typeof renderCurrent>>;
  },
): OutboxMessage {
  return {
    kind: message.kind,
    dedupeKey: `${message.dedupePrefix}:${change.eventId}`,
    reference: `application:${change.applicationId}`,
    studentId: change.student.id,
    toE164: change.student.phone_e164,
    ...message.rendered,
    priority: PRIORITY_TRANSACTIONAL,
    optedOut: change.student.sms_opted_out_at !== null,
    studentNames: { fullName: change.student.full_name, rollNumber: change.student.roll_number },
  };
}

/** Queues an application's SMS. */
async function queueApplicationSms(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  change: ApplicationChange,
  message: Parameters<typeof applicationSms>[1],
): Promise<QueueResult> {
  return queueSms(trx, ctx, applicationSms(change, message));
}

/** The words of a change, as the templates' variables take them. */
function changeWords(change: ApplicationChange) {
  return {
    fullName: change.student.full_name,
    company: change.job.company,
    title: change.job.title,
    status: change.to,
  };
}

/**
 * The status SMS of many moves (a bulk move), in the order given: the template read once, the
 * messages written in one multi-row INSERT.
 */
export async function notifyStatusChanges(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  changes: readonly ApplicationChange[],
): Promise<QueueResult[]> {
  const rendered = await renderCurrentEach(
    trx,
    statusUpdateSms,
    changes.map((c) => statusUpdateVars(changeWords(c))),
  );
  return queueSmsBatch(
    trx,
    ctx,
    changes.map((change, i) =>
      applicationSms(change, {
        kind: "status_update",
        dedupePrefix: "status",
        rendered: rendered[i] as RenderedSms,
      }),
    ),
  );
}

/**
 * A decision corrected: the application is back at the stage it was in before Selected or
 * Rejected. One message per correction; the reason stays in the audit log (it may be the office's
 * own slip, not something for the student).
 */
export const decisionCorrectedSms = defineTemplate({
  id: "application_corrected",
  title: "Decision corrected",
  variables: {
    name: { about: "the student's first name", sample: "Asha", cut: true },
    company: { about: "the company", sample: "Infosys", cut: true },
    title: { about: "the job title", sample: "Systems Engineer", cut: true },
    status: {
      about: "the stage it is back at, in words",
      sample: "Interview",
      longest: LONGEST_STATUS,
    },
    previous: {
      about: "the decision corrected, in words",
      sample: "Rejected",
      longest: LONGEST_STATUS,
    },
  },
  defaultText:
    "Dear {name}, a correction: your status for {company} - {title} is '{status}', not '{previous}'. Check the Placement Portal for details.",
  maxSegments: 2,
});

export function decisionCorrectedVars(change: {
  fullName: string;
  company: string;
  title: string;
  status: ApplicationStatus;
  previous: ApplicationStatus;
}) {
  return { ...statusUpdateVars(change), previous: STATUS_LABELS[change.previous] };
}

/** The correction's message as the student would get it now (its confirmation page shows it). */
export async function decisionCorrectedExample(
  db: Kysely<DB>,
  change: Parameters<typeof decisionCorrectedVars>[0],
): Promise<string> {
  return (await renderCurrent(db, decisionCorrectedSms, decisionCorrectedVars(change))).body;
}

export async function notifyDecisionCorrected(
  trx: Kysely<DB>,
  ctx: Pick<AppContext, "config" | "clock" | "smsLog" | "dialect">,
  change: ApplicationChange & { previous: ApplicationStatus },
): Promise<QueueResult> {
  return queueApplicationSms(trx, ctx, change, {
    kind: "application_corrected",
    dedupePrefix: "correction",
    rendered: await renderCurrent(
      trx,
      decisionCorrectedSms,
      decisionCorrectedVars({ ...changeWords(change), previous: change.previous }),
    ),
  });
}
