import type { FastifyInstance } from "fastify";
import { currentStudentId, flash, HttpError, requireRole } from "../web/auth.ts";
import { idParams } from "../web/schemas.ts";
import { calendarOf, calendarSlots } from "./calendar.ts";

/**
 * The student's side of the rounds: one slot's .ics, and a new address for the calendar feed
 * (the old one stops working). The rounds themselves show on the dashboard and the applications.
 */
export async function studentRoundRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  app.get<{ Params: { id: number } }>(
    "/rounds/:id/slot.ics",
    { schema: { params: idParams } },
    async (request, reply) => {
      const studentId = currentStudentId(request);
      const slots = await calendarSlots(ctx.db, studentId, request.params.id);
      // Someone else's slot reads as no slot at all.
      if (slots.length === 0) throw new HttpError(404, "You are not in this round.");
      return reply
        .type("text/calendar; charset=utf-8")
        .header("Content-Disposition", `attachment; filename="round-${request.params.id}.ics"`)
        .header("Cache-Control", "private, no-store")
        .send(calendarOf("Placement rounds", slots, ctx.clock.now()));
    },
  );

  app.post("/calendar/reset", async (request, reply) => {
    const studentId = currentStudentId(request);
    await ctx.db
      .updateTable("students")
      .set((eb) => ({ calendar_feed_version: eb("calendar_feed_version", "+", 1) }))
      .where("id", "=", studentId)
      .execute();
    flash(
      request,
      "success",
      "Your calendar has a new address: the old one no longer works. Subscribe to the new one.",
    );
    return reply.redirect("/student#calendar", 303);
  });
}
