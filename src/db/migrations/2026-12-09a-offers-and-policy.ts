import { type ColumnDataType, type Kysely, PostgresAdapter, sql } from "kysely";

// Frozen in time: never import app code here, and never edit this file after it has shipped.
// Write a new migration instead.

/**
 * Issue 24: offers, the college's placement policy, and what the eligibility rule reads of them.
 * - `offers`: an offer a student holds: from a campus selection (`application_id`, `job_id`), or
 *   a pre-placement (`ppo`) or off-campus offer the office records; its package in lakh a year
 *   (fixed + variable = CTC), role, location, joining date, the time by which the student answers,
 *   and its state: pending, accepted, declined (before or after accepting: `accepted_at` says),
 *   lapsed (not answered in time), withdrawn (by the company, through the office) or released
 *   (given up for a better one the policy let the student accept).
 * - `offer_letters`: an offer's letter (a PDF), stored like resumes (decision 016).
 * - `placement_policies`: one row per graduation year: how many offers a student may hold
 *   accepted, the tiers by package (JSON), what a student at that limit may still apply to,
 *   whether declining an accepted offer ends campus placement, whether PPO holders take part.
 * - `students.accepted_offers`, `best_offer_lpa`, `accepted_ppos`, `reneged_at`: what the
 *   eligibility rule reads of a student's offers, kept with every offer write;
 *   `placement_opted_out_at`: the student does not take part in placement (higher studies...).
 * - `jobs.package_lpa`: the top of the job's package text in lakh a year (null: no figure), the
 *   number its tier is read from; filled here for the jobs that exist.
 */

// The package parser as it was when this migration shipped (jobs/package.ts).
function packageLakhs(text: string | null | undefined): number | null {
  if (!text) return null;
  const figures = [...text.matchAll(/\d[\d,]*(?:\.\d+)?/g)]
    .map((m) => Number(m[0].replace(/,/g, "")))
    .filter((n) => Number.isFinite(n) && n > 0);
  if (figures.length === 0) return null;
  const top = Math.max(...figures);
  const words = text.toLowerCase();
  let lakhs: number;
  if (/\b(crore|cr)\b/.test(words)) lakhs = top * 100;
  else if (/lpa|lakh|\blac|\bl\b/.test(words)) lakhs = top;
  else if (/month|\bpm\b|\/\s*m\b|p\.m\./.test(words)) lakhs = (top * 12) / 100_000;
  else if (top >= 1000) lakhs = top / 100_000;
  else if (top <= 200) lakhs = top;
  else return null;
  return Math.round(lakhs * 100) / 100;
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against whatever the schema was then
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const timestamp: ColumnDataType = pg ? "timestamptz" : "text";
  const real: ColumnDataType = pg ? "double precision" : "real";
  const bytes: ColumnDataType = pg ? "bytea" : "blob";
  // biome-ignore lint/suspicious/noExplicitAny: the column builder of either dialect
  const id = (c: any) =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable("offers")
    .addColumn("id", "integer", id)
    .addColumn("student_id", "integer", (c) =>
      c.notNull().references("students.id").onDelete("cascade"),
    )
    .addColumn("source", "text", (c) =>
      c.notNull().check(sql`source in ('campus', 'ppo', 'off_campus')`),
    )
    .addColumn("job_id", "integer", (c) => c.references("jobs.id").onDelete("set null"))
    .addColumn("application_id", "integer", (c) =>
      c.unique().references("applications.id").onDelete("set null"),
    )
    .addColumn("company", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("location", "text", (c) => c.notNull())
    .addColumn("fixed_lpa", real, (c) => c.notNull().check(sql`fixed_lpa >= 0`))
    .addColumn("variable_lpa", real, (c) => c.notNull().check(sql`variable_lpa >= 0`))
    .addColumn("ctc_lpa", real, (c) => c.notNull().check(sql`ctc_lpa > 0`))
    .addColumn("joining_date", "text")
    .addColumn("answer_by", timestamp, (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c
        .notNull()
        .check(
          sql`status in ('pending', 'accepted', 'declined', 'lapsed', 'withdrawn', 'released')`,
        ),
    )
    .addColumn("accepted_at", timestamp)
    .addColumn("answered_at", timestamp)
    .addColumn("withdrawn_reason", "text")
    .addColumn("created_by", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("created_at", timestamp, (c) => c.notNull())
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("offers_student_idx").on("offers").column("student_id").execute();
  await db.schema.createIndex("offers_job_idx").on("offers").column("job_id").execute();
  // The lapse sweep: pending offers by answer time.
  await db.schema
    .createIndex("offers_pending_idx")
    .on("offers")
    .columns(["status", "answer_by"])
    .execute();

  await db.schema
    .createTable("offer_letters")
    .addColumn("offer_id", "integer", (c) =>
      c.primaryKey().references("offers.id").onDelete("cascade"),
    )
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("uploaded_at", timestamp, (c) => c.notNull())
    // Last, as in `resumes`: the other columns stay off the blob's overflow pages.
    .addColumn("content", bytes, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("placement_policies")
    .addColumn("graduation_year", "integer", (c) => c.primaryKey())
    .addColumn("max_accepted", "integer", (c) =>
      c.notNull().check(sql`max_accepted >= 1 and max_accepted <= 10`),
    )
    .addColumn("tiers", "text", (c) => c.notNull())
    .addColumn("placed_may_apply", "text", (c) =>
      c.notNull().check(sql`placed_may_apply in ('none', 'higher_tier', 'multiple')`),
    )
    .addColumn("package_multiple", real, (c) => c.check(sql`package_multiple >= 1`))
    .addColumn("block_on_decline", "integer", (c) =>
      c.notNull().check(sql`block_on_decline in (0, 1)`),
    )
    .addColumn("ppo_in_campus", "integer", (c) => c.notNull().check(sql`ppo_in_campus in (0, 1)`))
    .addColumn("updated_by", "integer", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("updated_at", timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .alterTable("students")
    .addColumn("accepted_offers", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("students").addColumn("best_offer_lpa", real).execute();
  await db.schema
    .alterTable("students")
    .addColumn("accepted_ppos", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("students").addColumn("reneged_at", timestamp).execute();
  await db.schema.alterTable("students").addColumn("placement_opted_out_at", timestamp).execute();

  await db.schema.alterTable("jobs").addColumn("package_lpa", real).execute();
  const jobs = await db.selectFrom("jobs").select(["id", "package_range"]).execute();
  for (const job of jobs as { id: number; package_range: string }[]) {
    const lakhs = packageLakhs(job.package_range);
    if (lakhs !== null)
      await db.updateTable("jobs").set({ package_lpa: lakhs }).where("id", "=", job.id).execute();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("jobs").dropColumn("package_lpa").execute();
  for (const column of [
    "placement_opted_out_at",
    "reneged_at",
    "accepted_ppos",
    "best_offer_lpa",
    "accepted_offers",
  ])
    await db.schema.alterTable("students").dropColumn(column).execute();
  await db.schema.dropTable("placement_policies").execute();
  await db.schema.dropTable("offer_letters").execute();
  await db.schema.dropTable("offers").execute();
}
