import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ROUND_KINDS } from "../db/schema.ts";
import { jobOr404 } from "../jobs/lookup.ts";
import {
  batchesWithCounts,
  batchLabel,
  ROUND_KIND_LABELS,
  SlotPlace,
  slotLabel,
} from "../placement/rounds.tsx";
import { STATUS_LABELS } from "../placement/stages.ts";
import { renderCurrent } from "../sms/template-store.ts";
import { currentActor, flash, HttpError, requireRole, summariseForFlash } from "../web/auth.ts";
import {
  Field,
  FormErrorSummary,
  type FormState,
  SelectField,
  TextAreaField,
} from "../web/components.tsx";
import { ConfirmPage, echoFields, isConfirmed } from "../web/confirm.tsx";
import { formatNumber, jobName, plural } from "../web/format.ts";
import { checkboxField, dateTimeLocalField, parseForm } from "../web/forms.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idList, idParams, textParam } from "../web/schemas.ts";
import { SelectAllBox, SelectAllScript } from "../web/select.tsx";
import { formatDateTime, parseLocalDateTime, toLocalInput } from "../web/time.ts";
import { roundMovedSms, roundScheduledSms, slotVars } from "./notices.ts";
import { remindersFor } from "./reminders.ts";
import {
  type AdditionPlan,
  addMembers,
  addSlot,
  applyResults,
  cancelRound,
  createRound,
  dayPlan,
  findRound,
  MARK_LABELS,
  MARKS,
  type Mark,
  markMembers,
  parseRollNumbers,
  planAddition,
  planResults,
  type RoundRow,
  removeMembers,
  roundMembers,
  roundSchema,
  roundsOfJob,
  type Selection,
  updateRound,
} from "./service.ts";

const KIND_OPTIONS = ROUND_KINDS.map((k) => ({ value: k, label: ROUND_KIND_LABELS[k] }));

function RoundFields({ form, isNew }: { form: FormState; isNew: boolean }) {
  return (
    <>
      <Field form={form} name="name" label="Name (such as Aptitude test)" required />
      <SelectField form={form} name="kind" label="Kind" options={KIND_OPTIONS} required />
      <Field
        form={form}
        name="starts_at"
        type="datetime-local"
        label={
          isNew ? "Date and time (India time)" : "Date and time of the first batch (India time)"
        }
        hint={isNew ? undefined : "A new time moves every batch by as much; each student is told."}
        required
      />
      <Field
        form={form}
        name="duration_minutes"
        type="number"
        min="5"
        max="1440"
        label="Duration (minutes)"
        required
      />
      <Field form={form} name="venue" label="Venue" hint="A room, or leave it empty for online." />
      <Field form={form} name="meeting_link" type="url" label="Meeting link (online rounds)" />
      <TextAreaField
        form={form}
        name="instructions"
        label="Instructions"
        hint="What to bring, how to join: on the student's page and calendar, not in the SMS."
      />
      {isNew ? (
        <>
          <Field
            form={form}
            name="batches"
            label="Other batches the same day (optional)"
            hint="Times such as 11:00, 12:00: each is a batch of its own."
          />
          <Field
            form={form}
            name="capacity"
            type="number"
            min="1"
            label="Places in each batch (optional)"
          />
        </>
      ) : null}
    </>
  );
}

