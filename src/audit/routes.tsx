import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { HttpError, requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { csvFilename, sendCsv } from "../web/csv.ts";
import { plural } from "../web/format.ts";
import { Layout } from "../web/layout.tsx";
import { type PageContext, pageContext } from "../web/page.ts";
import { pageParam, textParam } from "../web/schemas.ts";
import { formatCsvDateTime } from "../web/time.ts";
import {
  AUDIT_PAGE_SIZE,
  type AuditFilters,
  auditActors,
  auditEntries,
  listAudit,
} from "./service.ts";
import { AUDIT_ACTION_KINDS, auditInWords } from "./words.ts";

const KNOWN_ACTIONS = new Set(AUDIT_ACTION_KINDS.map((k) => k.action));

/** "2026-12-01": a day that exists. */
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date like 2026-12-01")
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
  }, "is not a day of the calendar");

/** The audit log's filters as the address carries them; an empty field is no filter. */
const auditQuery = z
  .object({
    who: z.string().max(254).optional(),
    what: z
      .string()
      .refine((v) => KNOWN_ACTIONS.has(v), "is not a kind of action the log knows")
      .optional(),
    from: day.optional(),
    to: day.optional(),
    q: z.string().max(100).optional(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, {
    message: "comes before “From”",
    path: ["to"],
  });

const FIELD_NAMES: Record<string, string> = {
  who: "Who",
  what: "What",
  from: "From",
  to: "To",
  q: "Subject contains",
};

/** The filters of the address, or a 400 that says which one is wrong and how it should be. */
function auditFilters(query: Record<string, string | undefined>): AuditFilters {
  const present = Object.fromEntries(
    Object.entries(query).filter(([k, v]) => k !== "page" && v !== undefined && v !== ""),
  );
  const parsed = auditQuery.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = FIELD_NAMES[String(issue.path[0])] ?? String(issue.path[0]);
    throw new HttpError(
      400,
      `The audit log cannot be filtered this way: “${field}” ${issue.message}. Go back to the audit log and change the filter.`,
    );
  }
  return parsed.data;
}

function filterQuery(filters: AuditFilters): Record<string, string | undefined> {
  return {
    who: filters.who,
    what: filters.what,
    from: filters.from,
    to: filters.to,
    q: filters.q,
  };
}

function queryString(filters: AuditFilters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filterQuery(filters))) if (v) params.set(k, v);
  return params.toString();
}

function AuditFilterForm({ filters, actors }: { filters: AuditFilters; actors: string[] }) {
  return (
    <form method="get" action="/admin/audit" class="filters" aria-label="Filter the audit log">
      <label>
        Who
        <select name="who">
          <option value="">Anyone</option>
          {actors.map((email) => (
            <option value={email} selected={filters.who === email} safe>
              {email}
            </option>
          ))}
        </select>
      </label>
      <label>
        What
        <select name="what">
          <option value="">Any action</option>
          {AUDIT_ACTION_KINDS.map((k) => (
            <option value={k.action} selected={filters.what === k.action} safe>
              {k.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        From <input type="date" name="from" value={filters.from ?? ""} />
      </label>
      <label>
        To <input type="date" name="to" value={filters.to ?? ""} />
      </label>
      <label>
        Subject contains{" "}
        <input
          type="search"
          name="q"
          value={filters.q ?? ""}
          maxlength="100"
          placeholder="Name, roll number, job"
        />
      </label>
      <button type="submit">Filter</button>
    </form>
  );
}

function AuditPage({
  page,
  filters,
  actors,
  list,
  pageNumber,
}: {
  page: PageContext;
  filters: AuditFilters;
  actors: string[];
  list: Awaited<ReturnType<typeof listAudit>>;
  pageNumber: number;
}) {
  const filtered = Object.values(filterQuery(filters)).some(Boolean);
  const qs = queryString(filters);
  return (
    <Layout page={page} title="Audit log">
      <AuditFilterForm filters={filters} actors={actors} />
      <p>
        <span safe>
          {plural(
            list.total,
            filtered ? "matching entry" : "entry",
            filtered ? "matching entries" : "entries",
          )}
        </span>
        {list.total > 0 ? (
          <>
            {" · "}
            <a href={`/admin/audit.csv${qs ? `?${qs}` : ""}`} id="audit-csv">
              Export these as CSV
            </a>
          </>
        ) : null}
        {filtered ? (
          <>
            {" · "}
            <a href="/admin/audit">Show every entry</a>
          </>
        ) : null}
      </p>
      {list.rows.length === 0 ? (
        <p class="empty">
          {filtered ? "No entries match these filters." : "No admin actions yet."}
        </p>
      ) : (
        // Focusable: on a phone the table scrolls sideways, and a keyboard must reach it too.
        <section class="table-wrap" aria-label="Audit entries" tabindex="0">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {list.rows.map((r) => {
                const words = auditInWords(r);
                return (
                  <tr>
                    <td safe>{formatDateTime(r.at)}</td>
                    <td safe>{r.actor_email}</td>
                    <td safe>{words.summary}</td>
                    <td safe>{words.details}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
      <Pagination
        page={pageNumber}
        pageSize={AUDIT_PAGE_SIZE}
        total={list.total}
        baseUrl="/admin/audit"
        query={filterQuery(filters)}
      />
    </Layout>
  );
}

type AuditQuerystring = {
  page: number;
  who?: string;
  what?: string;
  from?: string;
  to?: string;
  q?: string;
};

/** The address's shape (lengths, no control characters); `auditQuery` checks the meaning. */
const filterProperties = {
  who: textParam(254),
  what: textParam(60),
  from: textParam(10),
  to: textParam(10),
  q: textParam(100),
} as const;

export async function auditRoutes(app: FastifyInstance) {
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: AuditQuerystring }>(
    "/audit",
    {
      schema: {
        querystring: {
          type: "object",
          properties: { ...filterProperties, page: pageParam },
        },
      },
    },
    async (request, reply) => {
      const filters = auditFilters({ ...request.query, page: undefined });
      const [list, actors] = await Promise.all([
        listAudit(app.ctx, request.query.page, filters),
        auditActors(app.ctx),
      ]);
      return reply.html(
        <AuditPage
          page={pageContext(request, reply)}
          filters={filters}
          actors={actors}
          list={list}
          pageNumber={request.query.page}
        />,
      );
    },
  );

  // Not itself recorded in the log, as no export is (README, "Exports").
  app.get<{ Querystring: Omit<AuditQuerystring, "page"> }>(
    "/audit.csv",
    { schema: { querystring: { type: "object", properties: filterProperties } } },
    async (request, reply) => {
      const filters = auditFilters(request.query);
      async function* rows() {
        for await (const r of auditEntries(app.ctx, filters)) {
          const words = auditInWords(r);
          yield [
            formatCsvDateTime(r.at),
            r.actor_email,
            words.summary,
            words.details,
            r.subject,
            r.action,
          ];
        }
      }
      return sendCsv(
        reply,
        csvFilename("audit-log", app.ctx.clock.now()),
        ["When", "Who", "What", "Details", "Subject", "Action code"],
        rows(),
      );
    },
  );
}
