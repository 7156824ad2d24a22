import { createHash } from "node:crypto";
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
import type pg from "pg";

/**
 * The SQL texts that every page load runs (`preparedRead` registers them), each with the name it is
 * prepared under on a PostgreSQL connection. A named statement is parsed and analysed once per
 * connection instead of on every execution, and PostgreSQL may keep its plan.
 */
const namedTexts = new Map<string, string>();

/**
 * Bumped when PostgreSQL refuses a kept statement because the tables under it changed (a migration
 * run by another process while this one was up): every connection then prepares the text again
 * under a new name; the old statement is dropped with its connection.
 */
let generation = 0;

/** SQLSTATEs of a prepared statement that the server can no longer run as prepared. */
const STALE_STATEMENT = new Set([
  "0A000", // cached plan must not change result type (a column added under `select *`)
  "26000", // prepared statement does not exist (a DEALLOCATE by hand, a pooler in between)
]);

export function keepPrepared(sql: string): void {
  if (!namedTexts.has(sql))
    namedTexts.set(sql, `portal_${createHash("sha1").update(sql).digest("hex").slice(0, 16)}`);
}

function isStale(error: unknown): boolean {
  return STALE_STATEMENT.has((error as { code?: string }).code ?? "");
}

/**
 * Kysely's pool, with the registered texts run as named statements on each connection. A stale
 * named statement is prepared again under a new name and the read runs once more, unless it ran in
 * a transaction, which PostgreSQL has aborted: the error then goes to the caller like any other.
 */
export function poolWithNamedStatements(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => new NamedStatementClient(await pool.connect()),
    end: () => pool.end(),
  };
}

class NamedStatementClient implements PostgresPoolClient {
  /** Between BEGIN and COMMIT or ROLLBACK: a failed statement has aborted the transaction. */
  private inTransaction = false;

  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    textOrCursor: string | PostgresCursor<R>,
    parameters: ReadonlyArray<unknown> = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof textOrCursor !== "string")
      return this.client.query(textOrCursor as never) as unknown as PostgresCursor<R>;
    if (/^\s*(begin|start transaction)\b/i.test(textOrCursor)) this.inTransaction = true;
    else if (/^\s*(commit|rollback)\b/i.test(textOrCursor)) this.inTransaction = false;
    return this.run(textOrCursor, [...parameters]) as Promise<PostgresQueryResult<R>>;
  }

  release(destroy?: boolean): void {
    this.client.release(destroy);
  }

  private async run(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const base = namedTexts.get(text);
    if (!base) return this.client.query(text, values);
    const tried = generation;
    try {
      return await this.client.query({ name: `${base}_${tried}`, text, values });
    } catch (error) {
      if (!isStale(error)) throw error;
      if (generation === tried) generation++;
      if (this.inTransaction) throw error;
      return this.client.query({ name: `${base}_${generation}`, text, values });
    }
  }
}
