import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import type { DB } from "./schema.ts";
import { inTransaction, TRANSACTION_ATTEMPTS } from "./transaction.ts";

/** A database whose transactions fail with `errors`, one per run, then succeed. */
function failing(errors: unknown[]) {
  let runs = 0;
  const db = {
    transaction: () => ({
      execute: async <T>(work: (trx: unknown) => Promise<T>) => {
        runs += 1;
        const error = errors.shift();
        if (error !== undefined) throw error;
        return work({});
      },
    }),
  } as unknown as Kysely<DB>;
  return { db, runs: () => runs };
}

describe("inTransaction", () => {
  it("runs the whole unit again after a deadlock or a serialization failure", async () => {
    const { db, runs } = failing([{ code: "40P01" }, { code: "40001" }]);
    expect(await inTransaction(db, async () => "done")).toBe("done");
    expect(runs()).toBe(3);
  });

  it("lets any other error through at once", async () => {
    const { db, runs } = failing([{ code: "23505" }]);
    await expect(inTransaction(db, async () => "done")).rejects.toEqual({ code: "23505" });
    expect(runs()).toBe(1);
  });

  it("gives up after its attempts, with the last error", async () => {
    const { db, runs } = failing(Array.from({ length: 10 }, () => ({ code: "40P01" })));
    await expect(inTransaction(db, async () => "done")).rejects.toEqual({ code: "40P01" });
    expect(runs()).toBe(TRANSACTION_ATTEMPTS);
  });
});
