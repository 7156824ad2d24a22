import { type ExpressionBuilder, sql } from "kysely";
import type { AppContext } from "../context.ts";
import type { DB } from "../db/schema.ts";
import { DEPARTMENTS } from "../placement/departments.ts";
import { DEFAULT_TIERS, policyFor, type Tier } from "../placement/policy.ts";

/**
 * The season report (issue 24): for one graduation year, how its students were placed, per
 * department and overall, what the offers paid, offers per company, and who is not placed yet.
 *
 * - eligible: students of the year, approved, not opted out of placement (students.approved_at
 *   set, placement_opted_out_at null). The company and tier filters never change it.
 * - an offer counts when it went to an eligible student and is not withdrawn; with a company, only
 *   that company's; with a tier, only those whose CTC falls in the tier (`tierIndex`: at least its
 *   floor, below the next one's).
 * - placed: eligible students holding at least one counted offer in status `accepted`; their
 *   package is the best such offer's CTC, each student counted once.
 *
 * Two statements whatever the size: the departments' students (the eligible counted by GROUP
 * BY), and one pass over the eligible students' counted offers grouped by department and company
 * (offers per source counted, the accepted ones listed as "student:ctc"); a third, the companies
 * offered, only under a company or tier filter. With the year's policy, the years for the page
 * and one page of the unplaced list, a page runs five or six. Medians, averages and the histogram
 * are computed here from those lists (a few thousand packages at most), sorted, in whole
 * hundredths of a lakh, so they are exact and alike on both databases.
 */

export interface SeasonFilters {
  year: number;
  department?: string | undefined;
  company?: string | undefined;
  /** An index into the year's tiers. */
  tier?: number | undefined;
}

/** Packages in lakh a year, from whole hundredths: exact to two decimals; null when none. */
export interface PackageStats {
  count: number;
  highest: number | null;
  median: number | null;
  average: number | null;
}

export interface DepartmentRow {
  /** The department's code; "All" for the total. */
  department: string;
  eligible: number;
  placed: number;
  /** Campus offers (source `campus`). */
  offers: number;
  ppos: number;
  offCampus: number;
  packages: PackageStats;
}

export interface CompanyRow {
  company: string;
  campusOffers: number;
  ppos: number;
  offCampus: number;
  /** Its offers in status `accepted` (each offer, not each student). */
  accepted: number;
  /** Over its accepted offers. */
  packages: PackageStats;
}

export interface SeasonReport {
  filters: SeasonFilters;
  /** The year's tiers: its placement policy's, else DEFAULT_TIERS. */
  tiers: Tier[];
  /** Whether the office set a placement policy for the year (else the default tiers). */
  policySet: boolean;
  departments: DepartmentRow[];
  all: DepartmentRow;
  companies: CompanyRow[];
  /** Every company with an offer to a student of the year (for the company filter). */
  companiesOffered: string[];
  /** Each placed student's best package, lowest first (the histogram). */
  bestPackages: number[];
}

export interface UnplacedStudent {
  id: number;
  roll_number: string;
  full_name: string;
  department: string;
  cgpa: number;
  /** Counted offers in status `pending`. */
  pending_offers: number;
  applications_count: number;
}

/** Rows of the unplaced list on one page of the report. */
export const UNPLACED_PAGE_SIZE = 100;

/** Lakh a year as whole hundredths ("paise of a lakh"): 7.35 -> 735. */
export function toHundredths(lpa: number): number {
  return Math.round(lpa * 100);
}

/**
 * Highest, median (the mean of the two middle values for an even count) and average of packages
 * given in whole hundredths, lowest first; the median and average rounded half up to a hundredth.
 */
