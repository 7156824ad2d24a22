// @both-databases: resumes are BLOB on SQLite and bytea on PostgreSQL.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "#src/app.ts";
import { buildContext, openContext } from "#src/app-context.ts";
import { loadConfig } from "#src/config.ts";
import type { AppContext } from "#src/context.ts";
import { type Database, openDatabase } from "#src/db/database.ts";
import {
  createAdmin,
  createStudent,
  createTestApp,
  TEST_SESSION_SECRET,
  type TestApp,
  testLogger,
} from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { storedResumes } from "#test/support/resumes.ts";
import { importFileResumes } from "./resume-import.ts";

/**
 * Resumes live in the database: a second web process (here: a second app, its own connection
 * pool, its own DATA_DIR, as on another machine) reads what the first stored.
 */

let t: TestApp;
const cleanups: (() => Promise<void> | void)[] = [];
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await t.close();
});

/** Another instance of the portal on the same database with a DATA_DIR of its own. */
async function secondInstance(): Promise<{
  app: FastifyInstance;
  ctx: AppContext;
  dataDir: string;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "portal-data-b-"));
  const config = loadConfig(
    {
      NODE_ENV: "test",
      DATABASE_URL: t.database.url,
      DATA_DIR: dataDir,
      LOG_DIR: join(dataDir, "logs"),
    },
    {},
  );
  const database: Database = openDatabase(config.DATABASE_URL, { poolSize: 2 });
  const ctx = buildContext(config, database, { log: testLogger() });
  const app = await buildApp(ctx, { sessionSecret: TEST_SESSION_SECRET });
  await app.ready();
  cleanups.push(async () => {
    await app.close();
    await database.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, ctx, dataDir };
}

let n = 0;
function registration() {
  n += 1;
  return {
    full_name: "Meera Iyer",
    roll_number: `1XY22EC${String(100 + n)}`,
    email: `meera${n}@college.test`,
    phone: `98450${String(10000 + n)}`,
    department: "ECE",
    semester: "7",
    graduation_year: "2027",
    cgpa: "8.10",
    active_backlogs: "0",
    skills: "VLSI",
    password: "a strong password",
    password_confirm: "a strong password",
  };
}

describe("resumes shared by every web process", () => {
  it("a resume uploaded through one instance is downloaded through another with a different DATA_DIR", async () => {
    const b = await secondInstance();
    const form = registration();
    const v1 = pdfBytes("registered on A");
    const registered = await new TestClient(t.app).postMultipart("/register", {
      ...form,
      resume: { filename: "cv.pdf", data: v1 },
    });
    expect(registered.statusCode).toBe(303);
    // Nothing was written under either machine's DATA_DIR.
    expect(existsSync(join(t.dataDir, "uploads"))).toBe(false);

    const admin = await createAdmin(t.ctx);
    const staffB = await loginAs(b.app, admin.email, admin.password);
    const student = await t.ctx.db
      .selectFrom("students")
      .select("id")
      .where("roll_number", "=", form.roll_number)
      .executeTakeFirstOrThrow();
    expect((await staffB.get(`/admin/students/${student.id}`)).body).toContain("Open resume (PDF)");
    const onB = await staffB.get(`/admin/students/${student.id}/resume`);
    expect(onB.statusCode).toBe(200);
    expect(onB.headers["content-type"]).toBe("application/pdf");
    expect(onB.headers["cache-control"]).toBe("private, no-store");
    expect(onB.rawPayload.equals(v1)).toBe(true);
    expect(onB.headers.etag).toBe(`"${createHash("sha256").update(v1).digest("hex")}"`);

    // Approved on B; the student replaces the resume on B and reads it back on A.
    expect((await staffB.post(`/admin/students/${student.id}/approve`)).statusCode).toBe(303);
    const studentB = await loginAs(b.app, form.email, form.password);
    const v2 = pdfBytes("replaced on B");
    const saved = await studentB.postMultipart("/student/profile", {
      phone: form.phone,
      skills: "VLSI, Verilog",
      resume: { filename: "cv2.pdf", data: v2 },
    });
    expect(saved.statusCode).toBe(303);
    const studentA = await loginAs(t.app, form.email, form.password);
    expect((await studentA.get("/student")).body).toContain("View your resume");
    const onA = await studentA.get("/student/resume");
    expect(onA.statusCode).toBe(200);
    expect(onA.rawPayload.equals(v2)).toBe(true);
    expect(await storedResumes(t.ctx)).toHaveLength(1);
    expect(existsSync(join(b.dataDir, "uploads"))).toBe(false);
  });

  it("a student without a resume gets a 404, and no link to one", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    expect((await client.get("/student")).body).not.toContain("View your resume");
    expect((await client.get("/student/resume")).statusCode).toBe(404);
  });

  it("a rejected registration takes its resume with it, in the same transaction", async () => {
    const b = await secondInstance();
    const form = registration();
    await new TestClient(t.app).postMultipart("/register", {
      ...form,
      resume: { filename: "cv.pdf", data: pdfBytes("to be rejected") },
    });
    expect(await storedResumes(t.ctx)).toHaveLength(1);
    const admin = await createAdmin(t.ctx);
    const staffB = await loginAs(b.app, admin.email, admin.password);
    const { id } = await t.ctx.db.selectFrom("students").select("id").executeTakeFirstOrThrow();
    const rejected = await staffB.post(`/admin/students/${id}/reject`, {
      reason: "Not on the rolls",
      confirm: "yes",
    });
    expect(rejected.statusCode).toBe(303);
    expect(await storedResumes(t.ctx)).toEqual([]);
  });
});

