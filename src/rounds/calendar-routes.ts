import type { FastifyInstance } from "fastify";
import { HttpError } from "../web/auth.ts";
import { MAX_ID } from "../web/schemas.ts";
import { calendarOf, calendarSlots, isFeedToken } from "./calendar.ts";

/**
 * The private calendar feed: a calendar application fetches it without a session, so its address
 * is the credential (calendar.ts). A wrong token, an old one, or a student who is not there all
 * answer the same 404, in the same way.
 */
export async function calendarFeedRoutes(app: FastifyInstance, options: { key: Buffer }) {
  const ctx = app.ctx;
  app.get<{ Params: { student: number; token: string } }>(
    "/calendar/:student/:token/rounds.ics",
    {
      schema: {
        params: {
          type: "object",
          required: ["student", "token"],
          properties: {
            student: { type: "integer", minimum: 1, maximum: MAX_ID },
            token: { type: "string", pattern: "^[A-Za-z0-9_-]{32}$" },
          },
        },
      },
    },
    async (request, reply) => {
      const { student: studentId, token } = request.params;
      const student = await ctx.db
        .selectFrom("students")
        .select(["id", "calendar_feed_version"])
        .where("id", "=", studentId)
        .executeTakeFirst();
      const version = student?.calendar_feed_version ?? 0;
      if (!isFeedToken(options.key, studentId, version, token) || !student)
        throw new HttpError(404, "There is no such calendar.");
      const slots = await calendarSlots(ctx.db, studentId);
      return reply
        .type("text/calendar; charset=utf-8")
        .header("Cache-Control", "private, no-store")
        .header("X-Robots-Tag", "noindex")
        .send(calendarOf("Placement rounds", slots, ctx.clock.now()));
    },
  );
}
