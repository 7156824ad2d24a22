import { hkdfSync } from "node:crypto";
import { fileURLToPath } from "node:url";
import { AjvCompiler, type ValidatorFactory } from "@fastify/ajv-compiler";
import fastifyCsrf from "@fastify/csrf-protection";
import fastifyFormbody from "@fastify/formbody";
import fastifyMultipart from "@fastify/multipart";
import fastifySecureSession from "@fastify/secure-session";
import fastifyStatic from "@fastify/static";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import helmet from "helmet";
import type { AppContext } from "../context.ts";
import { HttpError, type SessionUser } from "./auth.ts";
import { installErrorHandlers } from "./errors.tsx";
import type { UploadedFile } from "./forms.ts";
import type { SmsSendingState } from "./page.ts";

declare module "fastify" {
  interface FastifyInstance {
    ctx: AppContext;
    /** Every route as "METHOD /url", for the security tests that walk all of them. */
    routeTable: { method: string; url: string; csrf: boolean; upload: boolean; query: string[] }[];
    /** Files being read now, and the turns for more (config UPLOADS_AT_ONCE). */
    uploadTurns: UploadTurns;
  }
  interface FastifyReply {
    /** Sends a rendered page (a TSX element) as HTML. */
    html(page: JSX.Element): FastifyReply;
  }
  interface FastifyRequest {
    /** For admins: whether SMS are going out (pauses, refused credentials, recent failures). */
    smsAlert: SmsSendingState | null;
    /** The request came with a signed-in session that has ended since (see `requireRole`). */
    sessionEnded: boolean;
  }
  interface FastifyContextConfig {
    /** Set to false on routes that are not forms, such as Twilio's webhooks (signed instead). */
    csrf?: boolean;
    /**
     * Set to true on the routes whose form sends a file (multipart/form-data). Every other route
     * answers a multipart body 415 without reading it.
     */
    upload?: boolean;
  }
}

export interface WebServerOptions {
  /** At least 32 characters; the session cookie key is derived from it. */
  sessionSecret: string;
  /**
   * The signed-in user of a session, or null when the account is gone or deactivated or the
   * session's version is older than the account's (its password changed since).
   */
  loadUser(userId: number, sessionVersion: number): Promise<SessionUser | null>;
  /** For admins, on every page: whether SMS are going out (one cheap read). */
  adminAlert?(): Promise<SmsSendingState>;
}

const SESSION_HOURS = 8;

/**
 * An upload form's text fields are cut at this size: longer than any field a form accepts (so a cut
 * value is still refused as too long, beside its field), and 40 of them stay under a megabyte.
 */
const UPLOAD_FIELD_MAX_BYTES = 16 * 1024;

/** Any multipart type, whatever its case: what the parser would otherwise be asked to read. */
function isMultipartRequest(request: FastifyRequest): boolean {
  return /^\s*multipart\//i.test(request.headers["content-type"] ?? "");
}

/**
 * The rest of an upload the reader stopped on is dropped as it arrives, never kept: the early
 * answer reaches the client, and the connection can serve its next request. (A body no one began
 * to read, as behind the 415 below, Node drops the same way once the answer is sent.)
 */
function discardRest(request: FastifyRequest): void {
  request.raw.unpipe();
  request.raw.resume();
}

/**
 * Turns for reading a file: at most `size` at once. A further upload waits, its body left unread
 * (the connection's buffers fill and the client slows down), until a turn frees or `waitMs`
 * passes. A turn is held until the answer is sent, because the file stays in memory until then.
 */
export class UploadTurns {
  private free: number;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly size: number) {
    this.free = size;
  }

  /** How many turns are held. */
  get held(): number {
    return this.size - this.free;
  }

  /** How many uploads wait for one. */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * True once this upload holds a turn; false if none came free within `waitMs`, or if `gone`
   * (its client left while it waited: it must not take a turn it would never give back).
   */
  take(waitMs: number, gone: AbortSignal): Promise<boolean> {
    if (gone.aborted) return Promise.resolve(false);
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const stopWaiting = (taken: boolean) => {
        clearTimeout(timer);
        gone.removeEventListener("abort", leave);
        this.waiting.delete(handOver);
        resolve(taken);
      };
      const handOver = () => stopWaiting(true);
      const leave = () => stopWaiting(false);
      const timer = setTimeout(leave, waitMs);
      gone.addEventListener("abort", leave, { once: true });
      this.waiting.add(handOver);
    });
  }

  give(): void {
    const next = this.waiting.values().next();
    if (next.done) this.free += 1;
    else next.value();
  }
}

