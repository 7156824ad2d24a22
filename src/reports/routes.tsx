import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.ts";
import { HttpError, requireRole } from "../web/auth.ts";
import { type CsvValue, csvFilename, sendCsv } from "../web/csv.ts";
import { formatCgpa } from "../web/format.ts";
import { pageContext } from "../web/page.ts";
import { MAX_PAGE, orEmpty, textParam, wholeNumberParam } from "../web/schemas.ts";
import {
  defaultSeasonYear,
  type PackageStats,
  placementRate,
  type SeasonFilters,
  seasonReport,
  seasonTiers,
  seasonYears,
  UNPLACED_PAGE_SIZE,
  unplacedStudents,
} from "./season.ts";
import { SeasonPage, tierLabel } from "./season-page.tsx";

/** The columns of the CSV, table by table (README, "Season report"). */
export const SEASON_CSV_COLUMNS = {
  departments: [
    "department",
    "eligible",
    "placed",
    "placement_rate",
    "offers",
    "highest_lpa",
    "median_lpa",
    "average_lpa",
    "ppo",
  ],
  companies: [
    "company",
    "campus_offers",
    "ppos",
    "off_campus",
    "accepted",
    "highest_lpa",
    "median_lpa",
    "average_lpa",
  ],
  unplaced: ["roll_number", "name", "department", "cgpa", "pending_offers", "applications"],
} as const;

type SeasonTable = keyof typeof SEASON_CSV_COLUMNS;

interface SeasonQuerystring {
  year?: string;
  department?: string;
  company?: string;
  tier?: number | "";
}

/** The address's shape (lengths, no control characters); the handler checks the meaning. */
const filterProperties = {
  year: textParam(10),
  department: textParam(20),
  company: textParam(100),
  tier: orEmpty(wholeNumberParam(0, 9)),
} as const;

/** The year of the address: four digits; absent or empty: the report's default year. */
function parseYear(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const year = /^\d{4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(year >= 1900 && year <= 2200))
    throw new HttpError(
      400,
      `The season report cannot show the year “${raw}”: a graduation year is written with four digits, like 2027. Go back to the season report and choose a year from its list.`,
    );
  return year;
}

/** The filters of the address, the years with students and the year's tiers; 400 when unusable. */
async function resolve(ctx: AppContext, query: SeasonQuerystring, needYears: boolean) {
  const given = parseYear(query.year);
  const years = needYears || given === undefined ? await seasonYears(ctx) : [];
  const year = given ?? defaultSeasonYear(years, ctx.clock.now());
  const season = await seasonTiers(ctx, year);
  const tier = typeof query.tier === "number" ? query.tier : undefined;
  if (tier !== undefined && tier >= season.tiers.length)
    throw new HttpError(
      400,
      `The ${year} season has ${season.tiers.length} tiers (${season.tiers
        .map((_, i) => `${i}: ${tierLabel(season.tiers, i)}`)
        .join(
          "; ",
        )}): tier ${tier} is not one of them. Go back to the season report and choose a tier from its list.`,
    );
  const filters: SeasonFilters = {
    year,
    department: query.department || undefined,
    company: query.company || undefined,
    tier,
  };
  return { filters, years, season };
}

const lpa = (value: number | null) => (value === null ? "" : value.toFixed(2));
const packageColumns = (p: PackageStats): CsvValue[] => [
  lpa(p.highest),
  lpa(p.median),
  lpa(p.average),
];

export async function seasonReportRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{ Querystring: SeasonQuerystring & { unplaced_page?: number | "all" } }>(
    "/reports/season",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            ...filterProperties,
            // Not `page`: the unplaced list is one of the page's tables, "all" shows it whole.
            unplaced_page: {
              anyOf: [{ type: "string", const: "all" }, wholeNumberParam(1, MAX_PAGE)],
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { filters, years, season } = await resolve(ctx, request.query, true);
      const unplacedPage = request.query.unplaced_page ?? 1;
      const [report, unplaced] = await Promise.all([
        seasonReport(ctx, filters, season),
        unplacedStudents(
          ctx,
          filters,
          season.tiers,
          unplacedPage === "all"
            ? null
            : { offset: (unplacedPage - 1) * UNPLACED_PAGE_SIZE, limit: UNPLACED_PAGE_SIZE },
        ),
      ]);
      return reply.html(
        <SeasonPage
          page={pageContext(request, reply)}
          report={report}
          years={years}
          unplaced={unplaced}
          unplacedPage={unplacedPage}
        />,
      );
    },
  );

  // Not recorded in the audit log, as no export is (README, "Exports").
  app.get<{ Querystring: SeasonQuerystring & { table?: SeasonTable } }>(
    "/reports/season.csv",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            ...filterProperties,
            table: { type: "string", enum: Object.keys(SEASON_CSV_COLUMNS) },
          },
        },
      },
    },
    async (request, reply) => {
      const { filters, season } = await resolve(ctx, request.query, false);
      const table = request.query.table ?? "departments";
      const name = `season-${filters.year}${table === "departments" ? "" : `-${table}`}`;
      const filename = csvFilename(name, ctx.clock.now());
      const columns = SEASON_CSV_COLUMNS[table];
      if (table === "unplaced") {
        async function* rows() {
          let after: { department: string; roll_number: string } | null = null;
          for (;;) {
            const page = await unplacedStudents(ctx, filters, season.tiers, { after, limit: 500 });
            for (const s of page)
              yield [
                s.roll_number,
                s.full_name,
                s.department,
                formatCgpa(s.cgpa),
                s.pending_offers,
                s.applications_count,
              ];
            if (page.length < 500) return;
            after = page.at(-1)!;
          }
        }
        return sendCsv(reply, filename, columns, rows());
      }
      const report = await seasonReport(ctx, filters, season);
      async function* rows(): AsyncGenerator<CsvValue[]> {
        if (table === "companies") {
          for (const c of report.companies)
            yield [
              c.company,
              c.campusOffers,
              c.ppos,
              c.offCampus,
              c.accepted,
              ...packageColumns(c.packages),
            ];
          return;
        }
        for (const d of [...report.departments, report.all]) {
          const rate = placementRate(d.placed, d.eligible);
          yield [
            d.department,
            d.eligible,
            d.placed,
            rate === null ? "" : rate.toFixed(1),
            d.offers,
            ...packageColumns(d.packages),
            d.ppos,
          ];
        }
      }
      return sendCsv(reply, filename, columns, rows());
    },
  );
}
