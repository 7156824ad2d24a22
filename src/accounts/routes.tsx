import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { homeFor } from "../web/auth.ts";
import { emptyForm } from "../web/components.tsx";
import { pageContext } from "../web/page.ts";
import { textParam } from "../web/schemas.ts";
import { LoginPage } from "./pages.tsx";
import { authenticate } from "./service.ts";

const LOGIN_FAILURES: Record<"invalid" | "pending" | "deactivated", string> = {
  invalid: "Incorrect email or password.",
  pending:
    "Your registration is awaiting approval by the placement office. You will get an SMS when it is approved.",
  deactivated: "This account has been deactivated. Contact the placement office.",
};

/**
 * Only a path on this site: anything a browser could read as another origin ("//evil",
 * "/\\evil", "/<tab>/evil", which browsers strip to "//evil") would make login an open redirect.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || !next.startsWith("/") || next.includes("\\")) return "";
  // Browsers drop control characters (tab, newline) inside URLs: "/<tab>/evil" is "//evil".
  if ([...next].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return "";
  try {
    const url = new URL(next, "http://portal.invalid");
    return url.origin === "http://portal.invalid" && !next.startsWith("//") ? next : "";
  } catch {
    return "";
  }
}

export async function accountRoutes(app: FastifyInstance) {
  const ctx = app.ctx;

  app.get("/", async (request, reply) =>
    reply.redirect(request.user ? homeFor(request.user.role) : "/login", 303),
  );

  app.get("/healthz", async (_request, reply) => {
    await sql`select 1`.execute(ctx.db);
    return reply.send({ status: "ok" });
  });

  app.get<{ Querystring: { next?: string } }>("/login", async (request, reply) => {
    if (request.user) return reply.redirect(homeFor(request.user.role), 303);
    return reply.html(
      <LoginPage
        page={pageContext(request, reply)}
        form={emptyForm}
        next={safeNext(request.query.next)}
      />,
    );
  });

  app.post<{ Body: { email?: string; password?: string; next?: string } }>(
    "/login",
    {
      config: { rateLimit: { max: 10, timeWindow: "15 minutes" } },
      schema: {
        body: {
          type: "object",
          properties: {
            // No control characters: PostgreSQL refuses a NUL in a query parameter (a 500).
            email: textParam(254),
            password: { type: "string" },
            next: { type: "string" },
          },
        },
      },
    },
    async (request, reply) => {
      const email = request.body?.email ?? "";
      const password = request.body?.password ?? "";
      const next = safeNext(request.body?.next);
      const result =
        email && password
          ? await authenticate(ctx, email, password)
          : ({ ok: false, reason: "invalid" } as const);
      if (!result.ok) {
        return reply.code(result.reason === "invalid" ? 401 : 403).html(
          <LoginPage
            page={pageContext(request, reply)}
            form={{ values: { email }, errors: {} }}
            next={next}
            notice={{
              kind: result.reason === "pending" ? "info" : "error",
              message: LOGIN_FAILURES[result.reason],
            }}
          />,
        );
      }
      // A fresh session on login: nothing from before it (a planted CSRF secret) carries over.
      request.session.regenerate();
      request.session.set("userId", result.user.id);
      request.log.info({ userId: result.user.id, role: result.user.role }, "logged in");
      return reply.redirect(next || homeFor(result.user.role), 303);
    },
  );

  app.post("/logout", async (request, reply) => {
    request.session.delete();
    return reply.redirect("/login", 303);
  });
}
