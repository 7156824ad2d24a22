// @both-databases: whether a summary row is written is up to each dialect's triggers.
import { sql } from "kysely";
import { beforeEach, describe, expect, it } from "vitest";
import { applyToJob, changeStatus } from "#src/applications/service.ts";
import { updateAcademics } from "#src/students/academic-record.ts";
import { correctPhone } from "#src/students/phone-change.ts";
import { updateOwnProfile } from "#src/students/profile.ts";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { testDialect } from "#test/support/database.ts";

/**
 * Issue 22: an edit that leaves a student's share of the dashboard as it was (their phone, their
 * SMS opt-out, their skills, their CGPA) writes no summary row: on PostgreSQL each such write
 * would hold the group's row until commit, the row every move of that group's applications needs.
 * A row's physical version says whether it was written: PostgreSQL's `xmin` (the transaction that
 * wrote this version), on SQLite a temporary trigger counting the writes.
 */

const t = useTestApp();

const SUMMARY_TABLES = ["placement_summary", "company_placement_summary"] as const;

/** Each summary row's version, by table and key. */
async function versions(): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of SUMMARY_TABLES) {
    const version =
      testDialect() === "postgres"
        ? sql<string>`xmin::text`
        : sql<string>`(select count(*) from temp.summary_writes w
            where w.tbl = ${table} and w.row_id = ${sql.table(table)}.rowid)`;
    const { rows } = await sql<{ key: string; version: string }>`select
        department || '/' || graduation_year || '/' || semester as key, ${version} as version
      from ${sql.table(table)}`.execute(t.ctx.db);
    for (const r of rows) result[`${table} ${r.key}`] = String(r.version);
  }
  return result;
}

beforeEach(async () => {
  if (testDialect() !== "sqlite") return;
  await sql`create temp table if not exists summary_writes (tbl text, row_id integer)`.execute(
    t.ctx.db,
  );
  for (const table of SUMMARY_TABLES)
    await sql
      .raw(`create temp trigger if not exists ${table}_writes after update on main.${table}
        begin insert into summary_writes values ('${table}', new.rowid); end`)
      .execute(t.ctx.db);
});

describe("a student's edit that leaves their share as it was", () => {
  it("writes no placement summary or company summary row; a change of group does", async () => {
    const admin = await createAdmin(t.ctx);
    const student = await createStudent(t.ctx, {
      approved: true,
      department: "CSE",
      graduation_year: 2027,
      semester: 7,
    });
    const job = await postJob(t.ctx, { company: "Infosys" });
    const applied = await applyToJob(t.ctx, student.id, job.id);
    if (!applied.ok) throw new Error(applied.message);
    await changeStatus(t.ctx, admin, [applied.applicationId], "selected");
    const before = await versions();
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining([
        "placement_summary CSE/2027/7",
        "company_placement_summary CSE/2027/7",
      ]),
    );

    // The profile form: skills edited, SMS unticked (opt-out), the semester field sent again
    // (it sets a blank semester only, `coalesce(semester, ...)`).
    const profile = await updateOwnProfile(
      t.ctx,
      { id: 0, email: student.email },
      student.id,
      { phone: student.phone, skills: "Go, Rust", semester: 3, sms: false },
      undefined,
      "127.0.0.1",
    );
    expect(profile.ok).toBe(true);
    // An admin corrects the phone number, then the CGPA (every academic column is written).
    expect(await correctPhone(t.ctx, admin, student.id, "+919812345678")).toMatchObject({
      changed: true,
    });
    const record = {
      department: "CSE",
      semester: 7,
      graduation_year: 2027,
      cgpa: 9.1,
      active_backlogs: 0,
    };
    expect(await updateAcademics(t.ctx, admin, student.id, record)).toEqual({ changed: ["cgpa"] });
    const opted = await t.ctx.db
      .selectFrom("students")
      .select(["sms_opted_out_at", "phone_e164", "cgpa"])
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(opted.sms_opted_out_at).not.toBeNull();
    expect(await versions()).toEqual(before);

    // The same write with a share that moves does write them: the versions above can tell.
    await updateAcademics(t.ctx, admin, student.id, { ...record, semester: 8 });
    const after = await versions();
    expect(after["placement_summary CSE/2027/7"]).not.toBe(before["placement_summary CSE/2027/7"]);
    expect(after["company_placement_summary CSE/2027/7"]).not.toBe(
      before["company_placement_summary CSE/2027/7"],
    );
  });
});
