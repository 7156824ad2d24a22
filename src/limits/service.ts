import { z } from "zod";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import { lockKeys } from "../db/dialect.ts";
import { inTransaction } from "../db/transaction.ts";
import { wholeNumberField } from "../web/forms.ts";
import {
  LIMIT_MAX_RANGE,
  LIMIT_WINDOW_MINUTES_RANGE,
  type Limit,
  type LimitSetting,
  resolveLimits,
} from "../web/limits.ts";

/**
 * The office's values of the abuse limits. Each feature declares its limits (a `LimitSetting`:
 * name, words, default) beside the code that takes them; src/app.ts hands the list here. A value
 * the office sets is a row of `limit_settings`, which `takeLimit` reads on every attempt, so it
 * holds at once in every web process; a value equal to the default removes the row, so the limit
 * follows the code's default again.
 */

export interface LimitRow {
  setting: LimitSetting;
  current: Limit;
  /** Who set the current value and when; null while the default is in force. */
  changed: { by: string; at: string } | null;
}

export async function listLimits(
  ctx: Pick<AppContext, "db">,
  settings: readonly LimitSetting[],
): Promise<LimitRow[]> {
  const [rows, resolve] = await Promise.all([
    ctx.db.selectFrom("limit_settings").select(["name", "updated_by", "updated_at"]).execute(),
    resolveLimits(ctx.db, settings),
  ]);
  const changed = new Map(rows.map((r) => [r.name, { by: r.updated_by, at: r.updated_at }]));
  return settings.map((setting) => ({
    setting,
    current: resolve(setting),
    changed: changed.get(setting.name) ?? null,
  }));
}

export const limitEditSchema = z.object({
  max: wholeNumberField({ label: "the number allowed", ...LIMIT_MAX_RANGE }),
  window_minutes: wholeNumberField({
    label: "the window in minutes",
    ...LIMIT_WINDOW_MINUTES_RANGE,
  }),
});

const sameLimit = (a: Limit, b: Limit) => a.max === b.max && a.windowSeconds === b.windowSeconds;

/**
 * Sets a limit's value (audited, old -> new), in one transaction locked on the limit's name, so
 * that two admins saving at once are both recorded in the order they took effect. Returns false
 * when the value was already in force.
 */
export async function saveLimit(
  ctx: Pick<AppContext, "db" | "dialect" | "clock">,
  actor: Actor,
  setting: LimitSetting,
  value: Limit,
): Promise<boolean> {
  return inTransaction(ctx.db, async (trx) => {
    await lockKeys(trx, ctx.dialect, [`limit_settings:${setting.name}`]);
    const before = (await resolveLimits(trx, [setting]))(setting);
    if (sameLimit(before, value)) return false;
    const isDefault = sameLimit(value, setting.default);
    const now = ctx.clock.now().toISOString();
    if (isDefault)
      await trx.deleteFrom("limit_settings").where("name", "=", setting.name).execute();
    else
      await trx
        .insertInto("limit_settings")
        .values({
          name: setting.name,
          max: value.max,
          window_seconds: value.windowSeconds,
          updated_at: now,
          updated_by: actor.email,
        })
        .onConflict((oc) =>
          oc.column("name").doUpdateSet({
            max: value.max,
            window_seconds: value.windowSeconds,
            updated_at: now,
            updated_by: actor.email,
          }),
        )
        .execute();
    await recordAudit(trx, ctx, actor, {
      action: "limit.edit",
      subject: setting.title,
      details: {
        limit: setting.name,
        from: limitInWords(before),
        to: limitInWords(value),
        isDefault,
      },
    });
    return true;
  });
}

/** "50 per 15 minutes", "1 per hour", "10 per 24 hours". */
export function limitInWords(limit: Limit): string {
  const minutes = limit.windowSeconds / 60;
  const window =
    limit.windowSeconds % 3600 === 0
      ? limit.windowSeconds === 3600
        ? "hour"
        : `${limit.windowSeconds / 3600} hours`
      : Number.isInteger(minutes)
        ? minutes === 1
          ? "minute"
          : `${minutes} minutes`
        : `${limit.windowSeconds} seconds`;
  return `${limit.max.toLocaleString("en-IN")} per ${window}`;
}
