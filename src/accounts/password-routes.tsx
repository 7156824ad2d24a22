import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Role } from "../db/schema.ts";
import { currentActor, flash, HttpError, homeFor, requireRole } from "../web/auth.ts";
import { emptyForm } from "../web/components.tsx";
import { formValues, parseForm } from "../web/forms.ts";
import { minutesUntil, tryAgainIn } from "../web/limits.ts";
import { pageContext } from "../web/page.ts";
import { idParams } from "../web/schemas.ts";
import {
  addAdmin,
  addAdminSchema,
  changeOwnPassword,
  changePasswordSchema,
  listAdmins,
  setAdminPassword,
  setPasswordSchema,
} from "./admins.ts";
import { isLocalAddress, localTrialCode, resetCodesOnScreen } from "./local-trial.ts";
import { takeLoginAttempt } from "./login-limits.ts";
import {
  AdminsPage,
  ChangePasswordPage,
  ForgotPasswordPage,
  ResetPasswordPage,
  SetAdminPasswordPage,
} from "./password-pages.tsx";
import {
  forgotPasswordSchema,
  RESET_CODE_MAX_TRIES,
  requestResetCode,
  resetPasswordSchema,
  resetPasswordWithCode,
} from "./password-reset.ts";
import { normaliseEmail } from "./service.ts";

declare module "@fastify/secure-session" {
  interface SessionData {
    /** The email a reset code was asked for, to fill in the next form. */
    resetEmail: string;
  }
}

type Body = Record<string, unknown>;

/**
 * The reset forms answer no sooner than this after the request arrived, whatever the email: a
 * known student's request does more work (a code, an SMS, an audit row) than an unknown email's,
 * and the time must not tell them apart.
 */
export const RESET_ANSWER_MIN_MS = 200;

async function answerNoSoonerThan(startedAt: number, ms = RESET_ANSWER_MIN_MS): Promise<void> {
  const wait = startedAt + ms - performance.now();
  if (wait > 0) await sleep(wait);
}

/** "Forgot password?": ask for an SMS code, then set a new password with it (anonymous). */
export async function passwordResetRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  const localTrial = async (email: unknown, address: string) =>
    resetCodesOnScreen(ctx.config) && isLocalAddress(address)
      ? {
          code: await localTrialCode(
            ctx,
            typeof email === "string" ? normaliseEmail(email) : "",
            address,
          ),
        }
      : undefined;

  app.get("/password/forgot", async (request, reply) =>
    reply.html(<ForgotPasswordPage page={pageContext(request, reply)} form={emptyForm} />),
  );

  app.post("/password/forgot", async (request, reply) => {
    const startedAt = performance.now();
    const body = (request.body ?? {}) as Body;
    const parsed = parseForm(forgotPasswordSchema, body);
    if (!parsed.ok) {
      const form = { values: formValues(body), errors: parsed.errors };
      return reply
        .code(422)
        .html(<ForgotPasswordPage page={pageContext(request, reply)} form={form} />);
    }
    const result = await requestResetCode(ctx, parsed.data.email, request.ip);
    await answerNoSoonerThan(startedAt);
    if (result.limited) {
      const minutes = minutesUntil(result.retryAt, ctx.clock.now());
      return reply
        .code(429)
        .header("retry-after", String(minutes * 60))
        .html(
          <ForgotPasswordPage
            page={pageContext(request, reply)}
            form={{ values: formValues(body), errors: {} }}
            notice={`Too many codes were asked for this email or from your network. ${tryAgainIn(minutes)}`}
          />,
        );
    }
    request.session.set("resetEmail", parsed.data.email);
    return reply.redirect("/password/reset", 303);
  });

  app.get("/password/reset", async (request, reply) => {
    const email = request.session.get("resetEmail") ?? "";
    return reply.html(
      <ResetPasswordPage
        page={pageContext(request, reply)}
        form={{ values: { email }, errors: {} }}
        localTrial={await localTrial(email, request.ip)}
      />,
    );
  });

  app.post("/password/reset", async (request, reply) => {
    const startedAt = performance.now();
    const body = (request.body ?? {}) as Body;
    const again = async (errors: Record<string, string>, status: number, notice?: string) =>
      reply
        .code(status)
        .html(
          <ResetPasswordPage
            page={pageContext(request, reply)}
            form={{ values: formValues(body), errors }}
            notice={notice}
            localTrial={await localTrial(body.email, request.ip)}
          />,
        );
    const parsed = parseForm(resetPasswordSchema, body);
    if (!parsed.ok) return again(parsed.errors, 422);
    const result = await resetPasswordWithCode(ctx, parsed.data, request.ip);
    await answerNoSoonerThan(startedAt);
    if (result.limited) {
      const minutes = minutesUntil(result.retryAt, ctx.clock.now());
      reply.header("retry-after", String(minutes * 60));
      return again({}, 429, `Too many wrong codes from your network. ${tryAgainIn(minutes)}`);
    }
    if (!result.ok)
      return again(
        { code: "This code is wrong, has expired or was used already." },
        422,
        `The password was not changed. A code stops working after ${RESET_CODE_MAX_TRIES} wrong tries or when a newer one is sent: ask for a new code if needed.`,
      );
    request.session.regenerate();
    flash(request, "success", "Your password has been changed. Log in with the new one.");
    return reply.redirect("/login", 303);
  });
}