/**
 * The CSRF plugin's own check, on the fields of an upload form read so far (the token is one of
 * them). It rejects with the plugin's 403 instead of answering, so the reader stops before the file.
 */
function checkCsrf(request: FastifyRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const refuse = { send: reject } as unknown as FastifyReply;
    request.server.csrfProtection(request, refuse, () => resolve());
  });
}

/**
 * An upload form (a route with `config.upload`) becomes `request.body` as field name -> text
 * (several under one name: a list), read part by part in the order the browser sends them, which
 * is the form's order: the CSRF token comes first. When the file's part arrives, the token read
 * so far must already be valid, or the answer is 403 and the file is never read; a valid one lets
 * the file through its size limit (the rest is dropped, not kept) with whether it was cut, so the
 * route can answer "too large" beside the field instead of failing the whole request. A body that
 * is not multipart at all (no closing boundary, no boundary parameter, garbage) is a 400 that says
 * so: the parser's own errors carry no status and would otherwise be a 500.
 */
async function readUploadForm(
  request: FastifyRequest,
  reply: FastifyReply,
  turns: UploadTurns,
): Promise<void> {
  if (request.routeOptions.config.upload !== true || !request.isMultipart()) return;
  // A client gone before the reading began would leave the parser waiting forever for parts.
  if (request.raw.destroyed) throw new HttpError(400, "The form did not arrive whole.");
  const { UPLOAD_WAIT_SECONDS } = request.server.ctx.config;
  const body: Record<string, unknown> = {};
  // The CSRF check reads the token from here while the rest is still arriving.
  request.body = body;
  try {
    for await (const part of request.parts()) {
      let value: unknown;
      if (part.type === "file") {
        await checkCsrf(request);
        // The answer's end, however it comes (sent, or the client gone): the turn goes back then.
        const ended = new AbortController();
        reply.raw.once("close", () => ended.abort());
        if (!(await turns.take(UPLOAD_WAIT_SECONDS * 1000, ended.signal))) {
          reply.header("retry-after", String(UPLOAD_WAIT_SECONDS));
          throw new HttpError(
            503,
            "Many files are being uploaded at this moment, so yours was not read and nothing was saved. Go back and send the form again in a minute.",
          );
        }
        if (ended.signal.aborted) turns.give();
        else ended.signal.addEventListener("abort", () => turns.give(), { once: true });
        value = {
          filename: part.filename,
          data: await part.toBuffer(),
          truncated: part.file.truncated,
        } satisfies UploadedFile;
      } else value = part.value;
      // Own keys only: a field named "constructor" must not find Object's.
      const earlier = Object.hasOwn(body, part.fieldname) ? body[part.fieldname] : undefined;
      body[part.fieldname] =
        earlier === undefined
          ? value
          : Array.isArray(earlier)
            ? [...earlier, value]
            : [earlier, value];
    }
  } catch (error) {
    discardRest(request);
    const status = (error as { statusCode?: number }).statusCode;
    // A refused token (403), too many fields or files (413), forbidden field names (400) and no
    // turn free (503) keep their own answer.
    if (error instanceof HttpError || (status && status >= 400 && status < 500)) throw error;
    throw new HttpError(
      400,
      "The form did not arrive whole, so nothing was saved. Go back, reload the page and send it again.",
    );
  }
}

/**
 * Route schemas compiled once per process, however many apps it builds. Ajv's code generation is
 * most of what building an app costs, and the test suite builds one per test (docs/testing.md).
 * Keyed by the schema's text: features build their schema objects as they register routes, so
 * two apps never share the objects themselves.
 */
const ajvPool = AjvCompiler();
const compiledSchemas = new WeakMap<object, Map<string, unknown>>();
const validatorFactory: ValidatorFactory = (externalSchemas, options) => {
  const compile = ajvPool(externalSchemas, options);
  let compiled = compiledSchemas.get(compile);
  if (!compiled) {
    compiled = new Map();
    compiledSchemas.set(compile, compiled);
  }
  const known = compiled;
  return (route) => {
    const key = JSON.stringify(route.schema);
    let validate = known.get(key);
    if (validate === undefined) {
      validate = compile(route);
      known.set(key, validate);
    }
    return validate as ReturnType<typeof compile>;
  };
};

