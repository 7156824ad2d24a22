// @both-databases: the filters' SQL differs per dialect (ILIKE/LIKE on the subject, times compared with `at`).
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { pageText } from "#test/support/confirm.ts";
import { recordAudit } from "./service.ts";

const t = useTestApp();

/** An entry recorded at `at` (UTC) by `who`. */
async function entry(
  who: { id: number; email: string },
  at: string,
  action: string,
  subject: string,
  details: Record<string, unknown> = {},
) {
  await recordAudit(
    t.ctx.db,
    { clock: { now: () => new Date(at) } } as Parameters<typeof recordAudit>[1],
    who,
    { action, subject, details },
  );
}

async function setUp() {
  const asha = await createAdmin(t.ctx, "asha.tpo@college.test");
  const ravi = await createAdmin(t.ctx, "ravi.tpo@college.test");
  // 1 Dec, 23:59 India time, and 2 Dec, 00:01 India time.
  await entry(asha, "2026-12-01T18:29:00.000Z", "student.approve", "1XY22CS001 Meera Iyer", {
    name: "Meera Iyer",
    rollNumber: "1XY22CS001",
  });
  await entry(ravi, "2026-12-01T18:31:00.000Z", "student.approve", "1XY22EC002 Rahul Nair", {
    name: "Rahul Nair",
    rollNumber: "1XY22EC002",
  });
  await entry(asha, "2026-12-03T06:00:00.000Z", "job.close", "Infosys - Systems Engineer");
  await entry(ravi, "2026-12-04T06:00:00.000Z", "student.reject", "=HYPERLINK(1) Mallory", {
    name: '=HYPERLINK("http://evil")',
    rollNumber: "@SUM(1)",
    reason: "+cmd|' /C calc'!A0",
  });
  return {
    asha,
    client: await loginAs(t.app, asha.email, asha.password),
  };
}

const summaries = (body: string) =>
  [...body.matchAll(/<tr><td>[^<]*<\/td><td>[^<]*<\/td><td>([^<]*)<\/td>/g)].map((m) =>
    pageText(m[1]!).trim(),
  );

