import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isConnectionError } from "../db/dialect.ts";
import { HttpError } from "./auth.ts";
import { Layout } from "./layout.tsx";
import { type PageContext, pageContext } from "./page.ts";

const MESSAGES: Record<number, string> = {
  400: "The request could not be understood. Go back and try again.",
  403: "You do not have access to this page.",
  404: "There is no page at this address.",
  413: "What you sent is too large.",
  415: "This address does not accept what was sent. Go back, reload the page and send the form again.",
  429: "Too many attempts. Wait a few minutes and try again.",
  500: "Something went wrong on our side. Try again in a moment; if it keeps happening, tell the placement office.",
  503: "The portal cannot reach its database right now. Nothing you did is lost: try again in a minute.",
};

const TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Forbidden",
  404: "Page not found",
  413: "Too large",
  415: "Form not accepted",
  429: "Too many requests",
  500: "Something went wrong",
  503: "Temporarily unavailable",
};

/** What to tell a person whose address or small form (a reason) the route schema refused. */
const VALIDATION_MESSAGES: Record<string, string> = {
  querystring:
    "This address has a page number or filter the list does not accept: page numbers and years are whole numbers (1, 2, 3 …) and a CGPA is written like 7 or 7.5. Go back to the list and try again.",
  params: "This address does not point to anything: the number in it is not a valid id.",
  body: "The form has a value it cannot take (too long, or with an invisible control character). Go back, correct it and send it again.",
};

function safePageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  try {
    return pageContext(request, reply);
  } catch {
    return { user: null, csrfToken: "", flash: [], path: request.url, smsNotices: [] };
  }
}

function sendError(request: FastifyRequest, reply: FastifyReply, status: number, message: string) {
  const page = safePageContext(request, reply);
  const title = TITLES[status] ?? (status >= 500 ? TITLES[500]! : TITLES[400]!);
  return reply.code(status).html(
    <Layout page={page} title={title}>
      <p safe>{message}</p>
      <p>
        <a href="/">Go to the home page</a>
      </p>
    </Layout>,
  );
}

/** One error handler for the whole app: 4xx say what to do, 5xx hide their details. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isConnectionError(error)) {
      // The database is restarting or unreachable: say so, and the page works again by itself.
      request.log.warn({ reason: error.message }, "database unavailable");
      reply.header("retry-after", "5");
      return sendError(request, reply, 503, MESSAGES[503]!);
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    // A 503 of our own is a deliberate "busy, come back" (too many uploads at once), not a fault.
    if (error instanceof HttpError && status === 503) {
      request.log.warn({ reason: error.message }, "request turned away: busy");
      return sendError(request, reply, status, error.message);
    }
    if (status >= 500) {
      request.log.error({ err: error }, "request failed");
      return sendError(request, reply, status, MESSAGES[500]!);
    }
    if (error.code?.startsWith("FST_CSRF")) {
      return sendError(
        request,
        reply,
        403,
        "This form has expired or did not come from this site. Go back, reload the page and try again.",
      );
    }
    if (error.code === "FST_ERR_VALIDATION") {
      return sendError(
        request,
        reply,
        400,
        VALIDATION_MESSAGES[error.validationContext ?? ""] ?? MESSAGES[400]!,
      );
    }
    // Our own HttpError messages are written for people; the framework's are not.
    const message = error.code ? (MESSAGES[status] ?? MESSAGES[400]!) : error.message;
    return sendError(request, reply, status, message);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, 404, MESSAGES[404]!));
}
