import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.ts";

/**
 * SESSION_SECRET, or for development a secret generated once into DATA_DIR/session-secret (mode
 * 600), so sessions survive a restart without anyone having to invent a secret.
 */
export function resolveSessionSecret(config: Pick<Config, "SESSION_SECRET" | "DATA_DIR">): string {
  if (config.SESSION_SECRET) return config.SESSION_SECRET;
  const path = join(config.DATA_DIR, "session-secret");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(path, secret, { mode: 0o600, flag: "wx" });
  return secret;
}
