import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from "kysely";
import pg from "pg";
import type { DialectName } from "./dialect.ts";
import { poolWithNamedStatements } from "./named-statements.ts";
import type { DB } from "./schema.ts";

export interface Database {
  db: Kysely<DB>;
  dialect: DialectName;
  destroy(): Promise<void>;
}

// PostgreSQL hands timestamptz back as Date and bigint (count(*)) as string; the app works with
// ISO strings and numbers on both databases, so convert once here.
const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMPTZ_OID) return (v: string) => new Date(v).toISOString();
    if (oid === INT8_OID) return (v: string) => Number(v);
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads do not accept a union format
    return pg.types.getTypeParser(oid, format as any);
  },
};

/**
 * SQLite does roll back DDL inside a transaction, but Kysely's adapter says it does not, which
 * would let a failed migration leave half its tables behind. Say so, and migrations are atomic on
 * both databases.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE), waiting up to
 * busy_timeout for it. A plain (deferred) BEGIN reads first and asks for the lock at its first
 * write; when another connection (the dispatcher thread, another web process) writes in between,
 * SQLite cannot wait there and fails at once with SQLITE_BUSY or SQLITE_BUSY_SNAPSHOT; BEGIN
 * IMMEDIATE waits instead (`sqlite-processes.test.ts` holds this).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class PortalSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/**
 * Kysely prepares a new better-sqlite3 statement for every query, and each holds native memory
 * (the compiled sqlite3_stmt) until V8 happens to collect its small wrapper. During a fan-out the
 * dispatcher runs the same few queries hundreds of thousands of times, and that native memory
 * grows with them. Reusing the statement for the same SQL (most recently used 200; never one that
 * is still being iterated) keeps it flat and skips the re-parse.
 */
function withStatementCache(sqlite: SQLite.Database, size = 200) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SQLite.Statement {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const statement = sqlite.prepare(sql);
      if (!cached) {
        cache.set(sql, statement);
        if (cache.size > size) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
  };
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function sqlitePath(url: string): string {
  return url.replace(/^file:/, "");
}

export interface OpenOptions {
  poolSize?: number;
  /** Told when the server drops an idle pooled connection (a restart, an admin's kill). */
  onConnectionError?: (error: Error) => void;
}

export function openDatabase(url: string, options: OpenOptions = {}): Database {
  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      types: pgTypes,
    });
    // Without a listener, a connection dropped by the server (a restart, an admin's kill) emits an
    // unhandled 'error' and crashes the process. The pool listens only while a connection is idle;
    // a connection in use (a query or a transaction running) needs its own listener. The query
    // that was running fails on its own; the pool discards the connection and opens a new one on
    // the next query.
    pool.on("error", (error) => options.onConnectionError?.(error));
    pool.on("connect", (client) => {
      client.on("error", (error) => options.onConnectionError?.(error));
    });
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool: poolWithNamedStatements(pool) }),
    });
    return { db, dialect: "postgres", destroy: () => db.destroy() };
  }
  const path = sqlitePath(url);
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<DB>({
    dialect: new PortalSqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return { db, dialect: "sqlite", destroy: () => db.destroy() };
}
