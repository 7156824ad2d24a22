import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.ts";
import { containsPattern, likeOperator } from "../db/dialect.ts";
import { SMS_KINDS, SMS_STATUSES, type SmsKind, type SmsStatus } from "../db/schema.ts";
import { requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { plural } from "../web/format.ts";
import { Layout } from "../web/layout.tsx";
import { pageContext } from "../web/page.ts";
import { pageParam, textParam } from "../web/schemas.ts";
import { readDispatchState } from "./outbox.ts";
import { SmsTable, smsKindLabel, smsStatusLabel } from "./pages.tsx";

const PAGE_SIZE = 50;

interface SmsFilters {
  status?: SmsStatus | undefined;
  kind?: SmsKind | undefined;
  to?: string | undefined;
  page: number;
}

async function listSms(ctx: AppContext, filters: SmsFilters) {
  let query = ctx.db.selectFrom("sms_messages");
  if (filters.status) query = query.where("status", "=", filters.status);
  if (filters.kind) query = query.where("kind", "=", filters.kind);
  if (filters.to)
    query = query.where(
      "to_e164",
      likeOperator(ctx.dialect),
      containsPattern(filters.to.replace(/[\s-]/g, "")),
    );
  const [rows, total, byStatus] = await Promise.all([
    query
      .selectAll()
      .orderBy("id", "desc")
      .limit(PAGE_SIZE)
      .offset((filters.page - 1) * PAGE_SIZE)
      .execute(),
    query.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
    ctx.db
      .selectFrom("sms_messages")
      .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
      .groupBy("status")
      .execute(),
  ]);
  return {
    rows,
    total: Number(total.n),
    byStatus: new Map(byStatus.map((r) => [r.status, Number(r.n)])),
  };
}

export async function smsAdminRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{
    Querystring: { status?: SmsStatus | ""; kind?: SmsKind | ""; to?: string; page: number };
  }>(
    "/sms",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            status: { type: "string", enum: ["", ...SMS_STATUSES] },
            kind: { type: "string", enum: ["", ...SMS_KINDS] },
            to: textParam(20),
            page: pageParam,
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const filters: SmsFilters = {
        status: q.status || undefined,
        kind: q.kind || undefined,
        to: q.to || undefined,
        page: q.page,
      };
      const [{ rows, total, byStatus }, state] = await Promise.all([
        listSms(ctx, filters),
        readDispatchState(ctx),
      ]);
      const pausedUntil =
        state.paused_until && Date.parse(state.paused_until) > Date.now()
          ? state.paused_until
          : null;
      return reply.html(
        <Layout page={pageContext(request, reply)} title="SMS">
          <p>
            Sending through:{" "}
            <strong>
              {ctx.config.SMS_BACKEND === "twilio" ? "Twilio" : "capture on this server (not sent)"}
            </strong>
            {ctx.config.SMS_ENABLED ? "" : " (disabled)"}.
            {pausedUntil ? (
              <span
                safe
              >{` Sending paused by Twilio's rate limit until ${formatDateTime(pausedUntil)}.`}</span>
            ) : null}
          </p>
          <ul class="counters small">
            {SMS_STATUSES.filter((s) => byStatus.has(s)).map((s) => (
              <li>
                <a href={`/admin/sms?status=${s}`}>
                  <strong>{byStatus.get(s) ?? 0}</strong> <span safe>{smsStatusLabel(s)}</span>
                </a>
              </li>
            ))}
          </ul>
          <form method="get" action="/admin/sms" class="filters" aria-label="Filter SMS">
            <label>
              Status
              <select name="status">
                <option value="">All</option>
                {SMS_STATUSES.map((s) => (
                  <option value={s} selected={filters.status === s} safe>
                    {smsStatusLabel(s)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Kind
              <select name="kind">
                <option value="">All</option>
                {SMS_KINDS.map((k) => (
                  <option value={k} selected={filters.kind === k} safe>
                    {smsKindLabel(k)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Number <input type="search" name="to" value={filters.to ?? ""} placeholder="+91…" />
            </label>
            <button type="submit">Filter</button>
          </form>
          <p safe>{plural(total, "message")}</p>
          <SmsTable messages={rows} />
          <Pagination
            page={filters.page}
            pageSize={PAGE_SIZE}
            total={total}
            baseUrl="/admin/sms"
            query={{ status: filters.status, kind: filters.kind, to: filters.to }}
          />
        </Layout>,
      );
    },
  );
}
