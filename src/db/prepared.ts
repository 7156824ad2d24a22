import { type Compilable, type CompiledQuery, createQueryId, type Kysely } from "kysely";
import { keepPrepared } from "./named-statements.ts";
import type { DB } from "./schema.ts";

/** Where a value of the caller's goes in a prepared read: `param("studentId")`. */
class Slot {
  constructor(readonly name: string) {}
}

export type ParamOf<P> = <K extends keyof P & string>(name: K) => P[K];

/**
 * A read that runs on every page load, built and compiled by Kysely once per database instead of
 * on every call. Building a query (parsing each selected name, freezing each node) and compiling
 * it costs about as much as SQLite running it, and a page runs several such reads. `build` gets
 * `param(name)` where a caller's value goes; each call substitutes the values into the compiled
 * parameters and runs the same SQL text, which the SQLite statement cache (database.ts) then also
 * finds prepared.
 *
 * Compiled per Kysely instance (a WeakMap), not once per process: a process can hold more than one
 * database (the tests hold an SQLite and a PostgreSQL one at once), and their SQL differs. Inside
 * a transaction the `trx` instance is new each time, so it is compiled on every call there, like
 * any other query.
 * Plugins' transformQuery does not run on the compiled query (Kysely runs it when building), so
 * a query that needs a plugin's rewrite is not one for this.
 */
export function preparedRead<P extends Record<string, unknown>, O>(
  build: (db: Kysely<DB>, param: ParamOf<P>) => Compilable<O>,
): (db: Kysely<DB>, params: P) => Promise<O[]> {
  const compiled = new WeakMap<Kysely<DB>, CompiledQuery<O>>();
  const param = ((name: string) => new Slot(name)) as unknown as ParamOf<P>;
  return async (db, params) => {
    let query = compiled.get(db);
    if (!query) {
      query = build(db, param).compile();
      for (const value of query.parameters)
        if (value instanceof Slot && !Object.hasOwn(params, value.name))
          throw new Error(`preparedRead: no value for parameter "${value.name}"`);
      keepPrepared(query.sql);
      compiled.set(db, query);
    }
    const parameters = query.parameters.map((value) =>
      value instanceof Slot ? params[value.name] : value,
    );
    const result = await db.executeQuery<O>({
      sql: query.sql,
      query: query.query,
      parameters,
      queryId: createQueryId(),
    });
    return result.rows;
  };
}
