// @both-databases: GROUP BY, medians and filters on both databases
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import type { DB, OfferSource, OfferStatus } from "../db/schema.ts";
import { DEFAULT_TIERS, type Tier, tierIndex } from "../placement/policy.ts";

/**
 * The season report over HTTP. The property test builds random seasons (students of two years in
 * two or three departments, approved or not, opted out or not, with offers of every source and
 * status at packages on and around the tier floors, and a policy with its tiers or none), and
 * recounts every cell of every CSV table from the raw rows in plain TypeScript, in whole
 * hundredths with integer arithmetic, with no filter and with each filter.
 */

const t = useTestApp();

const YEAR = 2027;
const OTHER_YEAR = 2028;
const COMPANIES = ["Bosch", "Infosys", "TCS", "Zeta Labs"];
const SOURCES: OfferSource[] = ["campus", "ppo", "off_campus"];
const STATUSES: OfferStatus[] = [
  "pending",
  "accepted",
  "declined",
  "lapsed",
  "withdrawn",
  "released",
];

interface GenOffer {
  source: OfferSource;
  status: OfferStatus;
  company: string;
  /** CTC in hundredths of a lakh. */
  ctc: number;
}

interface GenStudent {
  year: number;
  department: string;
  approved: boolean;
  optedOut: boolean;
  cgpa: number;
  applications: number;
  offers: GenOffer[];
}

interface Season {
  /** null: no policy for the year (the default tiers). */
  tiers: Tier[] | null;
  students: GenStudent[];
  /** Picks for the filters: a company and a department for the combined filter. */
  companyPick: number;
  departmentPick: number;
}

const tiersArb: fc.Arbitrary<Tier[] | null> = fc.constantFrom(null, DEFAULT_TIERS, [
  { name: "Open", fromLpa: 0 },
  { name: "Core", fromLpa: 7.5 },
  { name: "Premium", fromLpa: 15 },
  { name: "Marquee", fromLpa: 22.5 },
]);

// On the floors of both tier sets, a hundredth under them, and anywhere from 1 to 30 LPA.
const ctcArb = fc.oneof(
  fc.constantFrom(600, 599, 1200, 1199, 750, 749, 1500, 2250, 300, 1000),
  fc.integer({ min: 100, max: 3000 }),
);

const offerArb: fc.Arbitrary<GenOffer> = fc.record({
  source: fc.constantFrom(...SOURCES),
  status: fc.oneof(
    { arbitrary: fc.constant<OfferStatus>("accepted"), weight: 3 },
    { arbitrary: fc.constantFrom(...STATUSES), weight: 4 },
  ),
  company: fc.constantFrom(...COMPANIES),
  ctc: ctcArb,
});

const seasonArb: fc.Arbitrary<Season> = fc
  .record({
    tiers: tiersArb,
    departments: fc.constantFrom(["CSE", "ECE"], ["CSE", "ECE", "ME"]),
    // A department whose students are all unapproved or opted out: a row with no one eligible.
    ineligible: fc.option(fc.constantFrom("ECE", "ME"), { freq: 2 }),
    students: fc.array(
      fc.record({
        year: fc.oneof(
          { arbitrary: fc.constant(YEAR), weight: 4 },
          { arbitrary: fc.constant(OTHER_YEAR), weight: 1 },
        ),
        department: fc.nat(2),
        approved: fc.oneof(
          { arbitrary: fc.constant(true), weight: 5 },
          { arbitrary: fc.constant(false), weight: 1 },
        ),
        optedOut: fc.oneof(
          { arbitrary: fc.constant(false), weight: 6 },
          { arbitrary: fc.constant(true), weight: 1 },
        ),
        cgpa: fc.integer({ min: 500, max: 1000 }).map((n) => n / 100),
        applications: fc.nat(3),
        offers: fc.array(offerArb, { maxLength: 3 }),
      }),
      { minLength: 6, maxLength: 28 },
    ),
    companyPick: fc.nat(COMPANIES.length - 1),
    departmentPick: fc.nat(2),
  })
  .map((s) => ({
    tiers: s.tiers,
    companyPick: s.companyPick,
    departmentPick: s.departmentPick,
    students: s.students.map((st) => {
      const department = s.departments[st.department % s.departments.length]!;
      const out = department === s.ineligible;
      // A student holds one live (pending or accepted) PPO or off-campus offer per company
      // (migration 2026-12-10b): later ones of the same kind are left out.
      const live = new Set<string>();
      const offers = st.offers.filter((o) => {
        if (o.source === "campus" || !["pending", "accepted"].includes(o.status)) return true;
        const key = `${o.source}:${o.company}`;
        if (live.has(key)) return false;
        live.add(key);
        return true;
      });
      return {
        ...st,
        department,
        offers,
        // Out of it either way: not approved, or opted out.
        approved: out ? st.approved && st.optedOut : st.approved,
      };
    }),
  }));

