// @both-databases: reads blobs in chunks and the eligibility filter on both databases
import { request as httpRequest, type IncomingMessage } from "node:http";
import { buffer as readAll } from "node:stream/consumers";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { fromBufferPromise } from "yauzl";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { watchStatements } from "#test/support/statements.ts";
import type { ApplicationStatus } from "../db/schema.ts";
import { findJob } from "../jobs/service.ts";
import { resumeRow, sha256Hex } from "../students/resume-store.ts";
import { BundleNames, resumeBundle, safeFileName } from "./resume-bundle.ts";
import {
  applicantsWithResumes,
  BUNDLE_BATCH,
  eligibleNotApplied,
  NOT_APPLIED_BATCH,
} from "./service.ts";

/**
 * What the office hands a recruiter: the resume bundle of a job's applicants at a status (a zip
 * read back here with yauzl, a reader independent of the writer), and the eligible students who
 * have not applied (CSV).
 */

const t = useTestApp();

async function adminClient(): Promise<TestClient> {
  const a = await createAdmin(t.ctx, "placement-admin@college.test");
  return loginAs(t.app, a.email, a.password);
}

async function applyAs(studentId: number, jobId: number, status: ApplicationStatus) {
  const now = new Date().toISOString();
  return t.ctx.db
    .insertInto("applications")
    .values({ job_id: jobId, student_id: studentId, status, created_at: now, updated_at: now })
    .returning("id")
    .executeTakeFirstOrThrow();
}

/** A PDF of about `size` bytes that says `text` (a comment pads it). */
function pdfOf(text: string, size = 0): Buffer {
  const plain = pdfBytes(text);
  if (size <= plain.length) return plain;
  return Buffer.concat([
    plain.subarray(0, 9),
    Buffer.from(`% ${"x".repeat(size - plain.length - 3)}\n`),
    plain.subarray(9),
  ]);
}

/**
 * `n` approved students (plain rows: registration is tested elsewhere), each an applicant of
 * `jobId` at `status` with a resume of about `resumeSize` bytes; their resumes by roll number.
 */
