import { describe, expect, it } from "vitest";
import {
  hashPassword,
  hashProfile,
  PRODUCTION_HASH,
  TEST_HASH,
  verifyPassword,
} from "./password.ts";

describe("password hashing profiles", () => {
  it("hashes at OWASP's argon2id cost unless NODE_ENV is exactly test", async () => {
    for (const env of ["", "development", "production", "TEST", "tests"])
      expect(hashProfile(env)).toBe(PRODUCTION_HASH);
    expect(hashProfile("test")).toBe(TEST_HASH);
    const { hash } = await import("@node-rs/argon2");
    const real = await hash("correct horse battery", hashProfile("production"));
    expect(real).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(real, "correct horse battery")).toBe(true);
    expect(await verifyPassword(real, "wrong horse battery")).toBe(false);
  });

  it("in this suite (NODE_ENV=test) hashes with the cheap profile, still argon2id", async () => {
    expect(process.env.NODE_ENV).toBe("test");
    const cheap = await hashPassword("correct horse battery");
    expect(cheap).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(await verifyPassword(cheap, "correct horse battery")).toBe(true);
  });
});
