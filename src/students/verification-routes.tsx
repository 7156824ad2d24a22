import type { FastifyInstance } from "fastify";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { plural } from "../web/format.ts";
import { pageContext } from "../web/page.ts";
import { idList, idParams, textParam } from "../web/schemas.ts";
import { listUrl, parseQueue, queueParam, queueString, studentUrl } from "./list-urls.ts";
import { rejectionExample } from "./notices.ts";
import { findStudent } from "./profile.ts";
import { clampPage, STUDENTS_PAGE_SIZE, type StudentFilters } from "./student-list.ts";
import {
  approveStudents,
  nextPendingStudent,
  pendingStudents,
  rejectStudent,
  rejectStudents,
} from "./verification.ts";

/** Approving and rejecting registrations, one from its page or a selection from the queue. */
export async function adminVerificationRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  /**
   * After a decision on one student's page: the next registration waiting in the queue being
   * worked (its filters and sort), or that queue's list when none is left there.
   */
  async function onToNext(decidedId: number, queue: StudentFilters) {
    const next = await nextPendingStudent(ctx, decidedId, queue);
    return {
      next,
      sentence: next
        ? ` Next pending: ${next.full_name}.`
        : " No registrations are waiting any more.",
      href: next ? studentUrl(next.id, queue) : listUrl(await clampPage(ctx, queue)),
    };
  }

  app.post<{ Params: { id: number }; Body: { queue?: string } }>(
    "/students/:id/approve",
    {
      schema: { params: idParams, body: { type: "object", properties: { queue: queueParam } } },
    },
    async (request, reply) => {
      const queue = parseQueue(request, request.body?.queue);
      const { approved } = await approveStudents(ctx, currentActor(request), [request.params.id]);
      const row = approved[0];
      if (!row) {
        flash(
          request,
          "info",
          "This student was already approved (or no longer exists); nothing was changed.",
        );
        return reply.redirect(studentUrl(request.params.id, queue), 303);
      }
      // Working the queue: straight on to the next registration waiting, or back to the queue.
      const next = await onToNext(row.id, queue);
      flash(
        request,
        "success",
        `Approved ${row.full_name} (${row.roll_number}). The approval SMS is queued.${next.sentence}`,
      );
      return reply.redirect(next.href, 303);
    },
  );

  const bulkBody = {
    type: "object",
    properties: { reason: textParam(200), queue: queueParam },
  } as const;

  app.post<{ Body: { ids?: string | string[]; queue?: string } }>(
    "/students/approve",
    { schema: { body: bulkBody } },
    async (request, reply) => {
      const queue = parseQueue(request, request.body?.queue);
      const ids = idList(request.body?.ids);
      if (ids.length === 0) {
        flash(request, "error", "Select at least one student to approve.");
      } else {
        const { approved, unchanged } = await approveStudents(ctx, currentActor(request), ids);
        flash(
          request,
          "success",
          `Approved ${plural(approved.length, "student")}; their approval SMS are queued.${
            unchanged > 0 ? ` ${plural(unchanged, "was", "were")} already approved or gone.` : ""
          }`,
        );
      }
      // Back to the same place in the list: its filters, sort and page (the last one, if fewer remain).
      return reply.redirect(listUrl(await clampPage(ctx, queue)), 303);
    },
  );

  app.post<{ Params: { id: number }; Body: { reason?: string; queue?: string } }>(
    "/students/:id/reject",
    { schema: { params: idParams, body: bulkBody } },
    async (request, reply) => {
      const queue = parseQueue(request, request.body?.queue);
      const reason = request.body?.reason?.trim() || undefined;
      if (!isConfirmed(request.body)) {
        const row = await findStudent(ctx, request.params.id);
        if (row && !row.approved_at) {
          const sms = await rejectionExample(ctx.db, row, reason);
          return reply.html(
            <ConfirmPage
              page={pageContext(request, reply)}
              title={`Reject ${row.full_name}'s registration?`}
              action={`/admin/students/${row.id}/reject`}
              fields={{ reason, queue: queueString(queue) || undefined }}
              confirmLabel="Reject and delete registration"
              cancelHref={studentPageWithReason(row.id, queue, reason)}
              sms={
                <p safe>
                  {row.sms_opted_out_at
                    ? `${row.full_name} opted out of SMS and will not get one.`
                    : `${row.full_name} will get an SMS at ${row.phone_e164}: “${sms}”`}
                </p>
              }
            >
              <ul>
                <li safe>
                  {`${row.full_name} (${row.roll_number}, ${row.department}, ${row.graduation_year} batch) is rejected: the registration, the login and the resume are deleted.`}
                </li>
                {reason ? <li safe>{`Reason given: ${reason}`}</li> : <li>No reason is given.</li>}
                <li>This cannot be undone: to try again, the student registers again.</li>
              </ul>
            </ConfirmPage>,
          );
        }
        // Already handled: the confirmed path below says so without changing anything.
      }
      const { rejected } = await rejectStudent(
        ctx,
        currentActor(request),
        request.params.id,
        reason,
      );
      // Like an approval: on to the next registration waiting in the queue being worked.
      const next = await onToNext(request.params.id, queue);
      if (rejected) {
        flash(
          request,
          "success",
          `Rejected ${rejected.full_name} (${rejected.roll_number}); the registration is deleted and the rejection SMS is queued.${next.sentence}`,
        );
      } else {
        flash(
          request,
          "info",
          "This registration was already handled (approved or rejected); nothing was changed.",
        );
      }
      return reply.redirect(next.href, 303);
    },
  );
  app.post<{ Body: { ids?: string | string[]; reason?: string; queue?: string } }>(
    "/students/reject",
    { schema: { body: bulkBody } },
    async (request, reply) => {
      const queue = parseQueue(request, request.body?.queue);
      const ids = idList(request.body?.ids, STUDENTS_PAGE_SIZE * 4);
      const reason = request.body?.reason?.trim() || undefined;
      const students = await pendingStudents(ctx, ids);
      if (students.length === 0) {
        flash(request, "error", "Select at least one pending registration to reject.");
        return reply.redirect(listUrl(queue, { reason }), 303);
      }
      if (!isConfirmed(request.body)) {
        const reachable = students.filter((st) => st.sms_opted_out_at === null);
        const example = await rejectionExample(ctx.db, reachable[0] ?? students[0]!, reason);
        const optedOut = students.length - reachable.length;
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Reject ${plural(students.length, "registration")}?`}
            action="/admin/students/reject"
            fields={{ ids: students.map((st) => st.id), reason, queue: queueString(queue) }}
            confirmLabel={`Reject ${plural(students.length, "registration")}`}
            // Cancel: back to the same place, the reason still typed and the same rows ticked.
            cancelHref={listUrl(queue, {
              reason,
              ticked: students.map((st) => st.id).join(","),
            })}
            sms={
              <>
                <p safe>
                  {reachable.length === 0
                    ? "Nobody gets an SMS: every one of them opted out."
                    : `${reachable.length === 1 ? `${reachable[0]!.full_name} will` : `${plural(reachable.length, "student")} will each`} get the rejection SMS, with their own name and roll number: “${example}”`}
                </p>
                {optedOut > 0 && reachable.length > 0 ? (
                  <p
                    safe
                  >{`${plural(optedOut, "student")} opted out of SMS and will not get one.`}</p>
                ) : null}
              </>
            }
          >
            <p safe>
              {`These registrations are rejected: their logins, profiles and resumes are deleted. ${
                reason ? `Reason given: ${reason}` : "No reason is given."
              } This cannot be undone.`}
            </p>
            <ul>
              {students.map((st) => (
                <li safe>{`${st.full_name} (${st.roll_number})`}</li>
              ))}
            </ul>
          </ConfirmPage>,
        );
      }
      const { rejected, unchanged } = await rejectStudents(
        ctx,
        currentActor(request),
        students.map((st) => st.id),
        reason,
      );
      flash(
        request,
        rejected.length > 0 ? "success" : "info",
        `Rejected ${plural(rejected.length, "registration")}; the rejection SMS are queued.${
          unchanged > 0
            ? ` ${plural(unchanged, "was", "were")} already handled by someone else.`
            : ""
        }`,
      );
      return reply.redirect(listUrl(await clampPage(ctx, queue)), 303);
    },
  );
}

/** A student's page as it was before its rejection's confirmation: the queue, the reason typed. */
function studentPageWithReason(id: number, queue: StudentFilters, reason: string | undefined) {
  const href = studentUrl(id, queue);
  if (!reason) return href;
  return `${href}${href.includes("?") ? "&" : "?"}${new URLSearchParams({ reason })}`;
}
