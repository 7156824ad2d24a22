import { hkdfSync } from "node:crypto";
import { fileURLToPath } from "node:url";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifyFormbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import fastifyMultipart, { type MultipartFile } from "@fastify/multipart";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifySecureSession from "@fastify/secure-session";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AppContext } from "../context.ts";
import type { SessionUser } from "./auth.ts";
import { installErrorHandlers } from "./errors.tsx";
import type { UploadedFile } from "./forms.ts";

declare module "fastify" {
  interface FastifyInstance {
    ctx: AppContext;
    /** Every route as "METHOD /url", for the security tests that walk all of them. */
    routeTable: { method: string; url: string; csrf: boolean }[];
  }
  interface FastifyReply {
    /** Sends a rendered page (a TSX element) as HTML. */
    html(page: JSX.Element): FastifyReply;
  }
  interface FastifyRequest {
    /** For admins: why SMS sending is stopped (refused credentials), or null. */
    smsAlert: string | null;
  }
  interface FastifyContextConfig {
    /** Set to false on routes that are not forms, such as Twilio's webhooks (signed instead). */
    csrf?: boolean;
  }
}

export interface WebServerOptions {
  /** At least 32 characters; the session cookie key is derived from it. */
  sessionSecret: string;
  /** The signed-in user of a session, or null when the account is gone or deactivated. */
  loadUser(userId: number): Promise<SessionUser | null>;
  /** For admins, on every page: why SMS sending is stopped, or null. */
  adminAlert?(): Promise<string | null>;
}

const SESSION_HOURS = 8;

/**
 * The shared web kit as a Fastify instance: security headers, forms and uploads, the session, CSRF
 * on every state change, rate limits, assets, the signed-in user and the error pages. No routes:
 * the composing module (src/app.ts) registers every feature's.
 */
export async function createWebServer(
  ctx: AppContext,
  options: WebServerOptions,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: ctx.config.TRUST_PROXY,
  });
  app.decorate("ctx", ctx);
  app.decorateReply("html", function (page: JSX.Element) {
    return this.type("text/html; charset=utf-8").send(page);
  });
  app.decorateRequest("user", null);
  app.decorateRequest("smsAlert", null);
  app.decorate("routeTable", []);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      if (method !== "HEAD")
        app.routeTable.push({ method, url: route.url, csrf: route.config?.csrf !== false });
    }
  });

  await app.register(fastifyHelmet, {
    // No upgrade-insecure-requests: a campus server is often reached over plain http on the LAN,
    // where it would send every form to an https port that does not exist.
    contentSecurityPolicy: {
      directives: { "form-action": ["'self'"], "upgrade-insecure-requests": null },
    },
  });
  await app.register(fastifyFormbody);
  await app.register(fastifyMultipart, {
    attachFieldsToBody: "keyValues",
    throwFileSizeLimit: false,
    limits: { fileSize: ctx.config.RESUME_MAX_BYTES, files: 1, fields: 40 },
    // Keep the file in memory with its name and whether it was cut at the size limit, so the
    // route can answer "too large" beside the field instead of failing the whole request.
    async onFile(part: MultipartFile) {
      const data = await part.toBuffer();
      (part as unknown as { value: UploadedFile }).value = {
        filename: part.filename,
        data,
        truncated: part.file.truncated,
      };
    },
  });
  await app.register(fastifySecureSession, {
    key: Buffer.from(
      hkdfSync("sha256", options.sessionSecret, "placement-portal", "session-key", 32),
    ),
    cookieName: "portal_session",
    expiry: SESSION_HOURS * 60 * 60,
    cookie: { path: "/", httpOnly: true, sameSite: "lax", secure: "auto" },
  });
  await app.register(fastifyCsrf, { sessionPlugin: "@fastify/secure-session" });
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL("./assets/", import.meta.url)),
    prefix: "/assets/",
    maxAge: "1h",
  });
  // Browsers ask for /favicon.ico on their own, whatever the page links: point them at the icon
  // instead of logging a 404 on every first visit.
  app.get("/favicon.ico", (_request, reply) => reply.redirect("/assets/favicon.svg", 301));

  app.addHook("onRequest", async (request) => {
    const userId = request.session.get("userId");
    if (userId === undefined) return;
    request.user = await options.loadUser(userId);
    // The account was rejected, deleted or deactivated since the session began.
    if (!request.user) request.session.delete();
    // Admins see, on every page, when Twilio refuses the credentials (set by any dispatcher).
    if (request.user?.role === "admin" && options.adminAlert)
      request.smsAlert = await options.adminAlert();
  });
  // CSRF is checked after the body is parsed (the token is a form field), for every state change.
  app.addHook("preHandler", (request, reply, done) => {
    const safeMethod =
      request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS";
    if (safeMethod || request.routeOptions.config.csrf === false) return done();
    app.csrfProtection(request, reply, done);
  });

  installErrorHandlers(app);

  return app;
}
