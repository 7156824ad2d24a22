import type { FastifyReply, FastifyRequest } from "fastify";
import type { Role } from "../db/schema.ts";

/** Who is signed in, as every page and guard sees it (loaded by accounts/, see src/app.ts). */
export interface SessionUser {
  id: number;
  email: string;
  role: Role;
  /** Set for students. */
  studentId: number | null;
  fullName: string | null;
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

export function flash(request: FastifyRequest, kind: Flash["kind"], message: string): void {
  const list = request.session.get("flash") ?? [];
  request.session.set("flash", [...list, { kind, message }]);
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
export function requireRole(role: Role) {
  return async function roleGuard(request: FastifyRequest, reply: FastifyReply) {
    if (!request.user) {
      const next = request.method === "GET" ? `?next=${encodeURIComponent(request.url)}` : "";
      return reply.redirect(`/login${next}`, 303);
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
