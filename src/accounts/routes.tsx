import type { FastifyInstance } from "fastify";
import { flash, homeFor } from "../web/auth.ts";
import { emptyForm } from "../web/components.tsx";
import { minutesUntil, tryAgainIn } from "../web/limits.ts";
import { pageContext } from "../web/page.ts";
import { safeNext } from "../web/safe-next.ts";
import { textParam } from "../web/schemas.ts";
import { formatDate } from "../web/time.ts";
import { takeLoginAttempt } from "./login-limits.ts";
import { LandingPage, LoginPage } from "./pages.tsx";
import { dummyPasswordHash } from "./password.ts";
import { authenticate, normaliseEmail } from "./service.ts";

const LOGIN_FAILURES: Record<"invalid" | "pending" | "deactivated", string> = {
  invalid: "Incorrect email or password.",
  pending:
    "Your registration is awaiting approval by the placement office. You will get an SMS when it is approved.",
  deactivated: "This account has been deactivated. Contact the placement office.",
};

/** A rejected registration, told once the password matched (rejected-registrations.ts). */
function rejectedWords(rejection: { reason: string | null; rejectedAt: string }): string {
  const reason = rejection.reason?.trim().replace(/[.!]+$/, "");
  return [
    `Your registration was not approved by the placement office on ${formatDate(rejection.rejectedAt)}.`,
    reason ? `The reason given: ${reason}.` : "",
    "Contact the placement office about it; you may also register again with the details corrected.",
  ]
    .filter(Boolean)
    .join(" ");
}

// Lives in web/safe-next.ts (the SMS console redirects to a `next` too); safe-next.unit.test.ts
// imports it from here.
export { safeNext };

export async function accountRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  // Made now, not on the first unknown email: that login would otherwise take twice as long.
  await dummyPasswordHash();

  app.get("/", async (request, reply) =>
    request.user
      ? reply.redirect(homeFor(request.user.role), 303)
      : reply.html(<LandingPage page={pageContext(request, reply)} />),
  );

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
      const account = normaliseEmail(email);
      const attempt = email && password ? await takeLoginAttempt(ctx, account, request.ip) : null;
      if (attempt?.limited) {
        const minutes = minutesUntil(attempt.retryAt, ctx.clock.now());
        // Who and from where, never the password: enough to see an attack in the log.
        ctx.log.warn(
          { account, address: request.ip, limit: attempt.refusedBy, minutes },
          "login refused: too many failed attempts",
        );
        const why =
          attempt.refusedBy === "address"
            ? "Too many failed logins from your network."
            : "Too many failed logins for this account from your network.";
        return reply
          .code(429)
          .header("retry-after", String(minutes * 60))
          .html(
            <LoginPage
              page={pageContext(request, reply)}
              form={{ values: { email }, errors: {} }}
              next={next}
              notice={{ kind: "error", message: `${why} ${tryAgainIn(minutes)}` }}
            />,
          );
      }
      const result = attempt
        ? // A failure of ours (the database gone) is not the user's wrong password.
          await authenticate(ctx, email, password).catch(async (error: unknown) => {
            await attempt.release().catch(() => {});
            throw error;
          })
        : ({ ok: false, reason: "invalid" } as const);
      // Only a wrong password stays counted (for a known or an unknown email alike).
      if (attempt && (result.ok || result.reason !== "invalid")) await attempt.release();
      if (attempt && !result.ok && result.reason === "invalid")
        ctx.log.info({ account, address: request.ip }, "login failed: wrong password");
      if (!result.ok) {
        const message =
          result.reason === "rejected"
            ? rejectedWords(result.rejection)
            : LOGIN_FAILURES[result.reason];
        return reply.code(result.reason === "invalid" ? 401 : 403).html(
          <LoginPage
            page={pageContext(request, reply)}
            form={{ values: { email }, errors: {} }}
            next={next}
            notice={{
              kind: result.reason === "pending" ? "info" : "error",
              message,
            }}
          />,
        );
      }
      // A fresh session on login: nothing from before it (a planted CSRF secret) carries over.
      request.session.regenerate();
      request.session.set("userId", result.user.id);
      request.session.set("sessionVersion", result.user.session_version);
      // The new session's CSRF secret goes into the cookie this answer sets. Without it the first
      // page creates the secret and sets the cookie again, and a client that keeps the login's
      // cookie (a script, a benchmark) has its session encrypted and sent again on every page.
      reply.generateCsrf();
      request.log.info({ userId: result.user.id, role: result.user.role }, "logged in");
      return reply.redirect(next || homeFor(result.user.role), 303);
    },
  );

  app.post("/logout", async (request, reply) => {
    // A fresh session holding only the message: nothing of the signed-in one survives.
    request.session.regenerate();
    flash(request, "success", "You have been logged out.");
    return reply.redirect("/login", 303);
  });
}