let jobIds: number[] = [];

async function ensureJobs(db: Kysely<DB>) {
  if (jobIds.length > 0) return;
  const now = new Date().toISOString();
  const rows = await db
    .insertInto("jobs")
    .values(
      [1, 2, 3].map((i) => ({
        company: `Company ${i}`,
        title: "Engineer",
        type: "placement" as const,
        description: "",
        location: "Pune",
        package_range: "6 LPA",
        package_lpa: 6,
        official_link: null,
        min_cgpa: null,
        max_backlogs: null,
        apply_by: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        status: "open" as const,
        submission_id: null,
        posted_by: null,
        created_at: now,
        updated_at: now,
      })),
    )
    .returning("id")
    .execute();
  jobIds = rows.map((r) => r.id);
}

async function clearSeason(db: Kysely<DB>) {
  await db.deleteFrom("offers").execute();
  await db.deleteFrom("application_events").execute();
  await db.deleteFrom("applications").execute();
  await db.deleteFrom("placement_policies").execute();
  await db.deleteFrom("students").execute();
  await db.deleteFrom("users").where("role", "=", "student").execute();
}

interface Inserted extends GenStudent {
  id: number;
  roll: string;
  name: string;
}

/** The season's rows, written straight into the tables (as the offers flow would leave them). */
async function insertSeason(db: Kysely<DB>, season: Season): Promise<Inserted[]> {
  await ensureJobs(db);
  const now = new Date().toISOString();
  const inserted: Inserted[] = [];
  if (season.students.length > 0) {
    const users = await db
      .insertInto("users")
      .values(
        season.students.map((_, i) => ({
          email: `season${i}@college.test`,
          password_hash: "x",
          role: "student" as const,
          created_at: now,
        })),
      )
      .returning("id")
      .execute();
    const students = await db
      .insertInto("students")
      .values(
        season.students.map((s, i) => ({
          user_id: users[i]!.id,
          full_name: `Student ${i}`,
          roll_number: `R${String(i).padStart(3, "0")}`,
          phone_e164: `+9198765${String(43000 + i).padStart(5, "0")}`,
          department: s.department,
          semester: 7,
          graduation_year: s.year,
          cgpa: s.cgpa,
          active_backlogs: 0,
          skills: "",
          approved_at: s.approved ? now : null,
          approved_by: null,
          sms_opted_out_at: null,
          placement_opted_out_at: s.optedOut ? now : null,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning("id")
      .execute();
    for (const [i, s] of season.students.entries())
      inserted.push({
        ...s,
        id: students[i]!.id,
        roll: `R${String(i).padStart(3, "0")}`,
        name: `Student ${i}`,
      });
  }
  const applications = inserted.flatMap((s) =>
    jobIds.slice(0, s.applications).map((job_id) => ({
      job_id,
      student_id: s.id,
      status: "applied" as const,
      created_at: now,
      updated_at: now,
    })),
  );
  if (applications.length > 0) await db.insertInto("applications").values(applications).execute();
  const offers = inserted.flatMap((s) =>
    s.offers.map((o) => ({
      student_id: s.id,
      source: o.source,
      job_id: null,
      application_id: null,
      company: o.company,
      role: "Engineer",
      location: "Pune",
      fixed_lpa: o.ctc / 100,
      variable_lpa: 0,
      ctc_lpa: o.ctc / 100,
      joining_date: null,
      answer_by: now,
      status: o.status,
      accepted_at: o.status === "accepted" ? now : null,
      answered_at: null,
      withdrawn_reason: null,
      created_by: null,
      created_at: now,
      updated_at: now,
    })),
  );
  if (offers.length > 0) await db.insertInto("offers").values(offers).execute();
  if (season.tiers)
    await db
      .insertInto("placement_policies")
      .values({
        graduation_year: YEAR,
        max_accepted: 2,
        tiers: JSON.stringify(season.tiers),
        placed_may_apply: "none",
        package_multiple: null,
        block_on_decline: 0,
        ppo_in_campus: 1,
        updated_by: null,
        updated_at: now,
      })
      .execute();
  return inserted;
}

// The naive recount: every number from the raw rows, in integers.

/** Hundredths as the CSV writes a package: 735 -> "7.35". */
const lakhs = (h: number) => `${Math.floor(h / 100)}.${String(h % 100).padStart(2, "0")}`;
/** a / b rounded half up, for whole a >= 0 and b > 0. */
const roundDiv = (a: number, b: number) => Math.floor((2 * a + b) / (2 * b));

function naiveStats(values: number[]): string[] {
  if (values.length === 0) return ["", "", ""];
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const twiceMedian = n % 2 === 1 ? 2 * v[(n - 1) / 2]! : v[n / 2 - 1]! + v[n / 2]!;
  const sum = v.reduce((a, b) => a + b, 0);
  return [lakhs(v[n - 1]!), lakhs(roundDiv(twiceMedian, 2)), lakhs(roundDiv(sum, n))];
}

function naiveRate(placed: number, eligible: number): string {
  if (eligible === 0) return "";
  const tenths = roundDiv(placed * 1000, eligible);
  return `${Math.floor(tenths / 10)}.${tenths % 10}`;
}

interface Filters {
  year: number;
  department?: string;
  company?: string;
  tier?: number;
}

function recount(students: Inserted[], tiers: Tier[], f: Filters) {
  const ofYear = students.filter(
    (s) => s.year === f.year && (!f.department || s.department === f.department),
  );
  const isEligible = (s: Inserted) => s.approved && !s.optedOut;
  const counts = (o: GenOffer) =>
    o.status !== "withdrawn" &&
    (!f.company || o.company === f.company) &&
    (f.tier === undefined || tierIndex(tiers, o.ctc / 100) === f.tier);
  const best = (s: Inserted) => {
    const accepted = s.offers.filter((o) => counts(o) && o.status === "accepted").map((o) => o.ctc);
    return accepted.length === 0 ? null : Math.max(...accepted);
  };
  const departmentRow = (label: string, group: Inserted[]) => {
    const eligible = group.filter(isEligible);
    const bests = eligible.map(best).filter((b): b is number => b !== null);
    const offers = eligible.flatMap((s) => s.offers.filter(counts));
    return [
      label,
      String(eligible.length),
      String(bests.length),
      naiveRate(bests.length, eligible.length),
      String(offers.filter((o) => o.source === "campus").length),
      ...naiveStats(bests),
      String(offers.filter((o) => o.source === "ppo").length),
    ];
  };
  const departments = [...new Set(ofYear.map((s) => s.department))].sort().map((d) =>
    departmentRow(
      d,
      ofYear.filter((s) => s.department === d),
    ),
  );
  const eligibleOffers = ofYear.filter(isEligible).flatMap((s) => s.offers.filter(counts));
  const companies = [...new Set(eligibleOffers.map((o) => o.company))].sort().map((c) => {
    const mine = eligibleOffers.filter((o) => o.company === c);
    const accepted = mine.filter((o) => o.status === "accepted").map((o) => o.ctc);
    return [
      c,
      String(mine.filter((o) => o.source === "campus").length),
      String(mine.filter((o) => o.source === "ppo").length),
      String(mine.filter((o) => o.source === "off_campus").length),
      String(accepted.length),
      ...naiveStats(accepted),
    ];
  });
  const unplaced = ofYear
    .filter((s) => isEligible(s) && best(s) === null)
    .map((s) => [
      s.roll,
      s.name,
      s.department,
      s.cgpa.toFixed(2),
      String(s.offers.filter((o) => counts(o) && o.status === "pending").length),
      String(s.applications),
    ])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  return { departments, all: departmentRow("All", ofYear), companies, unplaced };
}

function query(f: Filters, table?: string): string {
  const params = new URLSearchParams({ year: String(f.year) });
  if (f.department) params.set("department", f.department);
  if (f.company) params.set("company", f.company);
  if (f.tier !== undefined) params.set("tier", String(f.tier));
  if (table) params.set("table", table);
  return params.toString();
}

async function csv(client: TestClient, url: string): Promise<string[][]> {
  const response = await client.get(url);
  expect(response.statusCode, url).toBe(200);
  expect(response.headers["content-type"]).toMatch(/^text\/csv/);
  return parse(response.body) as string[][];
}

const DEPARTMENT_HEADER =
  "department,eligible,placed,placement_rate,offers,highest_lpa,median_lpa,average_lpa,ppo";

async function adminClient() {
  const admin = await createAdmin(t.ctx);
  return loginAs(t.app, admin.email, admin.password);
}

describe("the season report's numbers", () => {
  it("equal a naive recount of the raw rows, with and without each filter, over random seasons", async () => {
    const db = t.ctx.db;
    const client = await adminClient();
    const reached = new Map<string, number>();
    const count = (what: string, yes: boolean) => {
      if (yes) reached.set(what, (reached.get(what) ?? 0) + 1);
    };
    jobIds = [];

    await fc.assert(
      fc.asyncProperty(seasonArb, async (season) => {
        await clearSeason(db);
        const students = await insertSeason(db, season);
        const tiers = season.tiers ?? DEFAULT_TIERS;
        const departments = [...new Set(students.map((s) => s.department))].sort();
        const company = COMPANIES[season.companyPick]!;
        const department = departments[season.departmentPick % Math.max(1, departments.length)];
        const tier = season.departmentPick % tiers.length;
        const filterSets: Filters[] = [
          { year: YEAR },
          { year: OTHER_YEAR },
          ...departments.map((d) => ({ year: YEAR, department: d })),
          { year: YEAR, company },
          ...tiers.map((_, i) => ({ year: YEAR, tier: i })),
          {
            year: YEAR,
            company,
            tier,
            ...(department ? { department } : {}),
          },
        ];
        for (const f of filterSets) {
          const expected = recount(students, tiers, f);
          const [header, ...rows] = await csv(client, `/admin/reports/season.csv?${query(f)}`);
          expect(header!.join(",")).toBe(DEPARTMENT_HEADER);
          const all = rows.pop();
          expect(all, JSON.stringify(f)).toEqual(expected.all);
          expect(
            rows.sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
            JSON.stringify(f),
          ).toEqual(expected.departments);
          const [, ...companies] = await csv(
            client,
            `/admin/reports/season.csv?${query(f, "companies")}`,
          );
          expect(companies, JSON.stringify(f)).toEqual(expected.companies);
          const [, ...unplaced] = await csv(
            client,
            `/admin/reports/season.csv?${query(f, "unplaced")}`,
          );
          expect(
            unplaced.sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
            JSON.stringify(f),
          ).toEqual(expected.unplaced);

          // What this season and filter reached.
          const placedCounts = [...expected.departments, expected.all].map((r) => Number(r[2]));
          count(
            "a department with no one eligible",
            expected.departments.some((r) => r[1] === "0"),
          );
          count(
            "an even count of placed students (>= 2)",
            placedCounts.some((n) => n >= 2 && n % 2 === 0),
          );
          count(
            "an odd count of placed students (>= 3)",
            placedCounts.some((n) => n >= 3 && n % 2 === 1),
          );
          count(
            "a company's even count of accepted offers",
            expected.companies.some((r) => Number(r[4]) >= 2 && Number(r[4]) % 2 === 0),
          );
          count(
            "an unplaced student with a pending offer",
            expected.unplaced.some((r) => r[4] !== "0"),
          );
          if (f.company && !f.tier && !f.department)
            count("a company filter with someone placed", Number(expected.all[2]) > 0);
          if (f.tier !== undefined && !f.company)
            count(
              `a tier filter with someone placed (policy: ${season.tiers !== null})`,
              Number(expected.all[2]) > 0,
            );
          if (f.company && f.tier !== undefined && f.department)
            count("all three filters at once", true);
          if (f.year === OTHER_YEAR)
            count(
              "the other year with students",
              students.some((s) => s.year === OTHER_YEAR),
            );
        }
        const ofYear = students.filter((s) => s.year === YEAR);
        count(
          "a student with several accepted offers (best one counts)",
          ofYear.some(
            (s) =>
              s.approved &&
              !s.optedOut &&
              s.offers.filter((o) => o.status === "accepted").length >= 2,
          ),
        );
        count(
          "an opted-out student with an accepted offer (not counted)",
          ofYear.some((s) => s.optedOut && s.offers.some((o) => o.status === "accepted")),
        );
        count(
          "an unapproved student with an offer (not counted)",
          ofYear.some((s) => !s.approved && s.offers.length > 0),
        );
        count(
          "a withdrawn offer (not counted)",
          ofYear.some((s) => s.offers.some((o) => o.status === "withdrawn")),
        );
        count(
          "an accepted offer on a tier floor",
          ofYear.some((s) =>
            s.offers.some(
              (o) =>
                o.status === "accepted" &&
                tiers.some((t) => t.fromLpa > 0 && t.fromLpa * 100 === o.ctc),
            ),
          ),
        );
      }),
      { seed: 24, numRuns: 10 },
    );

    // The property met the cases it is about (one that never met them would prove nothing).
    for (const what of [
      "a department with no one eligible",
      "an even count of placed students (>= 2)",
      "an odd count of placed students (>= 3)",
      "a company's even count of accepted offers",
      "an unplaced student with a pending offer",
      "a company filter with someone placed",
      "a tier filter with someone placed (policy: true)",
      "a tier filter with someone placed (policy: false)",
      "all three filters at once",
      "the other year with students",
      "a student with several accepted offers (best one counts)",
      "an opted-out student with an accepted offer (not counted)",
      "an unapproved student with an offer (not counted)",
      "a withdrawn offer (not counted)",
      "an accepted offer on a tier floor",
    ])
      expect(reached.get(what) ?? 0, what).toBeGreaterThan(0);
  }, 120_000);
});

/** A small season to read on the page: CSE 4 eligible, 2 placed; ECE 1 student, not eligible. */
const SMALL: Season = {
  tiers: DEFAULT_TIERS,
  companyPick: 0,
  departmentPick: 0,
  students: [
    {
      year: YEAR,
      department: "CSE",
      approved: true,
      optedOut: false,
      cgpa: 8.2,
      applications: 2,
      offers: [
        { source: "campus", status: "accepted", company: "Infosys", ctc: 600 },
        { source: "ppo", status: "declined", company: "Bosch", ctc: 900 },
      ],
    },
    {
      year: YEAR,
      department: "CSE",
      approved: true,
      optedOut: false,
      cgpa: 7.5,
      applications: 1,
      offers: [{ source: "campus", status: "accepted", company: "TCS", ctc: 1250 }],
    },
    {
      year: YEAR,
      department: "CSE",
      approved: true,
      optedOut: false,
      cgpa: 6.9,
      applications: 3,
      offers: [{ source: "campus", status: "pending", company: "Infosys", ctc: 700 }],
    },
    {
      year: YEAR,
      department: "CSE",
      approved: true,
      optedOut: false,
      cgpa: 9.1,
      applications: 0,
      offers: [{ source: "off_campus", status: "withdrawn", company: "Zeta Labs", ctc: 500 }],
    },
    {
      year: YEAR,
      department: "ECE",
      approved: false,
      optedOut: false,
      cgpa: 8,
      applications: 0,
      offers: [],
    },
    {
      year: OTHER_YEAR,
      department: "ME",
      approved: true,
      optedOut: false,
      cgpa: 8,
      applications: 0,
      offers: [],
    },
  ],
};

describe("the season report page", () => {
  it("is for admins only: a student is refused, a visitor sent to log in", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const asStudent = await loginAs(t.app, student.email, student.password);
    for (const url of ["/admin/reports/season", "/admin/reports/season.csv?table=unplaced"]) {
      expect((await asStudent.get(url)).statusCode, url).toBe(403);
      const anonymous = await t.app.inject({ method: "GET", url });
      expect(anonymous.statusCode, url).toBe(303);
      expect(anonymous.headers.location).toMatch(/^\/login\?next=/);
    }
  });

  it("answers a year, tier or table it cannot read with a 400 that says what is wrong", async () => {
    jobIds = [];
    await insertSeason(t.ctx.db, SMALL);
    const client = await adminClient();
    for (const year of ["20x7", "1850", "27", "2027.0"]) {
      const response = await client.get(`/admin/reports/season?year=${year}`);
      expect(response.statusCode, year).toBe(400);
      expect(response.body).toContain(`cannot show the year “${year}”`);
      expect(response.body).toContain("four digits, like 2027");
      expect((await client.get(`/admin/reports/season.csv?year=${year}`)).statusCode).toBe(400);
    }
    const tier = await client.get(`/admin/reports/season?year=${YEAR}&tier=3`);
    expect(tier.statusCode).toBe(400);
    expect(tier.body).toContain("tier 3 is not one of them");
    expect(tier.body).toContain("Super dream");
    expect((await client.get("/admin/reports/season.csv?table=everything")).statusCode).toBe(400);
    expect((await client.get("/admin/reports/season?unplaced_page=0")).statusCode).toBe(400);
    // A year without students is a report with nothing in it, not an error.
    const empty = await client.get("/admin/reports/season?year=2031");
    expect(empty.statusCode).toBe(200);
    expect(empty.body).toContain("No students graduate in 2031.");
  });

  it("shows the numbers, both charts with a title on each bar, and the unplaced students", async () => {
    jobIds = [];
    await insertSeason(t.ctx.db, SMALL);
    const client = await adminClient();
    // No year: the first graduation year with students from this year on.
    const response = await client.get("/admin/reports/season");
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(html).toContain(`Season report: graduating ${YEAR}`);
    const row = (department: string) =>
      new RegExp(`<tr data-department="${department}">([\\s\\S]*?)</tr>`).exec(html)?.[1] ?? "";
    const cell = (department: string, col: string) =>
      new RegExp(`data-col="${col}">([^<]*)<`).exec(row(department))?.[1];
    expect(cell("CSE", "eligible")).toBe("4");
    expect(cell("CSE", "placed")).toBe("2");
    expect(cell("CSE", "placement_rate")).toBe("50.0%");
    expect(cell("CSE", "offers")).toBe("3");
    expect(cell("CSE", "offers_per_student")).toBe("0.75");
    expect(cell("CSE", "ppo")).toBe("1");
    expect(cell("CSE", "off_campus")).toBe("0");
    expect(cell("CSE", "highest_lpa")).toBe("12.50");
    expect(cell("CSE", "median_lpa")).toBe("9.25");
    expect(cell("CSE", "average_lpa")).toBe("9.25");
    expect(cell("ECE", "eligible")).toBe("0");
    expect(cell("ECE", "placement_rate")).toBe("—");
    expect(cell("All", "placed")).toBe("2");
    expect(cell("All", "placement_rate")).toBe("50.0%");
    // The two charts, drawn on the server, each bar with its numbers in a <title>.
    expect(html).toMatch(
      /<figure class="report-chart" id="rate-chart">[\s\S]*?<svg[^>]*role="img"/,
    );
    expect(html).toContain("<title>CSE: 50.0% placed (2 of 4 eligible students)</title>");
    expect(html).toContain("<title>ECE: no eligible students</title>");
    expect(html).toContain("<title>All: 50.0% placed (2 of 4 eligible students)</title>");
    expect(html).toMatch(/<figure class="report-chart" id="package-chart">[\s\S]*?<svg/);
    expect(html).toContain("<title>6 to below 8 LPA: 1 student</title>");
    expect(html).toContain("<title>12 to below 14 LPA: 1 student</title>");
    expect(html).toContain("<title>Dream from 6 LPA</title>");
    // Companies, and the two students not placed, one with a pending offer.
    expect(html).toMatch(/<tr data-company="Infosys">[\s\S]*?data-col="campus_offers">2</);
    const unplaced = /<table class="report-table" id="unplaced-table">([\s\S]*?)<\/table>/.exec(
      html,
    )?.[1];
    expect(unplaced).toContain("Student 2");
    expect(unplaced).toContain("Student 3");
    expect(unplaced).not.toContain("Student 0");
    expect(html).toContain("Not placed yet (2)");
    // Printable: the controls are left out on paper, and it says how to print.
    expect(html).toContain('class="filters print-hide"');
    expect(html).toContain("Ctrl+P");
    // The dashboard links to it.
    expect((await client.get("/admin")).body).toContain('href="/admin/reports/season"');
  });

  it("exports each table as CSV: the department table's header, and its All row last", async () => {
    jobIds = [];
    await insertSeason(t.ctx.db, SMALL);
    const client = await adminClient();
    const response = await client.get(`/admin/reports/season.csv?year=${YEAR}`);
    expect(response.headers["content-disposition"]).toMatch(
      new RegExp(`attachment; filename="season-${YEAR}-\\d{4}-\\d{2}-\\d{2}\\.csv"`),
    );
    const lines = response.body.trim().split("\n");
    expect(lines[0]).toBe(DEPARTMENT_HEADER);
    expect(lines.slice(1)).toEqual([
      "CSE,4,2,50.0,3,12.50,9.25,9.25,1",
      "ECE,0,0,,0,,,,0",
      "All,4,2,50.0,3,12.50,9.25,9.25,1",
    ]);
    const companies = await client.get(`/admin/reports/season.csv?year=${YEAR}&table=companies`);
    expect(companies.body.trim().split("\n")).toEqual([
      "company,campus_offers,ppos,off_campus,accepted,highest_lpa,median_lpa,average_lpa",
      "Bosch,0,1,0,0,,,",
      "Infosys,2,0,0,1,6.00,6.00,6.00",
      "TCS,1,0,0,1,12.50,12.50,12.50",
    ]);
    const unplaced = await client.get(`/admin/reports/season.csv?year=${YEAR}&table=unplaced`);
    expect(unplaced.body.trim().split("\n")).toEqual([
      "roll_number,name,department,cgpa,pending_offers,applications",
      "R002,Student 2,CSE,6.90,1,3",
      "R003,Student 3,CSE,9.10,0,0",
    ]);
  });

  it("pages the unplaced list 100 at a time, or shows it whole; the CSV has every one", async () => {
    jobIds = [];
    await insertSeason(t.ctx.db, {
      ...SMALL,
      students: Array.from({ length: 1030 }, () => ({ ...SMALL.students[3]!, offers: [] })),
    });
    const client = await adminClient();
    const rows = (html: string) =>
      (/id="unplaced-table">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "").match(
        /<tr>/g,
      )?.length ?? 0;
    const first = await client.get(`/admin/reports/season?year=${YEAR}`);
    expect(rows(first.body)).toBe(100);
    expect(first.body).toContain("1 to 100 of 1,030");
    expect(first.body).toContain("unplaced_page=2#unplaced");
    const last = await client.get(`/admin/reports/season?year=${YEAR}&unplaced_page=11`);
    expect(rows(last.body)).toBe(30);
    expect(last.body).toContain("1,001 to 1,030 of 1,030");
    const all = await client.get(`/admin/reports/season?year=${YEAR}&unplaced_page=all`);
    expect(rows(all.body)).toBe(1030);
    // The export reads them 500 at a time, each after the last one read: none twice, none left out.
    const [, ...exported] = await csv(
      client,
      `/admin/reports/season.csv?year=${YEAR}&table=unplaced`,
    );
    expect(exported.map((r) => r[0])).toEqual(
      Array.from({ length: 1030 }, (_, i) => `R${String(i).padStart(3, "0")}`).sort(),
    );
  });
});
