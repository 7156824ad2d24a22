import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.ts";
import {
  SMS_KINDS,
  SMS_STATUSES,
  type SmsAttempt,
  type SmsKind,
  type SmsStatus,
} from "../db/schema.ts";
import { smsKindLabel, smsStatusLabel } from "../sms/labels.ts";
import { readDispatchState } from "../sms/outbox.ts";
import { describeQuietHours } from "../sms/quiet-hours.ts";
import { displayedBody, SECRET_NOT_RESENT } from "../sms/secrets.ts";
import { HttpError, requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { formatNumber, jobName, plural, pluralWord } from "../web/format.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { pageContext } from "../web/page.ts";
import {
  idParams,
  MAX_ID,
  orEmpty,
  pageParam,
  textParam,
  wholeNumberParam,
} from "../web/schemas.ts";
import { Chart, consoleCharts } from "./chart.tsx";
import {
  applyFilters,
  applyHourlyFilters,
  consoleUrl,
  countsFromHours,
  FAILED_OR_UNDELIVERED,
  filterParams,
  indiaDayStart,
  parseInstant,
  type SmsFilters,
} from "./console.ts";
import { explainError } from "./error-explanations.ts";
import { Recipient, Reference, type ReferenceNames, SmsTable } from "./pages.tsx";

const PAGE_SIZE = 50;

/**
 * A status with DENSE_STATUS_MIN messages or more that is at least 1 in DENSE_STATUS_SHARE of all
 * of them has its page found by walking the outbox newest first and testing each row, which stops
 * after a page; read by its index, every row of a common status would be sorted by id to keep 50.
 * A rare status (a few queued or sending) is read by its index, as walking would pass most of the
 * outbox.
 */
const DENSE_STATUS_SHARE = 100;
const DENSE_STATUS_MIN = 1000;

async function listSms(ctx: AppContext, filters: SmsFilters) {
  const base = ctx.db.selectFrom("sms_messages");
  // Every filter but the status: the counts say what each status link would show. Read from
  // the hourly counts where the filters allow: counting the outbox read all of it per view.
  const fromHours = countsFromHours(filters);
  const counts = await (fromHours
    ? applyHourlyFilters(ctx, filters, false)
        .select(["status", (eb) => eb.fn.sum<number>("n").as("n")])
        .groupBy("status")
        .execute()
    : applyFilters(ctx, base, filters, false)
        .select(["sms_messages.status", (eb) => eb.fn.countAll<number>().as("n")])
        .groupBy("sms_messages.status")
        .execute());
  const byStatus = new Map(counts.map((r) => [r.status, Number(r.n)]));
  // The total is among those counts (a second count of the same rows would read the outbox again).
  const shown: SmsStatus[] =
    filters.status === FAILED_OR_UNDELIVERED
      ? ["failed", "undelivered"]
      : filters.status
        ? [filters.status]
        : [...byStatus.keys()];
  const total = shown.reduce((n, status) => n + (byStatus.get(status) ?? 0), 0);
  const all = [...byStatus.values()].reduce((n, v) => n + v, 0);
  const denseStatus = fromHours && total >= DENSE_STATUS_MIN && total * DENSE_STATUS_SHARE >= all;
  // The page's ids first (from an index when a filter has one), then their rows.
  const rows = await base
    .selectAll("sms_messages")
    .where(
      "sms_messages.id",
      "in",
      applyFilters(ctx, ctx.db.selectFrom("sms_messages"), filters, true, !denseStatus)
        .select("sms_messages.id")
        .orderBy("sms_messages.id", "desc")
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE),
    )
    .orderBy("sms_messages.id", "desc")
    .execute();
  return { rows, total, byStatus };
}

