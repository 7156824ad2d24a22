import { closedReasons } from "../placement/eligibility.ts";
import { type StudentSlot, StudentSlotList } from "../placement/rounds.tsx";
import { isCorrection, STATUS_LABELS, TRANSITIONS } from "../placement/stages.ts";
import { formatDateTime } from "../web/components.tsx";
import { jobName } from "../web/format.ts";
import { CsrfField } from "../web/layout.tsx";
import type { PageContext } from "../web/page.ts";
import type { studentApplications } from "./service.ts";

type Applications = Awaited<ReturnType<typeof studentApplications>>;

/** The job as the student reads it in sentences: "Infosys – Systems Engineer". */
export { jobName };

/** The deadline in the portal's time, said so: students read it on phones set to any zone. */
export function deadline(applyBy: string): string {
  return `${formatDateTime(applyBy)} IST`;
}

/** Whether a withdrawn application may be sent again now: the job still takes applications. */
export function canApplyAgain(job: { job_status: "open" | "closed"; apply_by: string }, now: Date) {
  return closedReasons({ status: job.job_status, apply_by: job.apply_by }, now).length === 0;
}

export function ApplicationsTable({
  applications,
  page,
  timeline,
  now,
  rounds,
}: {
  applications: Applications;
  /** The student's round slots by application, shown under each timeline. */
  rounds?: ReadonlyMap<number, readonly StudentSlot[]>;
  page: PageContext;
  /** The full list (its own page, headed h2) rather than the dashboard's summary (h3). */
  timeline: boolean;
  now: Date;
}) {
  if (applications.length === 0) return <p class="empty">You have not applied to any job yet.</p>;
  const Heading = timeline ? "h2" : "h3";
  return (
    <ul class="job-list">
      {applications.map((a) => (
        <li class="card">
          <Heading class="card-title">
            <a href={`/student/jobs/${a.job_id}`} safe>
              {jobName(a)}
            </a>{" "}
            <span class={`status status-${a.status}`}>{STATUS_LABELS[a.status]}</span>
          </Heading>
          {timeline ? (
            <ol class="timeline">
              {a.events.map((e) => (
                <li
                  safe
                >{`${formatDateTime(e.at)}: ${STATUS_LABELS[e.to_status]}${e.by_role === "student" && e.from_status ? " (by you)" : ""}${isCorrection(e) ? ` (${STATUS_LABELS[e.from_status]} corrected)` : ""}`}</li>
              ))}
            </ol>
          ) : null}
          {timeline && rounds?.get(a.id)?.length ? (
            <>
              <h3>Rounds</h3>
              <StudentSlotList slots={rounds.get(a.id) ?? []} />
            </>
          ) : null}
          {timeline && TRANSITIONS[a.status].includes("withdrawn") ? (
            <p>
              <a href={`/student/applications/${a.id}/withdraw`}>Withdraw this application</a>
            </p>
          ) : null}
          {timeline && a.status === "withdrawn" ? (
            canApplyAgain(a, now) ? (
              <form method="post" action={`/student/jobs/${a.job_id}/apply`} class="buttons">
                <CsrfField token={page.csrfToken} />
                <button type="submit" class="secondary">
                  Apply again
                </button>
                <span
                  class="hint"
                  safe
                >{`You can apply again until ${deadline(a.apply_by)}.`}</span>
              </form>
            ) : (
              <p class="hint">Applications for this job are closed: you cannot apply again.</p>
            )
          ) : null}
        </li>
      ))}
    </ul>
  );
}
