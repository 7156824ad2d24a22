import type { AppContext } from "../context.ts";
import { isConnectionError, isTransientConflict } from "../db/dialect.ts";

/** Longest wait between tries while the database is unreachable. */
export const DATABASE_BACKOFF_MAX_MS = 10_000;

/** Runs a write of something already known until the database takes it (see `persister`). */
export type Persist = <T>(write: () => Promise<T>) => Promise<T>;

/**
 * Writes an outcome that is already known (Twilio answered) even if the database is away right
 * now or aborted the write to break a deadlock: it tries again until the write goes through or
 * the dispatcher stops, so a restart of the database costs a wait, not a lease's worth of doubt.
 */
export function persister(options: {
  ctx: AppContext;
  workerId: string;
  stopping: () => boolean;
}): Persist {
  const { ctx, workerId, stopping } = options;
  return async function persist<T>(write: () => Promise<T>): Promise<T> {
    let delay = 250;
    for (;;) {
      try {
        return await write();
      } catch (error) {
        const unreachable = isConnectionError(error);
        if (!(unreachable || isTransientConflict(error)) || stopping()) throw error;
        ctx.smsLog.warn(
          { worker: workerId, reason: (error as Error).message, retryInMs: delay },
          unreachable
            ? "database unreachable while recording an outcome; trying again"
            : "database conflict while recording an outcome; trying again",
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(DATABASE_BACKOFF_MAX_MS, delay * 2);
      }
    }
  };
}
