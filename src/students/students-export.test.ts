// @both-databases: the export's search (trigram or FTS per dialect), keyset batches and the placed count kept by triggers.
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { applyToJob } from "#src/applications/service.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes } from "#test/support/client.ts";
import { STUDENT_CSV_COLUMNS } from "./list-routes.tsx";
import { putResume } from "./resume-store.ts";
import { STUDENT_EXPORT_BATCH } from "./student-list.ts";

const t = useTestApp();

async function adminClient() {
  const admin = await createAdmin(t.ctx);
  return loginAs(t.app, admin.email, admin.password);
}

function rowsOf(body: string) {
  return parse(body, { columns: true }) as Record<string, string>[];
}

/** Selected for `job`, as a final list would leave them. */
async function select(studentId: number, jobId: number) {
  const applied = await applyToJob(t.ctx, studentId, jobId);
  if (!applied.ok) throw new Error(applied.message);
  await t.ctx.db
    .updateTable("applications")
    .set({ status: "selected" })
    .where("id", "=", applied.applicationId)
    .execute();
}

describe("the students CSV", () => {
  it("exports the list's filter and search with placed and resume columns", async () => {
    const placed = await createStudent(t.ctx, {
      approved: true,
      full_name: "Asha Placed",
      department: "CSE",
      phone: "+919876500001",
      skills: "Java, SQL",
    });
    const waiting = await createStudent(t.ctx, {
      approved: true,
      full_name: "Asha Waiting",
      department: "CSE",
    });
    await createStudent(t.ctx, { approved: true, full_name: "Asha Elsewhere", department: "ECE" });
    await createStudent(t.ctx, { full_name: "Asha Pending", department: "CSE" });
    await createStudent(t.ctx, {
      approved: true,
      full_name: "Bala Other",
      department: "CSE",
      email: "bala@college.test",
    });
    const infosys = await postJob(t.ctx, { company: "Infosys", title: "Systems Engineer" });
    const tcs = await postJob(t.ctx, { company: "TCS", title: "Digital" });
    await select(placed.id, infosys.id);
    await select(placed.id, tcs.id);
    await applyToJob(t.ctx, waiting.id, infosys.id);
    await putResume(t.ctx.db, placed.id, pdfBytes(), "2026-12-02T08:35:00.000Z");
    const admin = await adminClient();

    // The list links the export with its filters (not its page or sort).
    const list = await admin.get(
      "/admin/students?status=approved&department=CSE&q=asha&sort=name&dir=asc",
    );
    const href = /<a href="([^"]+)" id="students-csv">Export these as CSV<\/a>/.exec(
      list.body,
    )?.[1];
    expect(href).toBe("/admin/students.csv?status=approved&q=asha&department=CSE");

    const response = await admin.get(href!);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const today = new Date(Date.now() + 330 * 60 * 1000).toISOString().slice(0, 10);
    expect(response.headers["content-disposition"]).toBe(
      `attachment; filename="students-${today}.csv"`,
    );
    expect(response.headers["cache-control"]).toBe("private, no-store");
    const rows = rowsOf(response.body);
    expect(Object.keys(rows[0]!)).toEqual([...STUDENT_CSV_COLUMNS]);
    expect(rows.map((r) => r.Name)).toEqual(["Asha Placed", "Asha Waiting"]);
    expect(rows[0]).toMatchObject({
      "Roll number": placed.roll_number,
      Email: placed.email,
      Phone: "+919876500001",
      Department: "CSE",
      Semester: "7",
      "Graduation year": "2027",
      CGPA: "8.20",
      Skills: "Java, SQL",
      Status: "Approved",
      Placed: "Yes",
      "Placed at": "Infosys – Systems Engineer; TCS – Digital",
      Resume: "Yes",
      "Resume uploaded": "2026-12-02 14:05 IST",
    });
    expect(rows[1]).toMatchObject({ Placed: "No", "Placed at": "", Resume: "No" });
    expect(rows[1]!["Resume uploaded"]).toBe("");

    // The queue's export: pending only.
    const pending = rowsOf((await admin.get("/admin/students.csv?status=pending")).body);
    expect(pending.map((r) => [r.Name, r.Status, r.Approved])).toEqual([
      ["Asha Pending", "Pending approval", ""],
    ]);
  });

  it("keeps cells that would run as formulas as text", async () => {
    const student = await createStudent(t.ctx, { approved: true, skills: "@SUM(1+1)" });
    await t.ctx.db
      .updateTable("students")
      .set({ full_name: '=HYPERLINK("http://evil.test","Click")', roll_number: "+1XY" })
      .where("id", "=", student.id)
      .execute();
    const admin = await adminClient();
    const [row] = rowsOf((await admin.get("/admin/students.csv?status=all")).body);
    expect(row!.Name).toBe(`'=HYPERLINK("http://evil.test","Click")`);
    expect(row!.Skills).toBe("'@SUM(1+1)");
    expect(row!["Roll number"]).toBe("'+1XY");
    // A phone number is a plain number, not a formula: left as it is.
    expect(row!.Phone).toBe(student.phone);
  });

  it("exports more students than one batch, every one once, in batches", async () => {
    const n = STUDENT_EXPORT_BATCH * 4 + 17;
    const now = new Date().toISOString();
    const users = await t.ctx.db
      .insertInto("users")
      .values(
        Array.from({ length: n }, (_, i) => ({
          email: `bulk${i}@college.test`,
          password_hash: "x",
          role: "student" as const,
          deactivated_at: null,
          created_at: now,
          last_login_at: null,
        })),
      )
      .returning("id")
      .execute();
    for (let from = 0; from < n; from += 500)
      await t.ctx.db
        .insertInto("students")
        .values(
          users.slice(from, from + 500).map((u, j) => ({
            user_id: u.id,
            full_name: `Bulk Student ${from + j}`,
            roll_number: `1BK${String(from + j).padStart(5, "0")}`,
            phone_e164: `+9198000${String(from + j).padStart(5, "0")}`,
            department: "MECH",
            semester: 7,
            graduation_year: 2027,
            cgpa: 7.5,
            active_backlogs: 0,
            skills: "",
            approved_at: null,
            approved_by: null,
            sms_opted_out_at: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    const admin = await adminClient();
    const rows = rowsOf(
      (await admin.get("/admin/students.csv?status=pending&department=MECH")).body,
    );
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r["Roll number"])).size).toBe(n);
  });

  it("is for admins only", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    const response = await asStudent.get("/admin/students.csv?status=all");
    expect(response.statusCode).toBe(403);
    expect(response.headers["content-type"]).not.toContain("text/csv");
    expect(response.body).not.toContain(student.email);
  });

  it("refuses a filter the list refuses, with a 400", async () => {
    const admin = await adminClient();
    for (const query of ["status=everyone", "year=1e309", "department=%00"])
      expect((await admin.get(`/admin/students.csv?${query}`)).statusCode, query).toBe(400);
  });
});
