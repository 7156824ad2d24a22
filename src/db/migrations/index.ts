import type { Migration } from "kysely";
import * as foundation from "./2026-11-25-foundation.ts";

/** Every migration, by name. Names sort in the order they run: date first. */
export const migrations: Record<string, Migration> = {
  "2026-11-25-foundation": foundation,
};