async function manyApplicants(
  jobId: number,
  n: number,
  options: { status?: ApplicationStatus; resumeSize?: number; prefix?: string } = {},
) {
  const { status = "selected", resumeSize = 0, prefix = "1BN" } = options;
  const now = new Date().toISOString();
  const resumes = new Map<string, Buffer>();
  for (let start = 0; start < n; start += 200) {
    const count = Math.min(200, n - start);
    const users = await t.ctx.db
      .insertInto("users")
      .values(
        Array.from({ length: count }, (_, i) => ({
          email: `${prefix.toLowerCase()}${start + i}@college.test`,
          password_hash: "not-a-login",
          role: "student" as const,
          created_at: now,
        })),
      )
      .returning("id")
      .execute();
    const students = await t.ctx.db
      .insertInto("students")
      .values(
        users.map(({ id }, i) => ({
          user_id: id,
          full_name: `Bulk Student ${start + i}`,
          roll_number: `${prefix}${String(start + i).padStart(5, "0")}`,
          phone_e164: `+9198452${String(start + i).padStart(5, "0")}`,
          department: "CSE",
          semester: 7,
          graduation_year: 2027,
          cgpa: 8,
          active_backlogs: 0,
          skills: "",
          approved_at: now,
          sms_opted_out_at: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning(["id", "roll_number"])
      .execute();
    await t.ctx.db
      .insertInto("applications")
      .values(
        students.map((s) => ({
          job_id: jobId,
          student_id: s.id,
          status,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    // A few at a time: PostgreSQL takes the bytes as parameters.
    for (let i = 0; i < students.length; i += 20) {
      const rows = students.slice(i, i + 20).map((s) => {
        const data = pdfOf(`resume of ${s.roll_number}`, resumeSize);
        resumes.set(s.roll_number, data);
        return resumeRow(s.id, data, now);
      });
      await t.ctx.db.insertInto("resumes").values(rows).execute();
    }
  }
  return resumes;
}

interface ZipEntry {
  name: string;
  data: Buffer;
  /** 0: stored, 8: deflated. */
  method: number;
}

/** Every file of a zip, read with yauzl (which checks each file's size and CRC-32). */
async function unzip(bytes: Buffer): Promise<ZipEntry[]> {
  const zip = await fromBufferPromise(bytes, { lazyEntries: true, strictFileNames: true });
  const entries: ZipEntry[] = [];
  for await (const entry of zip.eachEntry()) {
    const data = await readAll(await zip.openReadStreamPromise(entry));
    entries.push({ name: entry.fileName, data, method: entry.compressionMethod });
  }
  return entries;
}

function csvRows(data: Buffer | string): Record<string, string>[] {
  return parse(data.toString().replace(/^\uFEFF/, ""), { columns: true });
}

function bundleCsv(entries: ZipEntry[]): Record<string, string>[] {
  const csv = entries.find((e) => e.name === "applicants.csv");
  if (!csv) throw new Error("no applicants.csv in the bundle");
  return csvRows(csv.data);
}

/** The response of a real HTTP GET, with its headers as sent and its body. */
async function httpGet(port: number, path: string, cookie: string) {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    httpRequest({ host: "127.0.0.1", port, path, headers: { cookie } }, resolve)
      .on("error", reject)
      .end();
  });
  return { response, body: await readAll(response) };
}

describe("the resume bundle", () => {
  it("holds the Selected applicants' resumes as uploaded, named by roll number and name, with their CSV", async () => {
    const { id: jobId } = await postJob(t.ctx, { company: "TCS", title: "Ninja" });
    const asha = await createStudent(t.ctx, {
      approved: true,
      full_name: "Asha Rao",
      roll_number: "1XY22CS101",
      cgpa: 9.1,
    });
    const ravi = await createStudent(t.ctx, {
      approved: true,
      full_name: "Ravi Kumar",
      roll_number: "1XY22CS102",
      cgpa: 8.4,
    });
    const meena = await createStudent(t.ctx, {
      approved: true,
      full_name: "Meena Iyer",
      roll_number: "1XY22CS103",
      department: "ECE",
    });
    // Asha and Meena upload their resumes as students do; Ravi has none.
    const uploads = new Map<number, Buffer>();
    for (const [who, text] of [
      [asha, "asha-resume"],
      [meena, "meena-resume"],
    ] as const) {
      const client = await loginAs(t.app, who.email, who.password);
      const data = pdfOf(text, 3000);
      const saved = await client.postMultipart("/student/profile", {
        phone: who.phone,
        skills: "Java, SQL",
        resume: { filename: "cv.pdf", data },
      });
      expect(saved.statusCode).toBe(303);
      uploads.set(who.id, data);
    }
    await applyAs(asha.id, jobId, "selected");
    await applyAs(ravi.id, jobId, "selected");
    await applyAs(meena.id, jobId, "shortlisted");

    const admin = await adminClient();
    // The applicants page links the bundle (with the page's filters) and the not-applied list.
    const page = await admin.get(`/admin/jobs/${jobId}/applicants?department=CSE`);
    expect(page.body).toContain(
      `href="/admin/jobs/${jobId}/applicants/resumes.zip?department=CSE"`,
    );
    expect(page.body).toContain("Resumes of Selected applicants (zip)");
    expect(page.body).toContain(`href="/admin/jobs/${jobId}/not-applied.csv"`);
    const shortlistedPage = await admin.get(`/admin/jobs/${jobId}/applicants?status=shortlisted`);
    expect(shortlistedPage.body).toContain("Resumes of Shortlisted applicants (zip)");

    // A GET like any download: no CSRF token needed (TestClient.get never sends one).
    const response = await admin.get(`/admin/jobs/${jobId}/applicants/resumes.zip`);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/zip");
    expect(response.headers["content-disposition"]).toBe(
      'attachment; filename="resumes-TCS-Ninja-selected.zip"',
    );
    expect(response.headers["cache-control"]).toBe("private, no-store");

    const entries = await unzip(response.rawPayload);
    // Selected only: Asha's resume and the CSV; Meena (Shortlisted) is not in it.
    expect(entries.map((e) => e.name).sort()).toEqual([
      "1XY22CS101 Asha Rao.pdf",
      "applicants.csv",
    ]);
    const pdf = entries.find((e) => e.name.endsWith(".pdf"))!;
    expect(sha256Hex(pdf.data)).toBe(sha256Hex(uploads.get(asha.id)!));
    expect(pdf.method).toBe(0); // stored: a PDF is compressed already
    const stored = await t.ctx.db
      .selectFrom("resumes")
      .select("sha256")
      .where("student_id", "=", asha.id)
      .executeTakeFirstOrThrow();
    expect(sha256Hex(pdf.data)).toBe(stored.sha256);

    // The CSV: the applicants CSV's columns, best CGPA first, and which file is whose.
    const rows = bundleCsv(entries);
    expect(Object.keys(rows[0]!)).toEqual([
      "Roll number",
      "Name",
      "Email",
      "Phone",
      "Department",
      "Semester",
      "Graduation year",
      "CGPA",
      "Active backlogs",
      "Skills",
      "Status",
      "Applied at",
      "Resume",
      "Resume file",
    ]);
    expect(rows.map((r) => [r["Roll number"], r.Name, r.Status, r["Resume file"]])).toEqual([
      ["1XY22CS101", "Asha Rao", "Selected", "1XY22CS101 Asha Rao.pdf"],
      ["1XY22CS102", "Ravi Kumar", "Selected", "No resume"],
    ]);
    expect(rows[0]).toMatchObject({
      Email: asha.email,
      Phone: asha.phone,
      CGPA: "9.10",
      Resume: `/admin/students/${asha.id}/resume`,
    });
    expect(rows[1]!.Resume).toBe("");

    // The page's status filter decides: the Shortlisted, and another filter with it.
    const shortlisted = await unzip(
      (await admin.get(`/admin/jobs/${jobId}/applicants/resumes.zip?status=shortlisted`))
        .rawPayload,
    );
    expect(shortlisted.map((e) => e.name).sort()).toEqual([
      "1XY22CS103 Meena Iyer.pdf",
      "applicants.csv",
    ]);
    expect(sha256Hex(shortlisted.find((e) => e.name.endsWith(".pdf"))!.data)).toBe(
      sha256Hex(uploads.get(meena.id)!),
    );
    const ece = await admin.get(
      `/admin/jobs/${jobId}/applicants/resumes.zip?status=selected&department=ECE`,
    );
    expect(ece.headers["content-disposition"]).toBe(
      'attachment; filename="resumes-TCS-Ninja-selected.zip"',
    );
    const none = await unzip(ece.rawPayload);
    expect(none.map((e) => e.name)).toEqual(["applicants.csv"]);
    expect(bundleCsv(none)).toEqual([]);
  });

  it("names each file safely and once, and neutralises formulas in its CSV", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const now = new Date().toISOString();
    const people = [
      { roll: "1XY/22:01", name: "Asha Rao" },
      { roll: "1XY|22?01", name: "ASHA RAO" },
      { roll: "1XY22CS201", name: '=HYPERLINK("x") \u202Efdp.exe' },
    ];
    const data = new Map<string, Buffer>();
    for (const p of people) {
      const s = await createStudent(t.ctx, { approved: true });
      await t.ctx.db
        .updateTable("students")
        .set({ roll_number: p.roll, full_name: p.name })
        .where("id", "=", s.id)
        .execute();
      const pdf = pdfOf(`resume of ${p.roll}`);
      data.set(p.roll, pdf);
      await t.ctx.db
        .insertInto("resumes")
        .values(resumeRow(s.id, pdf, now))
        .execute();
      await applyAs(s.id, jobId, "selected");
    }
    const admin = await adminClient();
    const entries = await unzip(
      (await admin.get(`/admin/jobs/${jobId}/applicants/resumes.zip`)).rawPayload,
    );
    // Slashes, colons and the like become "-"; a right-to-left override is dropped; a name that
    // differs only in case gets " (2)".
    expect(entries.map((e) => e.name)).toEqual([
      "1XY-22-01 Asha Rao.pdf",
      "1XY-22-01 ASHA RAO (2).pdf",
      "1XY22CS201 =HYPERLINK(-x-) fdp.exe.pdf",
      "applicants.csv",
    ]);
    const rows = bundleCsv(entries);
    const byRoll = new Map(rows.map((r) => [r["Roll number"], r]));
    expect(byRoll.get("1XY|22?01")!["Resume file"]).toBe("1XY-22-01 ASHA RAO (2).pdf");
    expect(byRoll.get("1XY22CS201")!.Name).toBe('\'=HYPERLINK("x") \u202Efdp.exe');
    for (const p of people) {
      const file = byRoll.get(p.roll)!["Resume file"];
      expect(sha256Hex(entries.find((e) => e.name === file)!.data)).toBe(
        sha256Hex(data.get(p.roll)!),
      );
    }
  });

  it("makes safe file names", () => {
    expect(safeFileName("  ..hidden name. ")).toBe("hidden name");
    expect(safeFileName('a/b\\c:d*e?f"g<h>i|j')).toBe("a-b-c-d-e-f-g-h-i-j");
    expect(safeFileName("tab\there\nnew\u200Bline")).toBe("tab here new line");
    expect(safeFileName("CON")).toBe("_CON");
    expect(safeFileName("...")).toBe("resume");
    expect([...safeFileName("अ".repeat(300))]).toHaveLength(100);
    const names = new BundleNames();
    expect(names.take("1A", "B")).toBe("1A B.pdf");
    expect(names.take("1a", "b")).toBe("1a b (2).pdf");
    expect(names.take("1A", "B")).toBe("1A B (3).pdf");
  });

  it("is for admins only", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const student = await createStudent(t.ctx, { approved: true });
    await applyAs(student.id, jobId, "selected");
    const asStudent = await loginAs(t.app, student.email, student.password);
    for (const path of [
      `/admin/jobs/${jobId}/applicants/resumes.zip`,
      `/admin/jobs/${jobId}/not-applied.csv`,
    ]) {
      const refused = await asStudent.get(path);
      expect(refused.statusCode, path).toBe(403);
      expect(refused.headers["content-type"], path).not.toBe("application/zip");
      const anonymous = await new TestClient(t.app).get(path);
      expect(anonymous.statusCode, path).toBe(303);
      expect(anonymous.headers.location, path).toMatch(/^\/login/);
    }
    const admin = await adminClient();
    expect((await admin.get(`/admin/jobs/999999/applicants/resumes.zip`)).statusCode).toBe(404);
    expect(
      (await admin.get(`/admin/jobs/${jobId}/applicants/resumes.zip?status=x`)).statusCode,
    ).toBe(400);
  });

  it("streams more applicants than one statement reads, chunked, every resume as uploaded", async () => {
    const { id: jobId } = await postJob(t.ctx, { company: "Wipro", title: "Elite" });
    const n = BUNDLE_BATCH * 2 + 20;
    const resumes = await manyApplicants(jobId, n, { resumeSize: 8 * 1024 });
    // Others of the job at another status, and of another job: not in it.
    await manyApplicants(jobId, 5, { status: "rejected", prefix: "1RJ" });
    const other = await postJob(t.ctx, { company: "Other", title: "Job" });
    await manyApplicants(other.id, 3, { prefix: "1OT" });

    const admin = await adminClient();
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const address = t.app.server.address();
    if (!address || typeof address === "string") throw new Error("not listening");
    const { response, body } = await httpGet(
      address.port,
      `/admin/jobs/${jobId}/applicants/resumes.zip`,
      admin.cookieHeader,
    );
    expect(response.statusCode).toBe(200);
    // Sent as it is written: chunked, its length not known in advance.
    expect(response.headers["transfer-encoding"]).toBe("chunked");
    expect(response.headers["content-length"]).toBeUndefined();
    expect(response.headers["content-type"]).toBe("application/zip");

    const entries = await unzip(body);
    const pdfs = entries.filter((e) => e.name.endsWith(".pdf"));
    expect(pdfs).toHaveLength(n);
    expect(new Set(pdfs.map((e) => e.name)).size).toBe(n);
    for (const pdf of pdfs) {
      const roll = pdf.name.split(" ")[0]!;
      expect(sha256Hex(pdf.data), pdf.name).toBe(sha256Hex(resumes.get(roll)!));
    }
    const rows = bundleCsv(entries);
    expect(rows).toHaveLength(n);
    expect(rows.every((r) => r.Status === "Selected" && r["Resume file"]?.endsWith(".pdf"))).toBe(
      true,
    );
  });

  it("reads the resumes a part at a time, and the next part only when the client has taken the last", async () => {
    const { id: jobId } = await postJob(t.ctx);
    const n = BUNDLE_BATCH * 2 + 20;
    const resumes = await manyApplicants(jobId, n, { resumeSize: 64 * 1024 });
    const watched = watchStatements(t.ctx);
    // A statement that reads the bytes of resumes.
    const contentReads = () => watched.seen.filter((s) => s.tree.includes('"name":"content"'));

    // 50 applicants to a statement; then their resumes, in statements of at most `maxBytes`.
    const parts: number[] = [];
    for await (const part of applicantsWithResumes(
      { ...t.ctx, db: watched.ctx.db },
      jobId,
      { status: "selected" },
      { maxBytes: 200 * 1024 },
    ))
      parts.push(part.length);
    // 64 KB each, 200 KB a statement: three resumes to a part (the rest of each batch last).
    expect(parts.reduce((a, b) => a + b, 0)).toBe(n);
    expect(Math.max(...parts)).toBe(3);
    expect(contentReads()).toHaveLength(parts.length);
    watched.seen.length = 0;

    // Nobody reads the bundle: it stops after the first resume it could not hand over.
    const bundle = resumeBundle({ ...t.ctx, db: watched.ctx.db }, jobId, { status: "selected" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(contentReads()).toHaveLength(1);
    expect(bundle.readableLength + bundle.writableLength).toBeLessThan(4 * 64 * 1024);
    // Read, it goes on to the end: three batches of applicants, and their resumes.
    const entries = await unzip(await readAll(bundle));
    expect(contentReads()).toHaveLength(3);
    expect(entries.filter((e) => e.name.endsWith(".pdf"))).toHaveLength(n);
    expect(sha256Hex(entries[n - 1]!.data)).toBe(
      sha256Hex(resumes.get(entries[n - 1]!.name.split(" ")[0]!)!),
    );
  });
});

describe("eligible students who have not applied", () => {
  it("lists the approved, eligible students with no application or a withdrawn one", async () => {
    const { id: jobId } = await postJob(t.ctx, {
      company: "Bosch",
      title: "GET",
      departments: ["CSE", "ISE"],
      graduation_years: [2027],
      min_cgpa: 7,
      max_backlogs: 0,
    });
    const student = (full_name: string, roll_number: string, more = {}) =>
      createStudent(t.ctx, {
        approved: true,
        full_name,
        roll_number,
        department: "CSE",
        graduation_year: 2027,
        cgpa: 8.2,
        active_backlogs: 0,
        ...more,
      });
    const never = await student("Never Applied", "1NA22CS001");
    const withdrew = await student("Withdrew Once", "1NA22CS002", { department: "ISE" });
    const applied = await student("Applied Already", "1NA22CS003");
    const selected = await student("Selected Already", "1NA22CS004");
    await student("Pending Approval", "1NA22CS005", { approved: false });
    await student("Low Cgpa", "1NA22CS006", { cgpa: 6.9 });
    await student("Other Department", "1NA22CS007", { department: "ECE" });
    await student("Has Backlogs", "1NA22CS008", { active_backlogs: 1 });
    await student("Other Batch", "1NA22CS009", { graduation_year: 2028 });
    const formula = await student("=cmd|' /C calc'!A0", "1NA22CS010", { cgpa: 7 });
    await applyAs(withdrew.id, jobId, "withdrawn");
    await applyAs(applied.id, jobId, "applied");
    await applyAs(selected.id, jobId, "selected");
    // An application to another job does not count.
    const other = await postJob(t.ctx, { company: "Other", title: "Job" });
    await applyAs(never.id, other.id, "applied");

    const admin = await adminClient();
    const response = await admin.get(`/admin/jobs/${jobId}/not-applied.csv`);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(response.headers["cache-control"]).toBe("private, no-store");
    expect(response.headers["content-disposition"]).toMatch(
      /^attachment; filename="not-applied-Bosch-GET-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const rows = csvRows(response.body);
    expect(Object.keys(rows[0]!)).toEqual([
      "Roll number",
      "Name",
      "Department",
      "Graduation year",
      "CGPA",
      "Active backlogs",
      "Email",
      "Phone",
    ]);
    expect(rows.map((r) => r["Roll number"])).toEqual(["1NA22CS001", "1NA22CS002", "1NA22CS010"]);
    expect(rows[1]).toEqual({
      "Roll number": "1NA22CS002",
      Name: "Withdrew Once",
      Department: "ISE",
      "Graduation year": "2027",
      CGPA: "8.20",
      "Active backlogs": "0",
      Email: withdrew.email,
      // As the applicants CSV gives it: the number in full.
      Phone: withdrew.phone,
    });
    expect(rows[2]!.Name).toBe(`'${formula.full_name}`);
  });

  it("lists every student of more than one batch once", async () => {
    const { id: jobId } = await postJob(t.ctx, { departments: ["CSE"] });
    const n = NOT_APPLIED_BATCH * 2 + 17;
    await manyApplicants(jobId, 5, { prefix: "1AP" }); // applied: not listed
    const now = new Date().toISOString();
    for (let start = 0; start < n; start += 400) {
      const count = Math.min(400, n - start);
      const users = await t.ctx.db
        .insertInto("users")
        .values(
          Array.from({ length: count }, (_, i) => ({
            email: `eligible${start + i}@college.test`,
            password_hash: "not-a-login",
            role: "student" as const,
            created_at: now,
          })),
        )
        .returning("id")
        .execute();
      await t.ctx.db
        .insertInto("students")
        .values(
          users.map(({ id }, i) => ({
            user_id: id,
            full_name: `Eligible ${start + i}`,
            roll_number: `1EL${String(start + i).padStart(5, "0")}`,
            phone_e164: `+9198453${String(start + i).padStart(5, "0")}`,
            department: "CSE",
            semester: 7,
            graduation_year: 2027,
            cgpa: 7.5,
            active_backlogs: 0,
            skills: "",
            approved_at: now,
            sms_opted_out_at: null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    }
    const admin = await adminClient();
    const rows = csvRows((await admin.get(`/admin/jobs/${jobId}/not-applied.csv`)).body);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r["Roll number"])).size).toBe(n);
    expect(rows.some((r) => r["Roll number"]?.startsWith("1AP"))).toBe(false);
    // In batches: one statement for each 500 students.
    const watched = watchStatements(t.ctx);
    const job = (await findJob(t.ctx, jobId))!;
    let listed = 0;
    for await (const _ of eligibleNotApplied({ ...t.ctx, db: watched.ctx.db }, job)) listed++;
    expect(listed).toBe(n);
    // The policies first (one statement), then the students.
    expect(watched.seen.filter((s) => s.label.startsWith("SelectQueryNode"))).toHaveLength(4);
  });
});
