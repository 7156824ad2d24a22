import type { FastifyInstance } from "fastify";
import { requireRole } from "../web/auth.ts";
import { formatDateTime, Pagination } from "../web/components.tsx";
import { Layout } from "../web/layout.tsx";
import { pageContext } from "../web/page.ts";
import { pageParam } from "../web/schemas.ts";
import { AUDIT_PAGE_SIZE, listAudit } from "./service.ts";
import { auditInWords } from "./words.ts";

export async function auditRoutes(app: FastifyInstance) {
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: { page: number } }>(
    "/audit",
    {
      schema: {
        querystring: {
          type: "object",
          properties: { page: pageParam },
        },
      },
    },
    async (request, reply) => {
      const { rows, total } = await listAudit(app.ctx, request.query.page);
      return reply.html(
        <Layout page={pageContext(request, reply)} title="Audit log">
          {rows.length === 0 ? (
            <p class="empty">No admin actions yet.</p>
          ) : (
            <div class="table-wrap">
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
                  {rows.map((r) => {
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
            </div>
          )}
          <Pagination
            page={request.query.page}
            pageSize={AUDIT_PAGE_SIZE}
            total={total}
            baseUrl="/admin/audit"
            query={{}}
          />
        </Layout>,
      );
    },
  );
}