describe("the start-up import of resumes kept as files", () => {
  /** A student as an older version left it: a file under DATA_DIR/uploads named by resume_path. */
  async function legacyResume(ctx: AppContext, dataDir: string, data: Buffer | null) {
    const student = await createStudent(ctx, { approved: true });
    const path = `uploads/${student.roll_number.toLowerCase()}.pdf`;
    mkdirSync(join(dataDir, "uploads"), { recursive: true });
    if (data) writeFileSync(join(dataDir, path), data);
    await ctx.db
      .updateTable("students")
      .set({ resume_path: path, resume_bytes: data?.length ?? null })
      .where("id", "=", student.id)
      .execute();
    return { ...student, path };
  }

  it("reads each file into the table once, clears its path and removes the file", async () => {
    const data = pdfBytes("an old file resume");
    const old = await legacyResume(t.ctx, t.dataDir, data);
    // A student who replaced the resume since keeps the newer one.
    const newer = await legacyResume(t.ctx, t.dataDir, pdfBytes("older file"));
    const { putResume } = await import("./resume-store.ts");
    await putResume(t.ctx.db, newer.id, pdfBytes("newer upload"), new Date().toISOString());

    expect(await importFileResumes(t.ctx)).toEqual({ imported: 2, missing: 0, left: 0 });
    const rows = await storedResumes(t.ctx);
    expect(rows.map((r) => [r.student_id, r.size])).toEqual([
      [old.id, data.length],
      [newer.id, pdfBytes("newer upload").length],
    ]);
    expect(rows[0]!.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    const paths = await t.ctx.db
      .selectFrom("students")
      .select(["resume_path", "resume_bytes"])
      .execute();
    expect(paths.every((p) => p.resume_path === null && p.resume_bytes === null)).toBe(true);
    expect(existsSync(join(t.dataDir, old.path))).toBe(false);

    // Downloaded like any other.
    const client = await loginAs(t.app, old.email, old.password);
    expect((await client.get("/student/resume")).rawPayload.equals(data)).toBe(true);
    // Again: nothing left to do.
    expect(await importFileResumes(t.ctx)).toEqual({ imported: 0, missing: 0, left: 0 });
  });

  it("runs when the portal opens its database (serve, worker): a second machine then reads the resume", async () => {
    const data = pdfBytes("imported at start-up");
    const old = await legacyResume(t.ctx, t.dataDir, data);
    const { ctx, database } = await openContext(t.ctx.config, { log: testLogger() });
    await database.destroy();
    expect(ctx.config.DATA_DIR).toBe(t.dataDir);
    const b = await secondInstance();
    const client = await loginAs(b.app, old.email, old.password);
    expect((await client.get("/student/resume")).rawPayload.equals(data)).toBe(true);
  });

  it("logs a missing file and clears its path; a machine with no uploads folder leaves the paths alone", async () => {
    const gone = await legacyResume(t.ctx, t.dataDir, null);
    const kept = await legacyResume(t.ctx, t.dataDir, pdfBytes("still here"));

    // Another machine, whose DATA_DIR never held uploads: it must not clear what it cannot see.
    const elsewhere = mkdtempSync(join(tmpdir(), "portal-data-c-"));
    cleanups.push(() => rmSync(elsewhere, { recursive: true, force: true }));
    const warnings: string[] = [];
    const log = testLogger();
    const watching = Object.assign(Object.create(log), {
      warn: (obj: unknown, msg?: string) => warnings.push(`${msg ?? obj}`),
    });
    const other = { ...t.ctx, log: watching, config: { ...t.ctx.config, DATA_DIR: elsewhere } };
    expect(await importFileResumes(other)).toEqual({ imported: 0, missing: 0, left: 2 });
    expect(warnings.join("\n")).toContain("left for the machine that has them");

    expect(await importFileResumes({ ...t.ctx, log: watching })).toEqual({
      imported: 1,
      missing: 1,
      left: 0,
    });
    expect(warnings.join("\n")).toContain("resume file missing");
    expect((await storedResumes(t.ctx)).map((r) => r.student_id)).toEqual([kept.id]);
    const row = await t.ctx.db
      .selectFrom("students")
      .select("resume_path")
      .where("id", "=", gone.id)
      .executeTakeFirstOrThrow();
    expect(row.resume_path).toBeNull();
  });
});