/** Names of the jobs and announcements that `references` point at, in one query each. */
async function referenceNames(ctx: AppContext, references: string[]): Promise<ReferenceNames> {
  const ids = (what: string) => [
    ...new Set(
      references
        .filter((r) => r.startsWith(`${what}:`))
        .map((r) => Number(r.slice(what.length + 1)))
        .filter((n) => Number.isInteger(n) && n > 0 && n <= MAX_ID),
    ),
  ];
  const jobIds = ids("job");
  const announcementIds = ids("announcement");
  const [jobs, announcements] = await Promise.all([
    jobIds.length
      ? ctx.db
          .selectFrom("jobs")
          .select(["id", "company", "title"])
          .where("id", "in", jobIds)
          .execute()
      : [],
    announcementIds.length
      ? ctx.db
          .selectFrom("announcements")
          .select(["id", "title"])
          .where("id", "in", announcementIds)
          .execute()
      : [],
  ]);
  return new Map([
    ...jobs.map((j) => [`job:${j.id}`, jobName(j)] as [string, string]),
    ...announcements.map((a) => [`announcement:${a.id}`, a.title] as [string, string]),
  ]);
}

function statusWords(status: NonNullable<SmsFilters["status"]>): string {
  return status === FAILED_OR_UNDELIVERED ? "Failed or not delivered" : smsStatusLabel(status);
}

/** The active filters in words, each with a link that drops it. */
async function activeFilters(
  ctx: AppContext,
  filters: SmsFilters,
  names: ReferenceNames,
): Promise<Array<{ words: string; without: string }>> {
  const out: Array<{ words: string; without: string }> = [];
  const add = (words: string, key: keyof SmsFilters) =>
    out.push({ words, without: consoleUrl(filters, { [key]: undefined }) });
  if (filters.status) add(`Status: ${statusWords(filters.status)}`, "status");
  if (filters.kind) add(`Kind: ${smsKindLabel(filters.kind)}`, "kind");
  if (filters.from) add(`From ${filters.from}`, "from");
  if (filters.until) add(`Until ${filters.until}`, "until");
  if (filters.since)
    add(
      `Status changed since ${formatDateTime(parseInstant(filters.since)!.toISOString())}`,
      "since",
    );
  if (filters.job) {
    const name = names.get(`job:${filters.job}`);
    add(name ? `Job alert of ${name}` : `Job ${filters.job} (no longer exists)`, "job");
  }
  if (filters.announcement) {
    const name = names.get(`announcement:${filters.announcement}`);
    add(
      name ? `Announcement: ${name}` : `Announcement ${filters.announcement} (no longer exists)`,
      "announcement",
    );
  }
  if (filters.studentId) {
    const student = await ctx.db
      .selectFrom("students")
      .select(["full_name", "roll_number"])
      .where("id", "=", filters.studentId)
      .executeTakeFirst();
    add(
      student
        ? `Student: ${student.full_name} (${student.roll_number})`
        : `Student ${filters.studentId} (no longer exists)`,
      "studentId",
    );
  }
  if (filters.student) add(`Student matching "${filters.student}"`, "student");
  if (filters.to) add(`Number containing ${filters.to}`, "to");
  return out;
}