export function packageStats(sortedHundredths: readonly number[]): PackageStats {
  const n = sortedHundredths.length;
  if (n === 0) return { count: 0, highest: null, median: null, average: null };
  const middle =
    n % 2 === 1
      ? sortedHundredths[(n - 1) / 2]!
      : Math.round((sortedHundredths[n / 2 - 1]! + sortedHundredths[n / 2]!) / 2);
  let sum = 0;
  for (const v of sortedHundredths) sum += v;
  return {
    count: n,
    highest: sortedHundredths[n - 1]! / 100,
    median: middle / 100,
    // An exact half (x.5 hundredths) is a dyadic number, so the division gives it exactly.
    average: Math.round(sum / n) / 100,
  };
}

/** The placement rate in percent with one decimal, rounded half up; null when no one is eligible. */
export function placementRate(placed: number, eligible: number): number | null {
  return eligible === 0 ? null : Math.round((placed * 1000) / eligible) / 10;
}

/** The floor and ceiling (exclusive; null: none) of tier `index`. */
export function tierRange(
  tiers: readonly Tier[],
  index: number,
): { from: number; to: number | null } {
  return { from: tiers[index]!.fromLpa, to: tiers[index + 1]?.fromLpa ?? null };
}

/** The graduation years that have students, oldest first (from the dashboard's summary rows). */
export async function seasonYears(ctx: Pick<AppContext, "db">): Promise<number[]> {
  const rows = await ctx.db
    .selectFrom("placement_summary")
    .select("graduation_year")
    .where("students", ">", 0)
    .groupBy("graduation_year")
    .orderBy("graduation_year")
    .execute();
  return rows.map((r) => Number(r.graduation_year));
}

/**
 * The year the report opens on: the first graduation year with students from this India calendar
 * year on (the batch in its final year), else the latest year with students, else this year.
 */
export function defaultSeasonYear(years: readonly number[], now: Date): number {
  const thisYear = new Date(now.getTime() + 330 * 60_000).getUTCFullYear();
  return years.find((y) => y >= thisYear) ?? years.at(-1) ?? thisYear;
}

/** The year's tiers and whether they come from its policy. */
export async function seasonTiers(
  ctx: Pick<AppContext, "db">,
  year: number,
): Promise<{ tiers: Tier[]; policySet: boolean }> {
  const policy = await policyFor(ctx.db, year);
  return policy
    ? { tiers: policy.tiers, policySet: true }
    : { tiers: DEFAULT_TIERS, policySet: false };
}

type StudentsEb = ExpressionBuilder<DB, "students">;
type OffersEb = ExpressionBuilder<DB, "offers" | "students">;

/** Eligible students of the year (and department). */
function eligible(filters: SeasonFilters) {
  return (eb: StudentsEb) =>
    eb.and([
      eb("students.graduation_year", "=", filters.year),
      eb("students.approved_at", "is not", null),
      eb("students.placement_opted_out_at", "is", null),
      ...(filters.department ? [eb("students.department", "=", filters.department)] : []),
    ]);
}

/** The offers counted under the company and tier filters (`status` apart). */
function counted(filters: SeasonFilters, tiers: readonly Tier[]) {
  return (eb: OffersEb) => {
    const conditions = [];
    if (filters.company) conditions.push(eb("offers.company", "=", filters.company));
    if (filters.tier !== undefined) {
      const range = tierRange(tiers, filters.tier);
      conditions.push(eb("offers.ctc_lpa", ">=", range.from));
      if (range.to !== null) conditions.push(eb("offers.ctc_lpa", "<", range.to));
    }
    return eb.and(conditions);
  };
}

function emptyRow(department: string): DepartmentRow {
  return {
    department,
    eligible: 0,
    placed: 0,
    offers: 0,
    ppos: 0,
    offCampus: 0,
    packages: packageStats([]),
  };
}

const DEPARTMENT_ORDER = new Map<string, number>(DEPARTMENTS.map((d, i) => [d.code, i]));

/** The departments in the registration form's order, any other code after them by name. */
function byDepartment(a: string, b: string): number {
  const x = DEPARTMENT_ORDER.get(a) ?? DEPARTMENTS.length;
  const y = DEPARTMENT_ORDER.get(b) ?? DEPARTMENTS.length;
  return x !== y ? x - y : a < b ? -1 : a > b ? 1 : 0;
}