function RefusedList({ plan }: { plan: AdditionPlan }) {
  return (
    <>
      {plan.full ? <p safe>{plan.full}</p> : null}
      {plan.refused.length > 0 ? (
        <>
          <p safe>{`${plural(plan.refused.length, "entry", "entries")} cannot join:`}</p>
          <ul>
            {plan.refused.map((r) => (
              <li safe>{r}</li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

/** Why nothing was added, with the first few entries that could not join. */
function refusalWords(result: { problem: string; plan?: AdditionPlan }): string {
  const why = result.plan ? [result.plan.full ?? "", ...result.plan.refused].filter(Boolean) : [];
  return `${result.problem}${why.length > 0 ? ` ${summariseForFlash(why)}.` : ""}`;
}

export async function adminRoundRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  async function roundOr404(id: number): Promise<RoundRow> {
    const round = await findRound(ctx.db, id);
    if (!round) throw new HttpError(404, "There is no such round.");
    return round;
  }

  async function JobRoundsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    jobId: number,
    form: FormState,
  ) {
    const job = await jobOr404(ctx, jobId);
    const rounds = await roundsOfJob(ctx.db, job.id);
    const page = pageContext(request, reply);
    return (
      <Layout page={page} title={`Rounds: ${jobName(job)}`}>
        <p>
          <a href={`/admin/jobs/${job.id}`}>Job details</a> ·{" "}
          <a href={`/admin/jobs/${job.id}/applicants`}>Applicants</a>
        </p>
        {rounds.length === 0 ? (
          <p class="empty">No rounds yet. Add the first below.</p>
        ) : (
          <ol class="rounds">
            {rounds.map((r) => (
              <li>
                <a href={`/admin/rounds/${r.id}`} safe>
                  {r.name}
                </a>{" "}
                <span class="hint" safe>
                  {ROUND_KIND_LABELS[r.kind]}
                </span>
                {r.cancelled_at ? <span class="status status-closed">Cancelled</span> : null}
                <ul>
                  {r.slots.map((s) => (
                    <li safe>{batchLabel(s)}</li>
                  ))}
                </ul>
              </li>
            ))}
          </ol>
        )}
        <section class="card">
          <h2>Add a round</h2>
          <form method="post" action={`/admin/jobs/${job.id}/rounds`} novalidate>
            <CsrfField token={page.csrfToken} />
            <FormErrorSummary form={form} />
            <RoundFields form={form} isNew />
            <button type="submit">Add the round</button>
          </form>
        </section>
      </Layout>
    );
  }

  app.get<{ Params: { id: number } }>(
    "/jobs/:id/rounds",
    { schema: { params: idParams } },
    async (request, reply) =>
      reply.html(
        await JobRoundsPage(request, reply, request.params.id, {
          values: { duration_minutes: "60", kind: "test" },
          errors: {},
        }),
      ),
  );

  app.post<{ Params: { id: number } }>(
    "/jobs/:id/rounds",
    { schema: { params: idParams } },
    async (request, reply) => {
      const job = await jobOr404(ctx, request.params.id);
      const parsed = parseForm(roundSchema(ctx.clock.now(), true), request.body);
      if (!parsed.ok)
        return reply.code(400).html(await JobRoundsPage(request, reply, job.id, parsed));
      const created = await createRound(ctx, currentActor(request), job.id, parsed.data);
      if (!created) throw new HttpError(404, "There is no such job.");
      flash(request, "success", `${parsed.data.name} added. Put applicants in it below.`);
      return reply.redirect(`/admin/rounds/${created.id}`, 303);
    },
  );

  app.get<{ Params: { id: number } }>(
    "/rounds/:id",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const [slots, members] = await Promise.all([
        batchesWithCounts(ctx.db, { roundId: round.id }),
        roundMembers(ctx.db, round.id),
      ]);
      const page = pageContext(request, reply);
      const now = ctx.clock.now();
      const open = slots.filter((s) => Date.parse(s.starts_at) > now.getTime());
      return reply.html(
        <Layout page={page} title={`${round.name}: ${jobName(round)}`}>
          <p>
            <a href={`/admin/jobs/${round.job_id}/rounds`}>All rounds of this job</a> ·{" "}
            <a href={`/admin/jobs/${round.job_id}/applicants`}>Applicants</a>
          </p>
          <section class="card">
            <p>
              <strong safe>{ROUND_KIND_LABELS[round.kind]}</strong>
              {round.cancelled_at ? (
                <span class="status status-closed" safe>
                  {`Cancelled ${formatDateTime(round.cancelled_at)}`}
                </span>
              ) : null}
            </p>
            <p safe>{`${plural(round.duration_minutes, "minute")} each batch`}</p>
            <p>
              <SlotPlace slot={round} />
            </p>
            {round.instructions !== "" ? <p safe>{round.instructions}</p> : null}
            {round.cancelled_at ? null : (
              <form method="post" action={`/admin/rounds/${round.id}/cancel`} class="buttons">
                <CsrfField token={page.csrfToken} />
                <a class="button" href={`/admin/rounds/${round.id}/edit`}>
                  Edit or reschedule
                </a>
                <button type="submit" class="danger">
                  Cancel the round…
                </button>
              </form>
            )}
          </section>
          <h2>Batches</h2>
          <ul>
            {slots.map((s) => (
              <li safe>{batchLabel(s)}</li>
            ))}
          </ul>
          {round.cancelled_at ? null : (
            <>
              <form method="post" action={`/admin/rounds/${round.id}/batches`} class="filters">
                <CsrfField token={page.csrfToken} />
                <label>
                  New batch at (India time){" "}
                  <input type="datetime-local" name="starts_at" required />
                </label>
                <label>
                  Places <input type="number" name="capacity" min="1" />
                </label>
                <button type="submit">Add a batch</button>
              </form>
              {open.length > 0 ? (
                <section class="card">
                  <h2>Put students in this round</h2>
                  <form method="post" action="/admin/rounds/members">
                    <CsrfField token={page.csrfToken} />
                    <input type="hidden" name="round" value={String(round.id)} />
                    <div class="field">
                      <label for="add-slot">Batch</label>
                      <select id="add-slot" name="slot">
                        {open.map((s) => (
                          <option value={String(s.id)} safe>
                            {batchLabel(s)}
                          </option>
                        ))}
                      </select>
                    </div>
                    <div class="field">
                      <label for="roll-numbers">
                        Roll numbers (one per line, or separated by commas)
                      </label>
                      <textarea id="roll-numbers" name="roll_numbers" rows="4"></textarea>
                    </div>
                    <p class="hint">
                      Or choose applicants on the{" "}
                      <a href={`/admin/jobs/${round.job_id}/applicants`}>applicants page</a>.
                    </p>
                    <button type="submit">Put them in…</button>
                  </form>
                </section>
              ) : null}
            </>
          )}
          <h2 safe>{`Students (${formatNumber(members.length)})`}</h2>
          {members.length === 0 ? (
            <p class="empty">Nobody is in this round yet.</p>
          ) : (
            <form method="post" action={`/admin/rounds/${round.id}/mark`} name="members">
              <CsrfField token={page.csrfToken} />
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">
                        <SelectAllBox name="students" label="Select every student of this round" />
                      </th>
                      <th scope="col">Name</th>
                      <th scope="col">Roll number</th>
                      <th scope="col">Batch</th>
                      <th scope="col">Attendance</th>
                      <th scope="col">Result</th>
                      <th scope="col">Application</th>
                    </tr>
                  </thead>
                  <tbody>
                    {members.map((m) => (
                      <tr>
                        <td>
                          <input
                            type="checkbox"
                            name="students"
                            value={String(m.student_id)}
                            aria-label={`Select ${m.full_name}`}
                          />
                        </td>
                        <td>
                          <a href={`/admin/students/${m.student_id}`} safe>
                            {m.full_name}
                          </a>
                        </td>
                        <td safe>{m.roll_number}</td>
                        <td safe>{formatDateTime(m.starts_at)}</td>
                        <td>{m.attendance ? MARK_LABELS[m.attendance] : "—"}</td>
                        <td>{m.result ? MARK_LABELS[m.result] : "—"}</td>
                        <td>{STATUS_LABELS[m.status]}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div class="buttons">
                {(Object.keys(MARKS) as Mark[]).map((mark) => (
                  <button type="submit" name="mark" value={mark} class="small" safe>
                    {`Mark ${MARK_LABELS[mark].toLowerCase()}`}
                  </button>
                ))}
                <button
                  type="submit"
                  class="small danger"
                  formaction={`/admin/rounds/${round.id}/remove`}
                >
                  Take out of the round…
                </button>
              </div>
            </form>
          )}
          <SelectAllScript />
          {members.length > 0 && !round.cancelled_at ? (
            <form method="post" action={`/admin/rounds/${round.id}/results`} class="buttons">
              <CsrfField token={page.csrfToken} />
              <button type="submit">Apply the results…</button>
            </form>
          ) : null}
        </Layout>,
      );
    },
  );

  function EditPage(
    request: FastifyRequest,
    reply: FastifyReply,
    round: RoundRow,
    form: FormState,
  ) {
    const page = pageContext(request, reply);
    return (
      <Layout page={page} title={`Edit ${round.name}: ${jobName(round)}`}>
        <form method="post" action={`/admin/rounds/${round.id}/edit`} novalidate>
          <CsrfField token={page.csrfToken} />
          <FormErrorSummary form={form} />
          <RoundFields form={form} isNew={false} />
          <div class="buttons">
            <a class="button secondary" href={`/admin/rounds/${round.id}`}>
              Back
            </a>
            <button type="submit">Save…</button>
          </div>
        </form>
      </Layout>
    );
  }

  app.get<{ Params: { id: number } }>(
    "/rounds/:id/edit",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const [first] = await batchesWithCounts(ctx.db, { roundId: round.id });
      return reply.html(
        EditPage(request, reply, round, {
          values: {
            name: round.name,
            kind: round.kind,
            starts_at: first ? toLocalInput(first.starts_at) : "",
            duration_minutes: String(round.duration_minutes),
            venue: round.venue,
            meeting_link: round.meeting_link ?? "",
            instructions: round.instructions,
          },
          errors: {},
        }),
      );
    },
  );

  app.post<{ Params: { id: number } }>(
    "/rounds/:id/edit",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const [slots, members] = await Promise.all([
        batchesWithCounts(ctx.db, { roundId: round.id }),
        roundMembers(ctx.db, round.id),
      ]);
      const parsed = parseForm(
        roundSchema(ctx.clock.now(), false, slots[0]?.starts_at),
        request.body,
      );
      if (!parsed.ok) return reply.code(400).html(EditPage(request, reply, round, parsed));
      const input = parsed.data;
      const first = slots[0];
      const moves =
        (first && Date.parse(first.starts_at) !== Date.parse(input.starts_at)) ||
        round.venue !== input.venue ||
        round.meeting_link !== input.meeting_link;
      const reachable = members.filter((m) => m.sms_opted_out_at === null).length;
      if (moves && members.length > 0 && !isConfirmed(request.body)) {
        const shift = first ? Date.parse(input.starts_at) - Date.parse(first.starts_at) : 0;
        const example = await renderCurrent(
          ctx.db,
          roundMovedSms,
          slotVars({
            id: 0,
            starts_at: new Date(
              Date.parse(first?.starts_at ?? input.starts_at) + shift,
            ).toISOString(),
            round_name: input.name,
            company: round.company,
            venue: input.venue,
            meeting_link: input.meeting_link,
          }),
        );
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Change ${round.name}?`}
            action={`/admin/rounds/${round.id}/edit`}
            fields={echoFields(request.body)}
            confirmLabel="Save and tell the students"
            cancelHref={`/admin/rounds/${round.id}`}
            sms={
              <p safe>
                {reachable === 0
                  ? "Nobody gets an SMS: every student of this round opted out of SMS."
                  : `${plural(reachable, "student")} will get one SMS each, for example: “${example.body}”. Their reminders not sent yet are replaced by ones for the new time.`}
              </p>
            }
          >
            <ul>
              {slots.map((s) => (
                <li
                  safe
                >{`${slotLabel(s)} → ${slotLabel({ starts_at: new Date(Date.parse(s.starts_at) + shift).toISOString() })}`}</li>
              ))}
            </ul>
            {round.venue !== input.venue ? (
              <p safe>{`Venue: ${round.venue || "none"} → ${input.venue || "none"}`}</p>
            ) : null}
          </ConfirmPage>,
        );
      }
      const result = await updateRound(ctx, currentActor(request), round.id, input);
      if (!result.ok) flash(request, "error", result.problem);
      else
        flash(
          request,
          "success",
          result.moved
            ? `Saved. ${plural(result.told, "student")} told by SMS; ${plural(result.reminders, "reminder")} queued for the new time.`
            : "Saved.",
        );
      return reply.redirect(`/admin/rounds/${round.id}`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/rounds/:id/cancel",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      if (!isConfirmed(request.body)) {
        const members = await roundMembers(ctx.db, round.id);
        const reachable = members.filter((m) => m.sms_opted_out_at === null).length;
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Cancel ${round.name}?`}
            action={`/admin/rounds/${round.id}/cancel`}
            fields={{}}
            confirmLabel="Cancel the round"
            cancelLabel="Keep it"
            cancelHref={`/admin/rounds/${round.id}`}
            sms={
              <p safe>
                {reachable === 0
                  ? "Nobody gets an SMS."
                  : `${plural(reachable, "student")} will get one SMS each saying it is cancelled; their reminders will not go.`}
              </p>
            }
          >
            <p
              safe
            >{`${round.name} for ${jobName(round)} will not take place. It stays on the students' calendars, marked cancelled.`}</p>
          </ConfirmPage>,
        );
      }
      const result = await cancelRound(ctx, currentActor(request), round.id);
      if (!result.ok) flash(request, "error", result.problem);
      else flash(request, "success", `Cancelled. ${plural(result.told, "student")} told by SMS.`);
      return reply.redirect(`/admin/rounds/${round.id}`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/rounds/:id/batches",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const startsAt = dateTimeLocalField({ label: "the batch's time" }).safeParse(body.starts_at);
      const capacityText = typeof body.capacity === "string" ? body.capacity.trim() : "";
      const capacity = /^[1-9]\d{0,4}$/.test(capacityText) ? Number(capacityText) : null;
      if (round.cancelled_at) flash(request, "error", "This round was cancelled.");
      else if (!startsAt.success || Date.parse(startsAt.data) <= ctx.clock.now().getTime())
        flash(request, "error", "Enter the batch's date and time, in the future.");
      else if (capacityText !== "" && capacity === null)
        flash(request, "error", "Places must be a whole number from 1 to 99999, or empty.");
      else {
        await addSlot(ctx, currentActor(request), round, startsAt.data, capacity);
        flash(request, "success", `Batch added at ${slotLabel({ starts_at: startsAt.data })}.`);
      }
      return reply.redirect(`/admin/rounds/${round.id}`, 303);
    },
  );

  /**
   * Putting students in a round: from the applicants page (chosen applications, `ids`) or the
   * round page (pasted roll numbers), into a batch (`slot`). It asks first, listing who joins and
   * who cannot; one who cannot stops the whole paste, so nothing is half done.
   */
  app.post("/rounds/members", async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const [slotId] = idList(body.slot);
    const slotRow = slotId
      ? await ctx.db
          .selectFrom("round_slots")
          .select(["id", "round_id", "starts_at", "capacity"])
          .where("id", "=", slotId)
          .executeTakeFirst()
      : undefined;
    if (!slotRow) throw new HttpError(400, "Choose a round and one of its batches.");
    const round = await roundOr404(slotRow.round_id);
    const rollText = typeof body.roll_numbers === "string" ? body.roll_numbers : "";
    const selection: Selection =
      body.ids !== undefined
        ? { applicationIds: idList(body.ids) }
        : { rollNumbers: parseRollNumbers(rollText).slice(0, 2000) };
    const back = `/admin/rounds/${round.id}`;
    if (!isConfirmed(request.body)) {
      const plan = await planAddition(ctx.db, round, slotRow, selection);
      const page = pageContext(request, reply);
      const refusedPage =
        plan.refused.length > 0 || plan.full !== null || plan.joining.length === 0;
      if (refusedPage)
        return reply.code(plan.joining.length === 0 && plan.refused.length === 0 ? 400 : 409).html(
          <Layout page={page} title="Nobody was put in the round">
            <section class="card">
              {plan.joining.length === 0 && plan.refused.length === 0 ? (
                <p>Choose at least one applicant, or paste roll numbers.</p>
              ) : (
                <>
                  <RefusedList plan={plan} />
                  <p
                    safe
                  >{`${plural(plan.joining.length, "other student")} could join. Correct the list and send it again: nobody is added until every entry can be.`}</p>
                </>
              )}
              <form method="post" action="/admin/rounds/members">
                <CsrfField token={page.csrfToken} />
                <input type="hidden" name="slot" value={String(slotRow.id)} />
                <div class="field">
                  <label for="roll-numbers">Roll numbers</label>
                  <textarea id="roll-numbers" name="roll_numbers" rows="6" safe>
                    {"rollNumbers" in selection
                      ? selection.rollNumbers.join("\n")
                      : plan.joining.map((j) => j.roll_number).join("\n")}
                  </textarea>
                </div>
                <div class="buttons">
                  <a class="button secondary" href={back}>
                    Back to the round
                  </a>
                  <button type="submit">Check again…</button>
                </div>
              </form>
            </section>
          </Layout>,
        );
      const reachable = plan.joining.filter((j) => j.sms_opted_out_at === null).length;
      const forSms = {
        id: slotRow.id,
        starts_at: slotRow.starts_at,
        round_name: round.name,
        company: round.company,
        venue: round.venue,
        meeting_link: round.meeting_link,
      };
      const example = await renderCurrent(ctx.db, roundScheduledSms, slotVars(forSms));
      const reminders = remindersFor(new Date(slotRow.starts_at), ctx.config, ctx.clock.now());
      return reply.html(
        <ConfirmPage
          page={page}
          title={`Put ${plural(plan.joining.length, "student")} in ${round.name}?`}
          action="/admin/rounds/members"
          fields={{
            slot: slotRow.id,
            ...("applicationIds" in selection
              ? { ids: plan.joining.map((j) => j.application_id) }
              : { roll_numbers: plan.joining.map((j) => j.roll_number).join(", ") }),
          }}
          confirmLabel={`Put ${plural(plan.joining.length, "student")} in`}
          cancelHref={back}
          sms={
            <>
              <p safe>
                {reachable === 0
                  ? "Nobody gets an SMS: they opted out of SMS."
                  : `${plural(reachable, "student")} will get an SMS now: “${example.body}”`}
              </p>
              <p safe>
                {reminders.length === 0
                  ? "No reminder: the batch is too near for one."
                  : `And ${reminders.length === 1 ? "a reminder" : `${reminders.length} reminders`} each, at ${reminders.map((r) => formatDateTime(r.dueAt.toISOString())).join(" and ")} (never after the batch starts${ctx.config.SMS_QUIET_HOURS ? "; not in quiet hours" : ""}).`}
              </p>
            </>
          }
        >
          <p safe>{`${jobName(round)}, ${round.name}, batch of ${slotLabel(slotRow)}:`}</p>
          <ul>
            {plan.joining.slice(0, 200).map((j) => (
              <li safe>{`${j.full_name} (${j.roll_number})`}</li>
            ))}
            {plan.joining.length > 200 ? (
              <li safe>{`and ${plan.joining.length - 200} more`}</li>
            ) : null}
          </ul>
        </ConfirmPage>,
      );
    }
    const result = await addMembers(ctx, currentActor(request), round.id, slotRow.id, selection);
    if (!result.ok) flash(request, "error", refusalWords(result));
    else
      flash(
        request,
        "success",
        `${plural(result.added, "student")} put in ${round.name}; ${plural(result.told, "SMS", "SMS")} queued now and ${plural(result.reminders, "reminder")} for later.`,
      );
    return reply.redirect(back, 303);
  });

  app.post<{ Params: { id: number } }>(
    "/rounds/:id/mark",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const mark = typeof body.mark === "string" && body.mark in MARKS ? (body.mark as Mark) : null;
      const ids = idList(body.students, 5000);
      if (!mark) flash(request, "error", "Choose what to mark.");
      else if (ids.length === 0) flash(request, "error", "Select at least one student.");
      else {
        const n = await markMembers(ctx, currentActor(request), round, ids, mark);
        flash(
          request,
          "success",
          `${plural(n, "student")} marked ${MARK_LABELS[mark].toLowerCase()}.`,
        );
      }
      return reply.redirect(`/admin/rounds/${round.id}`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/rounds/:id/remove",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const ids = idList(body.students, 5000);
      if (ids.length === 0) {
        flash(request, "error", "Select at least one student.");
        return reply.redirect(`/admin/rounds/${round.id}`, 303);
      }
      if (!isConfirmed(request.body)) {
        const members = (await roundMembers(ctx.db, round.id)).filter((m) =>
          ids.includes(m.student_id),
        );
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Take ${plural(members.length, "student")} out of ${round.name}?`}
            action={`/admin/rounds/${round.id}/remove`}
            fields={{ students: members.map((m) => m.student_id) }}
            confirmLabel="Take them out"
            cancelHref={`/admin/rounds/${round.id}`}
            sms={<p>Nobody gets an SMS; their reminders not sent yet will not go.</p>}
          >
            <ul>
              {members.map((m) => (
                <li safe>{`${m.full_name} (${m.roll_number})`}</li>
              ))}
            </ul>
          </ConfirmPage>,
        );
      }
      const n = await removeMembers(ctx, currentActor(request), round, ids);
      flash(request, "success", `${plural(n, "student")} taken out of ${round.name}.`);
      return reply.redirect(`/admin/rounds/${round.id}`, 303);
    },
  );

  app.post<{ Params: { id: number } }>(
    "/rounds/:id/results",
    { schema: { params: idParams } },
    async (request, reply) => {
      const round = await roundOr404(request.params.id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const [nextSlotId] = idList(body.next_slot);
      const closeOthers = checkboxField.parse(body.close_others);
      if (!isConfirmed(request.body)) {
        const plan = await planResults(ctx.db, round);
        const now = ctx.clock.now().getTime();
        const open = plan.nextRound?.slots.filter((s) => Date.parse(s.starts_at) > now) ?? [];
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Apply the results of ${round.name}?`}
            action={`/admin/rounds/${round.id}/results`}
            fields={{}}
            confirmLabel="Apply the results"
            cancelHref={`/admin/rounds/${round.id}`}
            inputs={
              <>
                {plan.nextRound && plan.passed > 0 ? (
                  <label>
                    <span
                      safe
                    >{`Put the ${plural(plan.passed, "student")} who passed in ${plan.nextRound.name}, batch `}</span>
                    <select name="next_slot">
                      <option value="">None: not now</option>
                      {open.map((s) => (
                        <option value={String(s.id)} safe>
                          {batchLabel(s)}
                        </option>
                      ))}
                    </select>
                  </label>
                ) : null}
                {plan.closing.length > 0 ? (
                  <label>
                    <input type="checkbox" name="close_others" value="on" checked />
                    <span
                      safe
                    >{` Reject the ${plural(plan.closing.length, "application")} of those who did not pass`}</span>
                  </label>
                ) : null}
              </>
            }
            sms={
              <p>
                Those put in the next round get its SMS and reminders; those rejected get the status
                SMS every rejection sends.
              </p>
            }
          >
            <p safe>
              {`${plural(plan.passed, "student")} passed${plan.nextRound ? "" : " (this is the last round: move them on from the applicants page)"}; ${plural(plan.closing.length, "open application")} of students who did not pass; ${plural(plan.undecided, "student")} without a result yet stay as they are.`}
            </p>
            {plan.closing.length > 0 ? (
              <ul>
                {plan.closing.slice(0, 100).map((c) => (
                  <li safe>{`${c.full_name} (${c.roll_number})`}</li>
                ))}
              </ul>
            ) : null}
          </ConfirmPage>,
        );
      }
      const result = await applyResults(ctx, currentActor(request), round, {
        nextSlotId: nextSlotId ?? null,
        closeOthers,
      });
      if (!result.ok) flash(request, "error", refusalWords(result));
      else
        flash(
          request,
          "success",
          `Results applied: ${plural(result.movedOn, "student")} put in the next round, ${plural(result.closed, "application")} rejected.`,
        );
      return reply.redirect(`/admin/rounds/${round.id}`, 303);
    },
  );

  app.get<{ Querystring: { day?: string } }>(
    "/rounds",
    { schema: { querystring: { type: "object", properties: { day: textParam(10) } } } },
    async (request, reply) => {
      const today = toLocalInput(ctx.clock.now().toISOString()).slice(0, 10);
      const dayText = /^\d{4}-\d{2}-\d{2}$/.test(request.query.day ?? "")
        ? (request.query.day as string)
        : today;
      const day = parseLocalDateTime(`${dayText}T12:00`);
      if (!day) throw new HttpError(400, "Choose a day that exists on the calendar.");
      const slots = await dayPlan(ctx.db, day);
      const page = pageContext(request, reply);
      const shift = (days: number) =>
        toLocalInput(new Date(day.getTime() + days * 86_400_000).toISOString()).slice(0, 10);
      return reply.html(
        <RoundDayPage
          page={page}
          dayText={dayText}
          slots={slots}
          prev={shift(-1)}
          next={shift(1)}
        />,
      );
    },
  );
}

function RoundDayPage({
  page,
  dayText,
  slots,
  prev,
  next,
}: {
  page: PageContext;
  dayText: string;
  slots: Awaited<ReturnType<typeof dayPlan>>;
  prev: string;
  next: string;
}) {
  const students = slots.reduce((n, s) => n + (s.cancelled_at ? 0 : s.members), 0);
  return (
    <Layout page={page} title="Rounds of the day">
      <form method="get" action="/admin/rounds" class="filters" aria-label="Choose a day">
        <a class="button secondary" href={`/admin/rounds?day=${prev}`}>
          Previous day
        </a>
        <label>
          Day <input type="date" name="day" value={dayText} />
        </label>
        <button type="submit">Show</button>
        <a class="button secondary" href={`/admin/rounds?day=${next}`}>
          Next day
        </a>
      </form>
      <p
        safe
      >{`${plural(slots.length, "batch", "batches")} on ${dayText}, ${plural(students, "student")} expected.`}</p>
      {slots.length === 0 ? (
        <p class="empty">No rounds on this day.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Company</th>
                <th scope="col">Round</th>
                <th scope="col">Where</th>
                <th scope="col">Students</th>
                <th scope="col">Present</th>
                <th scope="col">Absent</th>
              </tr>
            </thead>
            <tbody>
              {slots.map((s) => (
                <tr>
                  <td
                    safe
                  >{`${toLocalInput(s.starts_at).slice(11)} (${s.duration_minutes} min)`}</td>
                  <td safe>{jobName(s)}</td>
                  <td>
                    <a href={`/admin/rounds/${s.round_id}`} safe>
                      {s.name}
                    </a>
                    {s.cancelled_at ? <span class="status status-closed">Cancelled</span> : null}
                  </td>
                  <td>
                    <SlotPlace slot={s} />
                  </td>
                  <td safe>{`${s.members}${s.capacity !== null ? ` of ${s.capacity}` : ""}`}</td>
                  <td safe>{String(s.present)}</td>
                  <td safe>{String(s.absent)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}