/**
 * The shared web kit as a Fastify instance: security headers, forms and uploads, the session, CSRF
 * on every state change, assets, the signed-in user and the error pages. (Abuse limits are kept in
 * the database: web/limits.ts.) No routes:
 * the composing module (src/app.ts) registers every feature's.
 */
export async function createWebServer(
  ctx: AppContext,
  options: WebServerOptions,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: ctx.config.TRUST_PROXY,
    schemaController: { compilersFactory: { buildValidator: validatorFactory } },
  });
  app.decorate("ctx", ctx);
  app.decorateReply("html", function (page: JSX.Element) {
    return this.type("text/html; charset=utf-8").send(page);
  });
  app.decorateRequest("user", null);
  app.decorateRequest("smsAlert", null);
  app.decorateRequest("sessionEnded", false);
  app.decorate("routeTable", []);
  app.addHook("onRoute", (route) => {
    // The query parameters a route declares, so the hostile-input tests try each of them.
    const querystring = route.schema?.querystring as { properties?: object } | undefined;
    const query = Object.keys(querystring?.properties ?? {});
    for (const method of [route.method].flat()) {
      if (method !== "HEAD")
        app.routeTable.push({
          method,
          url: route.url,
          csrf: route.config?.csrf !== false,
          upload: route.config?.upload === true,
          query,
        });
    }
  });

  // Security headers on every answer, from helmet's middleware built once here, so the CSP is not
  // parsed per request. No upgrade-insecure-requests: a campus server is often reached over plain
  // http on the LAN, where it would send every form to an https port that does not exist.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: { "form-action": ["'self'"], "upgrade-insecure-requests": null },
    },
  });
  app.addHook("onRequest", (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined));
  });
  await app.register(fastifyFormbody);
  await app.register(fastifyMultipart, {
    throwFileSizeLimit: false,
    limits: {
      fileSize: ctx.config.RESUME_MAX_BYTES,
      files: 1,
      fields: 40,
      fieldSize: UPLOAD_FIELD_MAX_BYTES,
    },
  });
  app.decorate("uploadTurns", new UploadTurns(ctx.config.UPLOADS_AT_ONCE));
  app.addHook("preValidation", (request, reply) => readUploadForm(request, reply, app.uploadTurns));
  await app.register(fastifySecureSession, {
    key: Buffer.from(
      hkdfSync("sha256", options.sessionSecret, "placement-portal", "session-key", 32),
    ),
    cookieName: "portal_session",
    expiry: SESSION_HOURS * 60 * 60,
    cookie: { path: "/", httpOnly: true, sameSite: "lax", secure: "auto" },
  });
  await app.register(fastifyCsrf, { sessionPlugin: "@fastify/secure-session" });
  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL("./assets/", import.meta.url)),
    prefix: "/assets/",
    maxAge: "1h",
  });
  // Browsers ask for /favicon.ico on their own, whatever the page links: point them at the icon
  // instead of logging a 404 on every first visit.
  app.get("/favicon.ico", (_request, reply) => reply.redirect("/assets/favicon.svg", 301));

  // A multipart body is read only by the routes that take a file. Anywhere else (the login form,
  // password reset, Twilio's webhooks) it is refused before any of it is read and before the
  // user's database read, so that anonymous forms cannot be made to hold megabytes per request.
  app.addHook("onRequest", async (request) => {
    if (isMultipartRequest(request) && request.routeOptions.config.upload !== true)
      throw new HttpError(
        415,
        "This form does not take files, so nothing was read or saved. Go back, reload the page and send it again.",
      );
  });
  app.addHook("onRequest", async (request) => {
    const userId = request.session.get("userId");
    if (userId === undefined) return;
    request.user = await options.loadUser(userId, request.session.get("sessionVersion") ?? 0);
    // The account was rejected, deleted or deactivated, or its password changed, since the
    // session began: a fresh, empty session (which can still carry the login page's message).
    if (!request.user) {
      request.session.regenerate();
      request.sessionEnded = true;
    }
    // Admins see, on every page, when sending is paused or failing (set by any dispatcher).
    if (request.user?.role === "admin" && options.adminAlert)
      request.smsAlert = await options.adminAlert();
  });
  // CSRF is checked after the body is parsed (the token is a form field), for every state change;
  // an upload form's is also checked before its file is read (readUploadForm).
  app.addHook("preHandler", (request, reply, done) => {
    const safeMethod =
      request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS";
    if (safeMethod || request.routeOptions.config.csrf === false) return done();
    app.csrfProtection(request, reply, done);
  });

  installErrorHandlers(app);

  return app;
}