describe("the audit log's filters", () => {
  it("filters by who, what, India days and the subject, and says how many match", async () => {
    const { client } = await setUp();
    const all = await client.get("/admin/audit");
    expect(all.statusCode).toBe(200);
    expect(summaries(all.body)).toHaveLength(4);
    // The filters are offered in the page's words.
    expect(all.body).toContain('<option value="student.approve">Student approved</option>');
    expect(all.body).toContain(
      '<option value="ravi.tpo@college.test">ravi.tpo@college.test</option>',
    );

    const byWho = await client.get("/admin/audit?who=asha.tpo%40college.test");
    expect(summaries(byWho.body)).toEqual([
      "Closed applications for Infosys - Systems Engineer",
      "Approved student Meera Iyer (1XY22CS001)",
    ]);
    expect(pageText(byWho.body)).toContain("2 matching entries");
    expect(byWho.body).toContain('<option value="asha.tpo@college.test" selected>');

    const byWhat = await client.get("/admin/audit?what=student.approve");
    expect(summaries(byWhat.body)).toEqual([
      "Approved student Rahul Nair (1XY22EC002)",
      "Approved student Meera Iyer (1XY22CS001)",
    ]);

    // Days are India days: 2 Dec starts at 18:30 UTC on 1 Dec.
    const from = await client.get("/admin/audit?what=student.approve&from=2026-12-02");
    expect(summaries(from.body)).toEqual(["Approved student Rahul Nair (1XY22EC002)"]);
    const to = await client.get("/admin/audit?to=2026-12-01");
    expect(summaries(to.body)).toEqual(["Approved student Meera Iyer (1XY22CS001)"]);
    const between = await client.get("/admin/audit?from=2026-12-02&to=2026-12-03");
    expect(summaries(between.body)).toHaveLength(2);

    // Any case, and % matches itself.
    const search = await client.get("/admin/audit?q=infosys");
    expect(summaries(search.body)).toEqual(["Closed applications for Infosys - Systems Engineer"]);
    expect(summaries((await client.get("/admin/audit?q=%25")).body)).toEqual([]);
    expect(pageText((await client.get("/admin/audit?q=%25")).body)).toContain(
      "No entries match these filters.",
    );
  });

  it("keeps the filters in the pages' links and in the export's", async () => {
    const { asha, client } = await setUp();
    for (let i = 0; i < 55; i++)
      await entry(asha, "2026-12-05T06:00:00.000Z", "job.reopen", `Wipro - Role ${i}`);
    const first = await client.get("/admin/audit?who=asha.tpo%40college.test&what=job.reopen");
    expect(pageText(first.body)).toContain("55 matching entries");
    const next = /<a href="([^"]+)">Next →<\/a>/.exec(first.body)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toBe("/admin/audit?who=asha.tpo%40college.test&what=job.reopen&page=2");
    const second = await client.get(next!);
    expect(summaries(second.body)).toHaveLength(5);
    expect(second.body).toContain(
      'href="/admin/audit.csv?who=asha.tpo%40college.test&what=job.reopen"',
    );
  });

  it("exports the filtered log as CSV, formulas neutralised, with a dated file name", async () => {
    const { asha, client } = await setUp();
    const response = await client.get("/admin/audit.csv?from=2026-12-02");
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const today = new Date(Date.now() + 330 * 60 * 1000).toISOString().slice(0, 10);
    expect(response.headers["content-disposition"]).toBe(
      `attachment; filename="audit-log-${today}.csv"`,
    );
    const rows = parse(response.body, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r["Action code"])).toEqual([
      "student.reject",
      "job.close",
      "student.approve",
    ]);
    expect(rows[2]).toEqual({
      When: "2026-12-02 00:01 IST",
      Who: "ravi.tpo@college.test",
      What: "Approved student Rahul Nair (1XY22EC002)",
      Details: "",
      Subject: "1XY22EC002 Rahul Nair",
      "Action code": "student.approve",
    });
    // Cells a spreadsheet would run start with ' and stay text.
    expect(rows[0]!.Subject).toBe("'=HYPERLINK(1) Mallory");
    expect(rows[0]!.What).toBe('Rejected the registration of =HYPERLINK("http://evil") (@SUM(1))');
    const everything = parse((await client.get("/admin/audit.csv")).body, { columns: true });
    expect(everything).toHaveLength(4);
    // A detail that starts like a formula: a limit changed from "=1+1" (as stored).
    await entry(asha, "2026-12-05T06:00:00.000Z", "limit.edit", "Logins per address", {
      from: "=1+1",
      to: "5",
    });
    const limit = parse((await client.get("/admin/audit.csv?what=limit.edit")).body, {
      columns: true,
    }) as Record<string, string>[];
    expect(limit.map((r) => r.Details)).toEqual(["'=1+1 → 5"]);
  });

  it("refuses filters it cannot read with a 400 that says which and how, never a 500", async () => {
    const { client } = await setUp();
    const cases: [string, string][] = [
      ["from=2026-13-01", "“From” is not a day of the calendar"],
      ["from=2026-02-30", "“From” is not a day of the calendar"],
      ["to=yesterday", "“To” must be a date like 2026-12-01"],
      ["from=2026-12-05&to=2026-12-01", "“To” comes before “From”"],
      ["what=drop.table", "“What” is not a kind of action the log knows"],
    ];
    for (const [query, message] of cases) {
      for (const path of ["/admin/audit", "/admin/audit.csv"]) {
        const response = await client.get(`${path}?${query}`);
        expect(response.statusCode, `${path}?${query}`).toBe(400);
        expect(pageText(response.body)).toContain(message);
      }
    }
    for (const query of [`who=${"x".repeat(300)}`, "q=a%00b", "who=a&who=b", "page=0"]) {
      const response = await client.get(`/admin/audit?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
  });

  it("is for admins only", async () => {
    await setUp();
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    for (const path of ["/admin/audit", "/admin/audit.csv"]) {
      const response = await asStudent.get(path);
      expect(response.statusCode, path).toBe(403);
      expect(response.body).not.toContain("Meera Iyer");
    }
  });
});
