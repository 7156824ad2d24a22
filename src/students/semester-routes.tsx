import type { FastifyInstance } from "fastify";
import { DEPARTMENT_CODES } from "../placement/departments.ts";
import { currentActor, flash, requireRole } from "../web/auth.ts";
import { ConfirmPage, isConfirmed } from "../web/confirm.tsx";
import { plural, pluralWord } from "../web/format.ts";
import { pageContext } from "../web/page.ts";
import {
  advanceSemester,
  type BatchSelection,
  batchName,
  LAST_SEMESTER,
  semesterAdvancePreview,
} from "./academic-record.ts";
import { queryString } from "./list-urls.ts";

/** Moving a batch to the next semester, after a confirmation page that says how many move. */
export async function adminSemesterRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.post<{ Body: Record<string, unknown> }>(
    "/students/advance-semester",
    async (request, reply) => {
      const body = request.body ?? {};
      const year = Number(body.graduation_year);
      const department = typeof body.department === "string" ? body.department : "";
      if (
        !Number.isInteger(year) ||
        year < 1900 ||
        year > 2200 ||
        (department !== "" && !DEPARTMENT_CODES.includes(department))
      ) {
        flash(request, "error", "Choose a department (or all) and enter the graduation year.");
        return reply.redirect("/admin/students?status=approved", 303);
      }
      const batch: BatchSelection = { department: department || undefined, graduationYear: year };
      const back = `/admin/students?${queryString({ status: "approved", department, year })}`;
      if (!isConfirmed(body)) {
        const preview = await semesterAdvancePreview(ctx, batch);
        if (preview.moving === 0) {
          flash(
            request,
            "info",
            `Nobody of the ${batchName(batch)} can move up: ${plural(preview.total, "student")}, ${preview.atLast} in semester ${LAST_SEMESTER} already, ${preview.blank} with no semester set.`,
          );
          return reply.redirect(back, 303);
        }
        return reply.html(
          <ConfirmPage
            page={pageContext(request, reply)}
            title={`Advance the ${batchName(batch)} to the next semester?`}
            action="/admin/students/advance-semester"
            fields={{
              department,
              graduation_year: year,
              as_of: ctx.clock.now().toISOString(),
            }}
            confirmLabel={`Advance ${plural(preview.moving, "student")}`}
            cancelHref={back}
            sms={<p>Nobody gets an SMS.</p>}
          >
            <ul>
              <li safe>
                {`${plural(preview.moving, "student")} ${pluralWord(preview.moving, "moves", "move")} up one semester (semester 5 becomes 6, and so on, up to ${LAST_SEMESTER}).`}
              </li>
              {preview.atLast > 0 ? (
                <li
                  safe
                >{`${plural(preview.atLast, "student")} in semester ${LAST_SEMESTER} or above ${pluralWord(preview.atLast, "stays", "stay")} where they are.`}</li>
              ) : null}
              {preview.blank > 0 ? (
                <li
                  safe
                >{`${plural(preview.blank, "student")} with no semester set ${pluralWord(preview.blank, "stays", "stay")} blank: they are asked to set it in their profile.`}</li>
              ) : null}
              <li>Job eligibility by semester follows at once. Doing it again moves them again.</li>
            </ul>
          </ConfirmPage>,
        );
      }
      const asOf =
        typeof body.as_of === "string" && !Number.isNaN(Date.parse(body.as_of))
          ? new Date(body.as_of).toISOString()
          : ctx.clock.now().toISOString();
      const { moved, alreadyDone } = await advanceSemester(ctx, currentActor(request), batch, asOf);
      flash(
        request,
        alreadyDone ? "info" : "success",
        alreadyDone
          ? `The ${batchName(batch)} was already advanced after you looked; nothing moved again.`
          : `Moved ${plural(moved, "student")} of the ${batchName(batch)} to the next semester.`,
      );
      return reply.redirect(back, 303);
    },
  );
}