/** Queued messages of one job or announcement, for the "cancel all" button. */
async function queuedOf(ctx: AppContext, reference: string): Promise<number> {
  const row = await ctx.db
    .selectFrom("sms_messages")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("reference", "=", reference)
    .where("status", "=", "queued")
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

interface ConsoleQuery {
  status?: SmsStatus | typeof FAILED_OR_UNDELIVERED | "";
  kind?: SmsKind | "";
  from?: string;
  until?: string;
  since?: string;
  job?: number | "";
  announcement?: number | "";
  student?: string;
  student_id?: number | "";
  to?: string;
  page: number;
}

const dayParam = orEmpty({ type: "string", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" });
const idFilter = orEmpty(wholeNumberParam(1, MAX_ID));

/** Checks what the schema cannot (a real day, a real instant) and names the filters. */
function parseFilters(q: ConsoleQuery): SmsFilters {
  for (const day of [q.from, q.until])
    if (day && !indiaDayStart(day)) throw new HttpError(400, "That is not a date (YYYY-MM-DD).");
  if (q.since && !parseInstant(q.since))
    throw new HttpError(400, "That is not a moment in time (ISO-8601, with its zone).");
  const id = (v: number | "" | undefined) => (typeof v === "number" ? v : undefined);
  return {
    status: q.status || undefined,
    kind: q.kind || undefined,
    from: q.from || undefined,
    until: q.until || undefined,
    since: q.since || undefined,
    job: id(q.job),
    announcement: id(q.announcement),
    student: q.student?.trim() || undefined,
    studentId: id(q.student_id),
    to: q.to || undefined,
    page: q.page,
  };
}

export async function smsAdminRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: ConsoleQuery }>(
    "/sms",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            status: { type: "string", enum: ["", ...SMS_STATUSES, FAILED_OR_UNDELIVERED] },
            kind: { type: "string", enum: ["", ...SMS_KINDS] },
            from: dayParam,
            until: dayParam,
            since: orEmpty({ ...textParam(40), pattern: "^[0-9T:.+Z-]+$" }),
            job: idFilter,
            announcement: idFilter,
            student: textParam(100),
            student_id: idFilter,
            to: textParam(20),
            page: pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const filters = parseFilters(request.query);
      const page = pageContext(request, reply);
      const [{ rows, total, byStatus }, state, charts] = await Promise.all([
        listSms(ctx, filters),
        readDispatchState(ctx),
        consoleCharts(ctx, filters, ctx.clock.now()),
      ]);
      const references = [
        ...rows.map((r) => r.reference).filter((r): r is string => r !== null),
        ...(filters.job ? [`job:${filters.job}`] : []),
        ...(filters.announcement ? [`announcement:${filters.announcement}`] : []),
      ];
      const names = await referenceNames(ctx, references);
      const active = await activeFilters(ctx, filters, names);
      const focus = filters.job
        ? { reference: `job:${filters.job}`, what: "job alert" }
        : filters.announcement
          ? { reference: `announcement:${filters.announcement}`, what: "announcement" }
          : null;
      const queuedOfFocus = focus ? await queuedOf(ctx, focus.reference) : 0;
      const here = consoleUrl(filters, { page: filters.page > 1 ? filters.page : undefined });
      const pausedUntil =
        state.paused_until && Date.parse(state.paused_until) > ctx.clock.now().getTime()
          ? state.paused_until
          : null;
      const failedOrUndelivered =
        (byStatus.get("failed") ?? 0) + (byStatus.get("undelivered") ?? 0);
      const anyQueued = rows.some((r) => r.status === "queued");
      return reply.html(
        <Layout page={page} title="SMS">
          <p>
            Sending through:{" "}
            <strong>
              {ctx.config.SMS_BACKEND === "twilio" ? "Twilio" : "capture on this server (not sent)"}
            </strong>
            {ctx.config.SMS_ENABLED ? "" : " (disabled)"}. Quiet hours:{" "}
            <strong safe>{describeQuietHours(ctx.config.SMS_QUIET_HOURS)}</strong> (messages queued
            as quiet wait until they end).
            {pausedUntil ? (
              <span
                safe
              >{` Sending paused by Twilio's rate limit until ${formatDateTime(pausedUntil)}.`}</span>
            ) : null}{" "}
            <a href="/admin/sms/templates">SMS texts and DLT ids</a>
          </p>
          {state.admin_paused_at === null ? (
            // Paused, the banner on every admin page says by whom and since when, with Resume.
            <form method="post" action="/admin/sms/pause" class="inline pause-sending">
              <CsrfField token={page.csrfToken} />
              <label>
                Reason (optional) <input type="text" name="reason" maxlength={200} />
              </label>{" "}
              <button type="submit" class="danger">
                Pause all sending
              </button>
            </form>
          ) : null}
          <ul class="counters small" aria-label="Messages per status, for these filters">
            {SMS_STATUSES.filter((s) => byStatus.has(s)).map((s) => (
              <li data-status={s}>
                <a
                  href={consoleUrl(filters, { status: s })}
                  aria-current={filters.status === s ? "true" : undefined}
                >
                  <strong safe>{formatNumber(byStatus.get(s) ?? 0)}</strong>{" "}
                  <span safe>{smsStatusLabel(s)}</span>
                </a>
              </li>
            ))}
            {failedOrUndelivered > 0 ? (
              <li data-status={FAILED_OR_UNDELIVERED}>
                <a
                  href={consoleUrl(filters, { status: FAILED_OR_UNDELIVERED })}
                  aria-current={filters.status === FAILED_OR_UNDELIVERED ? "true" : undefined}
                >
                  <strong>{failedOrUndelivered}</strong> Failed or not delivered
                </a>
              </li>
            ) : null}
          </ul>
          {active.length > 0 ? (
            <div class="active-filters">
              <p>Showing only:</p>
              <ul>
                {active.map((f) => (
                  <li>
                    <span safe>{f.words}</span>{" "}
                    <a href={f.without} class="small">
                      (remove)
                    </a>
                  </li>
                ))}
              </ul>
              <p>
                <a href="/admin/sms">Clear all filters</a>
              </p>
            </div>
          ) : null}
          <FilterForm filters={filters} />
          {charts.map((chart, i) => (
            <Chart chart={chart} id={`sms-chart-${i}`} />
          ))}
          <p safe>{plural(total, "message")}</p>
          {focus && queuedOfFocus > 0 ? (
            <form method="post" action="/admin/sms/cancel" class="inline">
              <CsrfField token={page.csrfToken} />
              <input type="hidden" name="reference" value={focus.reference} />
              <input type="hidden" name="next" value={here} />
              <button type="submit" class="danger" safe>
                {`Cancel all ${formatNumber(queuedOfFocus)} queued ${pluralWord(queuedOfFocus, "SMS", "SMS")} of this ${focus.what}`}
              </button>
            </form>
          ) : null}
          {anyQueued ? (
            <form method="post" action="/admin/sms/cancel" id="sms-selection" class="inline">
              <CsrfField token={page.csrfToken} />
              <input type="hidden" name="next" value={here} />
              <button type="submit">Cancel selected</button>
            </form>
          ) : null}
          <SmsTable
            messages={rows}
            names={names}
            {...(anyQueued ? { selectionForm: "sms-selection" } : {})}
          />
          <Pagination
            page={filters.page}
            pageSize={PAGE_SIZE}
            total={total}
            baseUrl="/admin/sms"
            query={filterParams(filters)}
          />
        </Layout>,
      );
    },
  );

  app.get<{ Params: { id: number } }>(
    "/sms/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const id = request.params.id;
      const message = await ctx.db
        .selectFrom("sms_messages")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      if (!message) throw new HttpError(404, "There is no such SMS.");
      const [attempts, student, names, resends] = await Promise.all([
        ctx.db
          .selectFrom("sms_attempts")
          .selectAll()
          .where("message_id", "=", id)
          .orderBy("id")
          .execute(),
        message.student_id
          ? ctx.db
              .selectFrom("students")
              .select(["id", "full_name", "roll_number", "phone_e164"])
              .where("id", "=", message.student_id)
              .executeTakeFirst()
          : undefined,
        referenceNames(ctx, message.reference ? [message.reference] : []),
        // Its resends (by an admin, or after an undelivered report): the history stays on each row.
        ctx.db
          .selectFrom("sms_messages")
          .select(["id", "status"])
          .where("resend_of", "=", id)
          .orderBy("id")
          .execute(),
      ]);
      const page = pageContext(request, reply);
      const explained = message.error_code !== null ? explainError(message.error_code) : null;
      const here = `/admin/sms/${id}`;
      return reply.html(
        <Layout page={page} title={`SMS ${id}`}>
          <p>
            <a href="/admin/sms">← All SMS</a>
          </p>
          <dl class="facts">
            <dt>Kind</dt>
            <dd safe>{smsKindLabel(message.kind)}</dd>
            {message.reference ? (
              <>
                <dt>About</dt>
                <dd>
                  <Reference reference={message.reference} names={names} message={message} />{" "}
                  <a
                    href={
                      message.reference.startsWith("job:")
                        ? consoleUrl({ page: 1, job: Number(message.reference.slice(4)) })
                        : message.reference.startsWith("announcement:")
                          ? consoleUrl({
                              page: 1,
                              announcement: Number(message.reference.slice(13)),
                            })
                          : "/admin/sms"
                    }
                    class="small"
                  >
                    (all its messages)
                  </a>
                </dd>
              </>
            ) : null}
            <dt>Student</dt>
            <dd>
              {student ? (
                <a href={`/admin/students/${student.id}`} safe>
                  {`${student.full_name} (${student.roll_number})`}
                </a>
              ) : message.student_name !== null ? (
                <Recipient message={message} />
              ) : (
                <span>No student (deleted, or sent to a number)</span>
              )}
            </dd>
            <dt>Number</dt>
            <dd safe>{message.to_e164}</dd>
            <dt>Text</dt>
            <dd>
              <pre class="sms-text" safe>
                {displayedBody(message)}
              </pre>
              {message.masked_body !== null ? (
                <small class="hint">
                  It carries a one-time code, hidden here: only the student may see it.
                </small>
              ) : null}
            </dd>
            <dt>Length</dt>
            <dd
              safe
            >{`${plural(message.segments, "segment")}, ${message.encoding === "UCS-2" ? "UCS-2 (Unicode: 70 characters a segment)" : "GSM-7 (160 characters a segment)"}`}</dd>
            <dt>Status</dt>
            <dd>
              <span class={`status status-${message.status}`} safe>
                {smsStatusLabel(message.status)}
              </span>
              {message.provider_status ? (
                <small class="hint" safe>{` Twilio says: ${message.provider_status}`}</small>
              ) : null}
            </dd>
            <dt>Created</dt>
            <dd safe>{formatDateTime(message.created_at)}</dd>
            <dt>Sent</dt>
            <dd safe>{formatDateTime(message.sent_at)}</dd>
            <dt>Delivered</dt>
            <dd safe>{formatDateTime(message.delivered_at)}</dd>
            <dt>Twilio message SID</dt>
            <dd safe>{message.twilio_sid ?? "—"}</dd>
            {message.resend_of !== null ? (
              <>
                <dt>Resend of</dt>
                <dd>
                  <a href={`/admin/sms/${message.resend_of}`} safe>
                    {`SMS ${message.resend_of}`}
                  </a>
                </dd>
              </>
            ) : null}
            {resends.length > 0 ? (
              <>
                <dt>Resent as</dt>
                <dd>
                  {resends.map((r, i) => (
                    <>
                      {i > 0 ? ", " : ""}
                      <a href={`/admin/sms/${r.id}`} safe>
                        {`SMS ${r.id}`}
                      </a>{" "}
                      <span safe>{`(${smsStatusLabel(r.status)})`}</span>
                    </>
                  ))}
                </dd>
              </>
            ) : null}
            {message.template_id ? (
              <>
                <dt>Template</dt>
                <dd>
                  <a href={`/admin/sms/templates/${encodeURIComponent(message.template_id)}`} safe>
                    {`${message.template_id}, version ${message.template_version ?? 1}`}
                  </a>
                </dd>
              </>
            ) : null}
            {explained ? (
              <>
                <dt>Error</dt>
                <dd class="sms-error">
                  <strong safe>{explained.short}</strong>{" "}
                  <span safe>{`(Twilio error ${explained.code})`}</span>
                  {explained.action ? <p safe>{`What to do: ${explained.action}`}</p> : null}
                  {explained.known ? null : (
                    <p safe>{`Twilio's page for it: ${explained.moreInfoUrl}`}</p>
                  )}
                  {message.error_message ? (
                    <p class="hint" safe>{`Twilio's words: ${message.error_message}`}</p>
                  ) : null}
                </dd>
              </>
            ) : message.error_message ? (
              <>
                <dt>Note</dt>
                <dd safe>{message.error_message}</dd>
              </>
            ) : null}
          </dl>
          {message.status === "unknown" ? (
            <p class="notice">
              Outcome unknown: this message may have been sent. Its last attempt may have reached
              Twilio, and Twilio could not be asked whether it did before the portal gave up. It is
              not sent again on its own; a resend may reach the student twice.
            </p>
          ) : null}
          {message.cancel_requested_at !== null &&
          (message.status === "queued" || message.status === "sending") ? (
            <p class="notice" safe>
              {`Cancel asked for ${formatDateTime(message.cancel_requested_at)} (${message.cancel_reason ?? "cancelled"}): an earlier attempt may already have reached Twilio, so it is being checked first. It is cancelled if it was not sent.`}
            </p>
          ) : null}
          {(message.status === "failed" ||
            message.status === "undelivered" ||
            message.status === "unknown") &&
          message.masked_body !== null ? (
            <p class="hint">{SECRET_NOT_RESENT}</p>
          ) : message.status === "failed" || message.status === "undelivered" ? (
            <form method="post" action={`/admin/sms/${id}/resend`} class="inline">
              <CsrfField token={page.csrfToken} />
              <button type="submit">Resend</button>
            </form>
          ) : message.status === "unknown" ? (
            // Asks first: a resend of a message that may have arrived may arrive twice.
            <form method="post" action={`/admin/sms/${id}/resend`} class="inline">
              <CsrfField token={page.csrfToken} />
              <button type="submit">Resend…</button>
            </form>
          ) : null}
          {message.status === "queued" ? (
            <form method="post" action="/admin/sms/cancel" class="inline">
              <CsrfField token={page.csrfToken} />
              <input type="hidden" name="ids" value={String(id)} />
              <input type="hidden" name="next" value={here} />
              <button type="submit" class="danger">
                Cancel
              </button>
            </form>
          ) : null}
          <h2>Attempts</h2>
          {attempts.length === 0 ? (
            <p class="empty">No attempt yet.</p>
          ) : (
            <AttemptsTable attempts={attempts} />
          )}
        </Layout>,
      );
    },
  );
}

