import type { AppContext } from "#src/context.ts";
import { createRound, type RoundInput } from "#src/rounds/service.ts";
import { createAdmin } from "./app.ts";

/**
 * A round of `jobId` through the service (the form is tested on its own): an aptitude test two
 * days from the clock's now, one hour, in a hall, one batch without a capacity unless told.
 */
export async function scheduleRound(
  ctx: AppContext,
  jobId: number,
  overrides: Partial<RoundInput> = {},
  actor?: { id: number; email: string },
) {
  const by = actor ?? (await createAdmin(ctx, "rounds-fixture@college.test"));
  // On the minute, as the form gives it.
  const startsAt = new Date(Math.floor(ctx.clock.now().getTime() / 60_000 + 2 * 1440) * 60_000);
  const round = await createRound(ctx, by, jobId, {
    name: "Aptitude test",
    kind: "test",
    starts_at: startsAt.toISOString(),
    duration_minutes: 60,
    venue: "Seminar Hall 2",
    meeting_link: null,
    instructions: "Bring your college ID.",
    batches: [],
    capacity: null,
    ...overrides,
  });
  if (!round) throw new Error(`no job ${jobId}`);
  const slots = await ctx.db
    .selectFrom("round_slots")
    .select(["id", "starts_at"])
    .where("round_id", "=", round.id)
    .orderBy("starts_at")
    .execute();
  return { id: round.id, slots };
}
