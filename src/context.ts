import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import type { DialectName } from "./db/dialect.ts";
import type { DB } from "./db/schema.ts";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** What every service function gets: it owns its SQL and nothing reaches for globals. */
export interface AppContext {
  db: Kysely<DB>;
  dialect: DialectName;
  config: Config;
  clock: Clock;
  log: Logger;
  /** The SMS log (LOG_DIR/sms.log); phone numbers masked. */
  smsLog: Logger;
  /** Wakes the local SMS dispatcher after a commit that queued messages (absent in a worker). */
  wakeSmsDispatcher?: () => void;
}
