import type { FastifyReply, FastifyRequest } from "fastify";
import type { Role } from "../db/schema.ts";
import { safeNext } from "./safe-next.ts";

/** Who is signed in, as every page and guard sees it (loaded by accounts/, see src/app.ts). */
export interface SessionUser {
  id: number;
  email: string;
  role: Role;
  /** Set for students. */
  studentId: number | null;
  fullName: string | null;
  /**
   * The open jobs' data version (`data_versions.jobs`), read with the session: the student pages'
   * open-jobs snapshot checks it instead of reading it again (one round trip fewer a page).
   */
  openJobsVersion: string | null;
}

export interface Flash {
  kind: "success" | "error" | "info";
  message: string;
}

declare module "@fastify/secure-session" {
  interface SessionData {
    userId: number;
    /** The account's session_version at login: a password change since ends the session. */
    sessionVersion: number;
    flash: Flash[];
  }
}

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in user, loaded fresh from the database on every request; null if anonymous. */
    user: SessionUser | null;
  }
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Flash messages live in the session cookie, which browsers keep only up to 4 KB (and which the
 * portal itself refuses past its header limit): each message is cut to MAX_FLASH_BYTES and only the
 * latest MAX_FLASHES are kept, whatever a caller passes. Long lists belong on a page, not here.
 */
export const MAX_FLASH_BYTES = 600;
export const MAX_FLASHES = 3;

/** `text` cut to at most `maxBytes` of UTF-8 (whole characters), with "…" when it was cut. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = Buffer.byteLength("…");
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    out += char;
  }
  return `${out.trimEnd()}…`;
}

export function flash(request: FastifyRequest, kind: Flash["kind"], message: string): void {
  const list = request.session.get("flash") ?? [];
  const entry = { kind, message: truncateBytes(message, MAX_FLASH_BYTES) };
  request.session.set("flash", [...list, entry].slice(-MAX_FLASHES));
}

/**
 * A list for a flash message: at most `examples` of its items (repeats counted once, the most
 * frequent first) and how many more, e.g. "no such application (×998); Asha Rao (1XY22CS001): Rejected is final; and 1 more".
 */
export function summariseForFlash(items: string[], examples = 3): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  // The most frequent first: one reason shared by 998 items says more than a rare one.
  const entries = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = entries.slice(0, examples).map(([item, n]) => {
    const text = truncateBytes(item, 150);
    return n > 1 ? `${text} (×${n.toLocaleString("en-IN")})` : text;
  });
  const rest = entries.slice(examples).reduce((sum, [, n]) => sum + n, 0);
  return `${shown.join("; ")}${rest > 0 ? `; and ${rest.toLocaleString("en-IN")} more` : ""}`;
}

export function takeFlash(request: FastifyRequest): Flash[] {
  const list = request.session.get("flash") ?? [];
  if (list.length > 0) request.session.set("flash", []);
  return list;
}

export function homeFor(role: Role): string {
  return role === "admin" ? "/admin" : "/student";
}

/**
 * A hook for a scope of routes that only `role` may use: anonymous users are sent to log in (and
 * come back afterwards), users of another role get 403.
 */
/** The path of this site's page that sent the request, if the browser said so. */
function refererPath(request: FastifyRequest): string {
  try {
    const from = new URL(request.headers.referer ?? "");
    return from.hostname === request.hostname ? safeNext(from.pathname + from.search) : "";
  } catch {
    return "";
  }
}

export function requireRole(role: Role) {
  return async function roleGuard(request: FastifyRequest, reply: FastifyReply) {
    if (!request.user) {
      // Back to where the person was: this page, or for a form the page it was sent from.
      const back = request.method === "GET" ? request.url : refererPath(request);
      if (request.sessionEnded)
        flash(request, "info", "Your session has ended. Log in again to continue where you were.");
      return reply.redirect(back ? `/login?next=${encodeURIComponent(back)}` : "/login", 303);
    }
    if (request.user.role !== role)
      throw new HttpError(403, "This page is not available to your account.");
  };
}

/** The signed-in student's id; for routes inside a `requireRole("student")` scope. */
export function currentStudentId(request: FastifyRequest): number {
  const id = request.user?.studentId;
  if (!id) throw new HttpError(403, "This page is for students.");
  return id;
}

export function currentActor(request: FastifyRequest): { id: number; email: string } {
  if (!request.user) throw new HttpError(401, "Log in first.");
  return { id: request.user.id, email: request.user.email };
}