/** A signed-in user's own password (registered under /student and /admin). */
export async function ownPasswordRoutes(app: FastifyInstance, options: { role: Role }) {
  const ctx = app.ctx;
  const action = `/${options.role}/password`;
  app.addHook("onRequest", requireRole(options.role));

  app.get("/password", async (request, reply) =>
    reply.html(
      <ChangePasswordPage page={pageContext(request, reply)} form={emptyForm} action={action} />,
    ),
  );

  app.post("/password", async (request, reply) => {
    const body = (request.body ?? {}) as Body;
    const actor = currentActor(request);
    const again = (errors: Record<string, string>, status: number) =>
      reply
        .code(status)
        .html(
          <ChangePasswordPage
            page={pageContext(request, reply)}
            form={{ values: formValues(body), errors }}
            action={action}
          />,
        );
    const parsed = parseForm(changePasswordSchema, body);
    if (!parsed.ok) return again(parsed.errors, 422);
    // The current password is a password guess like a login's: the same limits apply.
    const attempt = await takeLoginAttempt(ctx, actor.email, request.ip);
    if (attempt.limited) {
      const minutes = minutesUntil(attempt.retryAt, ctx.clock.now());
      reply.header("retry-after", String(minutes * 60));
      return again({ current_password: `Too many wrong passwords. ${tryAgainIn(minutes)}` }, 429);
    }
    const result = await changeOwnPassword(ctx, actor, parsed.data);
    // A wrong current password stays counted like a failed login.
    if (!result.ok) return again(result.errors, 422);
    await attempt.release();
    // This session stays signed in; every other one of this account has ended.
    request.session.set("sessionVersion", result.sessionVersion);
    flash(
      request,
      "success",
      "Your password has been changed. Your other sessions were logged out.",
    );
    return reply.redirect(homeFor(options.role), 303);
  });
}

/** The admins: who they are, add one, set a new password for one who forgot theirs. */
export async function adminAccountRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  async function adminsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    form = emptyForm,
    status = 200,
  ) {
    const admins = await listAdmins(ctx);
    const me = request.user?.id;
    return reply
      .code(status)
      .html(<AdminsPage page={pageContext(request, reply)} admins={admins} me={me} form={form} />);
  }

  app.get("/admins", (request, reply) => adminsPage(request, reply));

  app.post("/admins", async (request, reply) => {
    const body = (request.body ?? {}) as Body;
    const parsed = parseForm(addAdminSchema, body);
    const result = parsed.ok ? await addAdmin(ctx, currentActor(request), parsed.data) : parsed;
    if (!result.ok)
      return adminsPage(request, reply, { values: formValues(body), errors: result.errors }, 422);
    flash(request, "success", `${parsed.ok ? parsed.data.email : ""} is now an admin.`);
    return reply.redirect("/admin/admins", 303);
  });

  async function findOtherAdmin(request: { user: { id: number } | null }, id: number) {
    if (id === request.user?.id)
      throw new HttpError(
        403,
        "Change your own password on the Change password page: it asks for the current one.",
      );
    const admin = (await listAdmins(ctx)).find((a) => a.id === id);
    if (!admin) throw new HttpError(404, "There is no such admin.");
    return admin;
  }

  app.get<{ Params: { id: number } }>(
    "/admins/:id/password",
    { schema: { params: idParams } },
    async (request, reply) => {
      const admin = await findOtherAdmin(request, request.params.id);
      return reply.html(
        <SetAdminPasswordPage page={pageContext(request, reply)} form={emptyForm} admin={admin} />,
      );
    },
  );

  app.post<{ Params: { id: number } }>(
    "/admins/:id/password",
    { schema: { params: idParams } },
    async (request, reply) => {
      const admin = await findOtherAdmin(request, request.params.id);
      const body = (request.body ?? {}) as Body;
      const parsed = parseForm(setPasswordSchema, body);
      if (!parsed.ok)
        return reply
          .code(422)
          .html(
            <SetAdminPasswordPage
              page={pageContext(request, reply)}
              form={{ values: {}, errors: parsed.errors }}
              admin={admin}
            />,
          );
      const result = await setAdminPassword(
        ctx,
        currentActor(request),
        admin.id,
        parsed.data.password,
      );
      if (!result.ok) throw new HttpError(result.status, result.message);
      flash(request, "success", `A new password is set for ${result.email}.`);
      return reply.redirect("/admin/admins", 303);
    },
  );
}
