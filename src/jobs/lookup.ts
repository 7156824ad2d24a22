import type { AppContext } from "../context.ts";
import { HttpError } from "../web/auth.ts";
import { findJob, type JobWithRules } from "./service.ts";

/** The job, or the 404 page every job route answers for an id that is not (or no longer) there. */
export async function jobOr404(ctx: AppContext, id: number): Promise<JobWithRules> {
  const row = await findJob(ctx, id);
  if (!row) throw new HttpError(404, "There is no such job.");
  return row;
}
