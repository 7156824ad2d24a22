import { type Kysely, type Migration, type MigrationResultSet, Migrator } from "kysely";
import { migrations as allMigrations } from "./migrations/index.ts";

export class MigrationFailedError extends Error {
  override name = "MigrationFailedError";
}

/**
 * Brings the schema to the latest migration. The one migrate function, shared by start-up, the
 * `portal migrate` command and the tests; it throws when a migration fails, so callers exit
 * non-zero.
 */
export async function migrateToLatest(
  // biome-ignore lint/suspicious/noExplicitAny: works on any schema
  db: Kysely<any>,
  migrations: Record<string, Migration> = allMigrations,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationFailedError(
      `Migration ${failed ? `"${failed.migrationName}" ` : ""}failed: ${reason}`,
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
