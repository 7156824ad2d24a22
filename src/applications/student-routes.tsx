import type { FastifyInstance } from "fastify";
import { type StudentSlot, studentSlots } from "../placement/rounds.tsx";
import { STATUS_LABELS, TRANSITIONS } from "../placement/stages.ts";
import { currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import { Pagination } from "../web/components.tsx";
import { plural } from "../web/format.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { idParams, pageParam } from "../web/schemas.ts";
import { ApplicationsTable, canApplyAgain, deadline, jobName } from "./pages.tsx";
import {
  applyToJob,
  ownApplication,
  STUDENT_APPLICATIONS_PAGE_SIZE,
  studentApplications,
  withdrawApplication,
} from "./service.ts";

function WithdrawPage({
  page,
  application,
  now,
}: {
  page: PageContext;
  application: NonNullable<Awaited<ReturnType<typeof ownApplication>>>;
  now: Date;
}) {
  const again = canApplyAgain(application, now)
    ? `You can apply again until ${deadline(application.apply_by)}.`
    : "Applications for this job are closed, so you cannot apply again.";
  const restart =
    application.status === "applied"
      ? ""
      : ` An application sent again starts over at Applied (it is ${STATUS_LABELS[application.status]} now).`;
  return (
    <Layout page={page} title="Withdraw this application?">
      <section class="card confirm">
        <p safe>
          {`Your application to ${jobName(application)} will be withdrawn. ${again}${restart}`}
        </p>
        <p class="hint">The placement office sees it as withdrawn. No SMS is sent.</p>
        <form
          method="post"
          action={`/student/applications/${application.id}/withdraw`}
          class="buttons"
        >
          <CsrfField token={page.csrfToken} />
          <input type="hidden" name="confirm" value="yes" />
          <a href="/student/applications" class="button">
            Cancel
          </a>
          <button type="submit" class="danger">
            Confirm: withdraw
          </button>
        </form>
      </section>
    </Layout>
  );
}

export async function studentApplicationRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  app.get<{ Querystring: { page: number } }>(
    "/applications",
    { schema: { querystring: { type: "object", properties: { page: pageParam } } } },
    async (request, reply) => {
      const page = pageContext(request, reply);
      const studentId = currentStudentId(request);
      const [applications, total, slots] = await Promise.all([
        studentApplications(ctx, studentId, request.query.page),
        ctx.db
          .selectFrom("applications")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("student_id", "=", studentId)
          .executeTakeFirstOrThrow(),
        studentSlots(ctx.db, studentId),
      ]);
      const rounds = new Map<number, StudentSlot[]>();
      for (const slot of slots)
        rounds.set(slot.application_id, [...(rounds.get(slot.application_id) ?? []), slot]);
      return reply.html(
        <Layout page={page} title="My applications">
          <p class="hint" safe>
            {plural(Number(total.n), "application")}
          </p>
          <ApplicationsTable
            applications={applications}
            page={page}
            timeline
            now={ctx.clock.now()}
            rounds={rounds}
          />
          <Pagination
            page={request.query.page}
            pageSize={STUDENT_APPLICATIONS_PAGE_SIZE}
            total={Number(total.n)}
            baseUrl="/student/applications"
            query={{}}
          />
        </Layout>,
      );
    },
  );

  // The confirmation: what withdrawing does, and until when it can be undone.
  app.get<{ Params: { id: number } }>(
    "/applications/:id/withdraw",
    { schema: { params: idParams } },
    async (request, reply) => {
      const application = await ownApplication(ctx, currentStudentId(request), request.params.id);
      if (!application) throw new HttpError(404, "There is no such application of yours.");
      if (!TRANSITIONS[application.status].includes("withdrawn")) {
        flash(
          request,
          "error",
          `You cannot withdraw it: it is ${STATUS_LABELS[application.status]}.`,
        );
        return reply.redirect("/student/applications", 303);
      }
      return reply.html(
        <WithdrawPage
          page={pageContext(request, reply)}
          application={application}
          now={ctx.clock.now()}
        />,
      );
    },
  );

  app.post<{ Params: { id: number }; Body: { confirm?: string } }>(
    "/applications/:id/withdraw",
    {
      schema: {
        params: idParams,
        body: {
          type: "object",
          properties: { confirm: { type: "string", maxLength: 10 } },
        },
      },
    },
    async (request, reply) => {
      if (!request.user) throw new HttpError(401, "Log in first.");
      // Only the confirmation page's own form withdraws; anything else is shown that page first.
      if (request.body?.confirm !== "yes")
        return reply.redirect(`/student/applications/${request.params.id}/withdraw`, 303);
      const application = await ownApplication(ctx, currentStudentId(request), request.params.id);
      const { problem } = await withdrawApplication(ctx, request.user, request.params.id);
      if (problem === "There is no such application of yours." || !application)
        throw new HttpError(404, "There is no such application of yours.");
      const again = canApplyAgain(application, ctx.clock.now())
        ? ` You can apply again until ${deadline(application.apply_by)}.`
        : "";
      flash(
        request,
        problem ? "error" : "success",
        problem ?? `Your application to ${jobName(application)} was withdrawn.${again}`,
      );
      return reply.redirect("/student/applications", 303);
    },
  );

  // Applying (and applying again after withdrawing), from the job's page or this list.
  app.post<{ Params: { id: number } }>(
    "/jobs/:id/apply",
    { schema: { params: idParams } },
    async (request, reply) => {
      const result = await applyToJob(ctx, currentStudentId(request), request.params.id);
      if (result.ok) {
        flash(
          request,
          "success",
          result.again
            ? "Application sent again. Follow it under My applications."
            : "Application sent. Follow it under My applications.",
        );
        return reply.redirect("/student/applications", 303);
      }
      if (result.reason === "not_found") throw new HttpError(404, result.message);
      flash(request, result.reason === "already_applied" ? "info" : "error", result.message);
      return reply.redirect(`/student/jobs/${request.params.id}`, 303);
    },
  );
}
