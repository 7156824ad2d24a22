import type { FastifyInstance } from "fastify";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { plural } from "../web/format.ts";
import { pageContext } from "../web/page.ts";
import { idList, idParams, textParam } from "../web/schemas.ts";
import { rejectionExample } from "./notices.ts";
import { findStudent } from "./profile.ts";
import { STUDENTS_PAGE_SIZE } from "./student-list.ts";
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

  app.post<{ Params: { id: number } }>(
    "/students/:id/approve",
    { schema: { params: idParams } },
    async (request, reply) => {
      const { approved } = await approveStudents(ctx, currentActor(request), [request.params.id]);
      const row = approved[0];
      if (!row) {
        flash(
          request,
          "info",
          "This student was already approved (or no longer exists); nothing was changed.",
        );
        return reply.redirect(`/admin/students/${request.params.id}`, 303);
      }
      // Working the queue: straight on to the next registration waiting, or back to the empty queue.
      const next = await nextPendingStudent(ctx, row.id);
      flash(
        request,
        "success",
        `Approved ${row.full_name} (${row.roll_number}). The approval SMS is queued.${
          next ? ` Next pending: ${next.full_name}.` : " No registrations are waiting any more."
        }`,
      );
      return reply.redirect(
        next ? `/admin/students/${next.id}` : "/admin/students?status=pending",
        303,
      );
    },
  );

  app.post<{ Body: { ids?: string | string[] } }>("/students/approve", async (request, reply) => {
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
    return reply.redirect("/admin/students?status=pending", 303);
  });

  app.post<{ Params: { id: number }; Body: { reason?: string } }>(
    "/students/:id/reject",
    {
      schema: {
        params: idParams,
        body: { type: "object", properties: { reason: textParam(200) } },
      },
    },
    async (request, reply) => {
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
              fields={{ reason }}
              confirmLabel="Reject and delete registration"
              cancelHref={`/admin/students/${row.id}`}
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
      if (rejected) {
        flash(
          request,
          "success",
          `Rejected ${rejected.full_name} (${rejected.roll_number}); the registration is deleted and the rejection SMS is queued.`,
        );
      } else {
        flash(
          request,
          "info",
          "This registration was already handled (approved or rejected); nothing was changed.",
        );
      }
      return reply.redirect("/admin/students?status=pending", 303);
    },
  );
  app.post<{ Body: { ids?: string | string[]; reason?: string } }>(
    "/students/reject",
    {
      schema: {
        body: { type: "object", properties: { reason: textParam(200) } },
      },
    },
    async (request, reply) => {
      const ids = idList(request.body?.ids, STUDENTS_PAGE_SIZE * 4);
      const reason = request.body?.reason?.trim() || undefined;
      const students = await pendingStudents(ctx, ids);
      if (students.length === 0) {
        flash(request, "error", "Select at least one pending registration to reject.");
        return reply.redirect("/admin/students?status=pending", 303);
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
            fields={{ ids: students.map((st) => st.id), reason }}
            confirmLabel={`Reject ${plural(students.length, "registration")}`}
            cancelHref="/admin/students?status=pending"
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
      return reply.redirect("/admin/students?status=pending", 303);
    },
  );
}