function AttemptsTable({ attempts }: { attempts: SmsAttempt[] }) {
  // On a phone the table scrolls sideways inside its box: focusable, so keys can scroll it too.
  return (
    <section class="table-wrap" aria-label="Attempts" tabindex="0">
      <table class="sms-attempts">
        <thead>
          <tr>
            <th scope="col">Attempt</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
            <th scope="col">Outcome</th>
            <th scope="col">Twilio message SID</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr>
              <td safe>{String(a.attempt)}</td>
              <td safe>{formatDateTime(a.started_at)}</td>
              <td safe>{formatDateTime(a.finished_at)}</td>
              <td safe>{attemptOutcomeLabel(a.outcome)}</td>
              <td safe>{a.twilio_sid ?? "—"}</td>
              <td safe>
                {a.error_code !== null
                  ? `${explainError(a.error_code).short} (${a.error_code})`
                  : (a.error_message ?? "")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const OUTCOME_LABELS: Record<string, string> = {
  sent: "Accepted by Twilio",
  captured: "Captured on this server (not sent)",
  retry: "Failed; tried again later",
  failed: "Failed",
  opted_out: "Refused: the student opted out",
  credentials: "Refused: Twilio credentials",
  reconciled: "Found at Twilio: it had gone out",
};

function attemptOutcomeLabel(outcome: string): string {
  return OUTCOME_LABELS[outcome] ?? outcome;
}

function FilterForm({ filters }: { filters: SmsFilters }) {
  return (
    <form method="get" action="/admin/sms" class="filters" aria-label="Filter SMS">
      <label>
        Status
        <select name="status">
          <option value="">All</option>
          {SMS_STATUSES.map((s) => (
            <option value={s} selected={filters.status === s} safe>
              {smsStatusLabel(s)}
            </option>
          ))}
          <option value={FAILED_OR_UNDELIVERED} selected={filters.status === FAILED_OR_UNDELIVERED}>
            Failed or not delivered
          </option>
        </select>
      </label>
      <label>
        Kind
        <select name="kind">
          <option value="">All</option>
          {SMS_KINDS.map((k) => (
            <option value={k} selected={filters.kind === k} safe>
              {smsKindLabel(k)}
            </option>
          ))}
        </select>
      </label>
      <label>
        From <input type="date" name="from" value={filters.from ?? ""} />
      </label>
      <label>
        Until <input type="date" name="until" value={filters.until ?? ""} />
      </label>
      <label>
        Student{" "}
        <input
          type="search"
          name="student"
          value={filters.student ?? ""}
          placeholder="Name, roll number or phone"
        />
      </label>
      {(
        [
          ["since", filters.since],
          ["job", filters.job],
          ["announcement", filters.announcement],
          ["student_id", filters.studentId],
          ["to", filters.to],
        ] as const
      )
        .filter(([, v]) => v !== undefined)
        .map(([name, v]) => (
          <input type="hidden" name={name} value={String(v)} />
        ))}
      <button type="submit">Filter</button>
    </form>
  );
}