const ascending = (a: number, b: number) => a - b;

/** The report's tables for `filters` (the tier, if any, an index into `tiers`). */
export async function seasonReport(
  ctx: Pick<AppContext, "db">,
  filters: SeasonFilters,
  season: { tiers: Tier[]; policySet: boolean },
): Promise<SeasonReport> {
  const { tiers } = season;
  // Without a company or tier filter the companies offered are those of the counted offers.
  const narrowed = filters.company !== undefined || filters.tier !== undefined;
  const [students, groups, offered] = await Promise.all([
    // Every department with students of the year, and how many of them are eligible.
    ctx.db
      .selectFrom("students")
      .select([
        "students.department",
        sql<number>`sum(case when students.approved_at is not null and students.placement_opted_out_at is null then 1 else 0 end)`.as(
          "eligible",
        ),
      ])
      .where("students.graduation_year", "=", filters.year)
      .$if(Boolean(filters.department), (q) =>
        q.where("students.department", "=", filters.department!),
      )
      .groupBy("students.department")
      .execute(),
    // One pass over the eligible students' counted offers, grouped by department and company:
    // how many of each source, and the accepted ones as a list "student:ctc,student:ctc" (a
    // group's few hundred rows come back as one; string_agg is in SQLite since 3.44).
    ctx.db
      .selectFrom("students")
      .innerJoin("offers", "offers.student_id", "students.id")
      .select([
        "students.department",
        "offers.company",
        sql<number>`sum(case when offers.source = 'campus' then 1 else 0 end)`.as("campus"),
        sql<number>`sum(case when offers.source = 'ppo' then 1 else 0 end)`.as("ppo"),
        sql<number>`sum(case when offers.source = 'off_campus' then 1 else 0 end)`.as("off_campus"),
        sql<
          string | null
        >`string_agg(case when offers.status = 'accepted' then cast(offers.student_id as text) || ':' || cast(offers.ctc_lpa as text) end, ',')`.as(
          "accepted",
        ),
      ])
      .where(eligible(filters))
      .where("offers.status", "<>", "withdrawn")
      .where(counted(filters, tiers))
      .groupBy(["students.department", "offers.company"])
      .execute(),
    narrowed
      ? ctx.db
          .selectFrom("students")
          .innerJoin("offers", "offers.student_id", "students.id")
          .select("offers.company")
          .where(eligible(filters))
          .where("offers.status", "<>", "withdrawn")
          .groupBy("offers.company")
          .execute()
      : null,
  ]);

  const rows = new Map<string, DepartmentRow>();
  const row = (department: string) => {
    let r = rows.get(department);
    if (!r) {
      r = emptyRow(department);
      rows.set(department, r);
    }
    return r;
  };
  for (const s of students) row(s.department).eligible = Number(s.eligible);

  const companies = new Map<string, CompanyRow & { values: number[] }>();
  const company = (name: string) => {
    let c = companies.get(name);
    if (!c) {
      c = {
        company: name,
        campusOffers: 0,
        ppos: 0,
        offCampus: 0,
        accepted: 0,
        packages: packageStats([]),
        values: [],
      };
      companies.set(name, c);
    }
    return c;
  };
  // Each placed student once, with their best accepted package.
  const best = new Map<number, { department: string; value: number }>();
  for (const g of groups) {
    const r = row(g.department);
    const c = company(g.company);
    r.offers += Number(g.campus);
    c.campusOffers += Number(g.campus);
    r.ppos += Number(g.ppo);
    c.ppos += Number(g.ppo);
    r.offCampus += Number(g.off_campus);
    c.offCampus += Number(g.off_campus);
    if (!g.accepted) continue;
    for (const item of g.accepted.split(",")) {
      const colon = item.indexOf(":");
      const student = Number(item.slice(0, colon));
      const value = toHundredths(Number(item.slice(colon + 1)));
      c.accepted += 1;
      c.values.push(value);
      const held = best.get(student);
      if (!held || value > held.value) best.set(student, { department: g.department, value });
    }
  }
  const perDepartment = new Map<string, number[]>();
  const everyone: number[] = [];
  for (const { department, value } of best.values()) {
    row(department).placed += 1;
    const list = perDepartment.get(department) ?? [];
    list.push(value);
    perDepartment.set(department, list);
    everyone.push(value);
  }
  for (const [department, values] of perDepartment)
    row(department).packages = packageStats(values.sort(ascending));
  everyone.sort(ascending);

  const departments = [...rows.values()].sort((a, b) => byDepartment(a.department, b.department));
  const all = emptyRow("All");
  for (const r of departments) {
    all.eligible += r.eligible;
    all.placed += r.placed;
    all.offers += r.offers;
    all.ppos += r.ppos;
    all.offCampus += r.offCampus;
  }
  all.packages = packageStats(everyone);

  return {
    filters,
    tiers,
    policySet: season.policySet,
    departments,
    all,
    companies: [...companies.values()]
      .map(({ values, ...c }) => ({ ...c, packages: packageStats(values.sort(ascending)) }))
      .sort((a, b) => (a.company < b.company ? -1 : a.company > b.company ? 1 : 0)),
    companiesOffered: (offered ? offered.map((o) => o.company) : [...companies.keys()]).sort(
      (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    ),
    bestPackages: everyone.map((v) => v / 100),
  };
}

/**
 * Eligible students not placed under the filters, by department and roll number: with how many
 * counted offers they have pending and how many applications they made. `range`: a page by
 * offset, the rows after a given one (an export, 500 at a time), or null for all of them.
 */
export async function unplacedStudents(
  ctx: Pick<AppContext, "db">,
  filters: SeasonFilters,
  tiers: readonly Tier[],
  range:
    | { offset: number; limit: number }
    | { after: { department: string; roll_number: string } | null; limit: number }
    | null,
): Promise<UnplacedStudent[]> {
  const offersOf = (eb: StudentsEb) =>
    eb
      .selectFrom("offers")
      .whereRef("offers.student_id", "=", "students.id")
      .where(counted(filters, tiers));
  return (
    ctx.db
      .selectFrom("students")
      .select((eb) => [
        "students.id",
        "students.roll_number",
        "students.full_name",
        "students.department",
        "students.cgpa",
        "students.applications_count",
        offersOf(eb)
          .where("offers.status", "=", "pending")
          .select((e) => e.fn.countAll<number>().as("n"))
          .as("pending_offers"),
      ])
      .where(eligible(filters))
      .where((eb) =>
        eb.not(
          eb.exists(offersOf(eb).where("offers.status", "=", "accepted").select(sql`1`.as("one"))),
        ),
      )
      // Roll numbers are unique: the order of students_season_idx, read without a sort.
      .orderBy("students.department")
      .orderBy("students.roll_number")
      .$if(range !== null, (q) => q.limit(range!.limit))
      .$if(range !== null && "offset" in range, (q) =>
        q.offset((range as { offset: number }).offset),
      )
      // After a row: the next ones in the index's order, however far into the list.
      .$if(range !== null && "after" in range && range.after !== null, (q) => {
        const after = (range as { after: { department: string; roll_number: string } }).after;
        return q.where((eb) =>
          eb(
            eb.refTuple("students.department", "students.roll_number"),
            ">",
            eb.tuple(after.department, after.roll_number),
          ),
        );
      })
      .execute()
      .then((rows) =>
        rows.map((r) => ({
          ...r,
          cgpa: Number(r.cgpa),
          pending_offers: Number(r.pending_offers ?? 0),
          applications_count: Number(r.applications_count),
        })),
      )
  );
}
