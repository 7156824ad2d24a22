import { departmentName } from "../placement/departments.ts";
import type { Tier } from "../placement/policy.ts";
import { formatCgpa, formatNumber, plural } from "../web/format.ts";
import { Layout } from "../web/layout.tsx";
import type { PageContext } from "../web/page.ts";
import { binLabel, formatRate, PackageChart, packageBins, RateChart } from "./charts.tsx";
import {
  type CompanyRow,
  type DepartmentRow,
  type PackageStats,
  placementRate,
  type SeasonFilters,
  type SeasonReport,
  tierRange,
  UNPLACED_PAGE_SIZE,
  type UnplacedStudent,
} from "./season.ts";

/**
 * A count as `formatNumber` writes it ("1,00,000", en-IN), from one formatter built once: the
 * unplaced list may have thousands of rows, and `toLocaleString` builds a formatter per call.
 */
const EN_IN = new Intl.NumberFormat("en-IN");
const count = (n: number) => EN_IN.format(n);

/** A package cell: "7.50", or an em dash for none. */
export function formatPackage(lpa: number | null): string {
  return lpa === null ? "—" : lpa.toFixed(2);
}

/** The filters as the address carries them (empty ones left out). */
export function seasonQuery(
  filters: SeasonFilters,
  extra: Record<string, string | undefined> = {},
): string {
  const params = new URLSearchParams();
  params.set("year", String(filters.year));
  if (filters.department) params.set("department", filters.department);
  if (filters.company) params.set("company", filters.company);
  if (filters.tier !== undefined) params.set("tier", String(filters.tier));
  for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
  return params.toString();
}

export function tierLabel(tiers: readonly Tier[], index: number): string {
  const { from, to } = tierRange(tiers, index);
  return `${tiers[index]!.name} (${to === null ? `${from} LPA and above` : `${from} to below ${to} LPA`})`;
}

/** The filters in words: "Graduating 2027 · CSE · Infosys's offers only · tier Dream (...)". */
function filtersInWords(report: SeasonReport): string {
  const f = report.filters;
  return [
    `Graduating ${f.year}`,
    f.department ? `${f.department} (${departmentName(f.department)})` : "all departments",
    f.company ? `offers from ${f.company} only` : "offers from every company",
    f.tier !== undefined ? `offers in tier ${tierLabel(report.tiers, f.tier)} only` : "every tier",
  ].join(" · ");
}

/** One filter of the report: a labelled select, "All" first unless `all` is false. */
function FilterSelect(props: {
  label: string;
  name: string;
  options: { value: string; label: string }[];
  selected: string;
  all?: boolean;
}) {
  return (
    <label>
      <span safe>{props.label}</span>
      <select name={props.name}>
        {props.all === false ? null : <option value="">All</option>}
        {props.options.map((o) => (
          <option value={o.value} selected={props.selected === o.value} safe>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function FilterForm({ report, years }: { report: SeasonReport; years: readonly number[] }) {
  const f = report.filters;
  const yearChoices = years.includes(f.year) ? years : [...years, f.year].sort((a, b) => a - b);
  const departments = report.departments.map((d) => d.department);
  if (f.department && !departments.includes(f.department)) departments.push(f.department);
  const companies = report.companiesOffered.includes(f.company ?? "")
    ? report.companiesOffered
    : f.company
      ? [...report.companiesOffered, f.company]
      : report.companiesOffered;
  return (
    <form
      method="get"
      action="/admin/reports/season"
      class="filters print-hide"
      aria-label="Choose the season and filter the report"
    >
      <FilterSelect
        label="Graduation year"
        name="year"
        options={yearChoices.map((y) => ({ value: String(y), label: String(y) }))}
        selected={String(f.year)}
        all={false}
      />
      <FilterSelect
        label="Department"
        name="department"
        options={departments.map((d) => ({ value: d, label: d }))}
        selected={f.department ?? ""}
      />
      <FilterSelect
        label="Company"
        name="company"
        options={companies.map((c) => ({ value: c, label: c }))}
        selected={f.company ?? ""}
      />
      <FilterSelect
        label="Tier"
        name="tier"
        options={report.tiers.map((_, i) => ({
          value: String(i),
          label: tierLabel(report.tiers, i),
        }))}
        selected={f.tier === null || f.tier === undefined ? "" : String(f.tier)}
      />
      <button type="submit">Show</button>
    </form>
  );
}

function PackageCells({ stats }: { stats: PackageStats }) {
  return (
    <>
      <td data-col="highest_lpa" safe>
        {formatPackage(stats.highest)}
      </td>
      <td data-col="median_lpa" safe>
        {formatPackage(stats.median)}
      </td>
      <td data-col="average_lpa" safe>
        {formatPackage(stats.average)}
      </td>
    </>
  );
}

function DepartmentCells({ row }: { row: DepartmentRow }) {
  return (
    <>
      <td data-col="eligible" safe>
        {formatNumber(row.eligible)}
      </td>
      <td data-col="placed" safe>
        {formatNumber(row.placed)}
      </td>
      <td data-col="placement_rate" safe>
        {formatRate(placementRate(row.placed, row.eligible))}
      </td>
      <td data-col="offers" safe>
        {formatNumber(row.offers)}
      </td>
      <td data-col="offers_per_student" safe>
        {row.eligible === 0 ? "—" : (row.offers / row.eligible).toFixed(2)}
      </td>
      <td data-col="ppo" safe>
        {formatNumber(row.ppos)}
      </td>
      <td data-col="off_campus" safe>
        {formatNumber(row.offCampus)}
      </td>
      <PackageCells stats={row.packages} />
    </>
  );
}

function DepartmentTable({ report }: { report: SeasonReport }) {
  return (
    <section class="table-wrap" aria-label="Table: placement by department" tabindex="0">
      <table class="report-table" id="departments-table">
        <thead>
          <tr>
            <th scope="col">Department</th>
            <th scope="col">Eligible</th>
            <th scope="col">Placed</th>
            <th scope="col">Placement rate</th>
            <th scope="col">Campus offers</th>
            <th scope="col">Offers per student</th>
            <th scope="col">PPOs</th>
            <th scope="col">Off-campus</th>
            <th scope="col">Highest (LPA)</th>
            <th scope="col">Median (LPA)</th>
            <th scope="col">Average (LPA)</th>
          </tr>
        </thead>
        <tbody>
          {report.departments.map((row) => (
            <tr data-department={row.department}>
              <th scope="row">
                <abbr title={departmentName(row.department)} safe>
                  {row.department}
                </abbr>
              </th>
              <DepartmentCells row={row} />
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-department="All">
            <th scope="row">All</th>
            <DepartmentCells row={report.all} />
          </tr>
        </tfoot>
      </table>
    </section>
  );
}

function PackageTables({ report }: { report: SeasonReport }) {
  const bins = packageBins(report.bestPackages);
  const perTier = report.tiers.map((_, i) => {
    const { from, to } = tierRange(report.tiers, i);
    return report.bestPackages.filter((p) => p >= from && (to === null || p < to)).length;
  });
  return (
    <div class="report-pair">
      <section class="table-wrap" aria-label="Placed students per package band" tabindex="0">
        <table class="report-table" id="bins-table">
          <thead>
            <tr>
              <th scope="col">Best package</th>
              <th scope="col">Placed students</th>
            </tr>
          </thead>
          <tbody>
            {bins.map((bin) => (
              <tr data-bin={String(bin.from)}>
                <th scope="row" safe>
                  {binLabel(bin)}
                </th>
                <td safe>{formatNumber(bin.students)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="table-wrap" aria-label="Placed students per tier" tabindex="0">
        <table class="report-table" id="tiers-table">
          <thead>
            <tr>
              <th scope="col">Tier of the best package</th>
              <th scope="col">Placed students</th>
            </tr>
          </thead>
          <tbody>
            {report.tiers.map((_, i) => (
              <tr>
                <th scope="row" safe>
                  {tierLabel(report.tiers, i)}
                </th>
                <td safe>{formatNumber(perTier[i]!)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function CompanyTable({ rows }: { rows: CompanyRow[] }) {
  return (
    <section class="table-wrap" aria-label="Table: offers by company" tabindex="0">
      <table class="report-table" id="companies-table">
        <thead>
          <tr>
            <th scope="col">Company</th>
            <th scope="col">Campus offers</th>
            <th scope="col">PPOs</th>
            <th scope="col">Off-campus</th>
            <th scope="col">Accepted</th>
            <th scope="col">Highest (LPA)</th>
            <th scope="col">Median (LPA)</th>
            <th scope="col">Average (LPA)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr data-company={c.company}>
              <th scope="row" safe>
                {c.company}
              </th>
              <td data-col="campus_offers" safe>
                {formatNumber(c.campusOffers)}
              </td>
              <td data-col="ppos" safe>
                {formatNumber(c.ppos)}
              </td>
              <td data-col="off_campus" safe>
                {formatNumber(c.offCampus)}
              </td>
              <td data-col="accepted" safe>
                {formatNumber(c.accepted)}
              </td>
              <PackageCells stats={c.packages} />
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function UnplacedTable({ rows }: { rows: UnplacedStudent[] }) {
  return (
    <section class="table-wrap" aria-label="Eligible students not placed" tabindex="0">
      <table class="report-table" id="unplaced-table">
        <thead>
          <tr>
            <th scope="col">Roll number</th>
            <th scope="col">Name</th>
            <th scope="col">Department</th>
            <th scope="col">CGPA</th>
            <th scope="col">Pending offers</th>
            <th scope="col">Applications</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr>
              <td safe>{s.roll_number}</td>
              <td>
                <a href={`/admin/students/${s.id}`} safe>
                  {s.full_name}
                </a>
              </td>
              <td safe>{s.department}</td>
              <td safe>{formatCgpa(s.cgpa)}</td>
              <td safe>{count(s.pending_offers)}</td>
              <td safe>{count(s.applications_count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function UnplacedPager({
  filters,
  page,
  total,
}: {
  filters: SeasonFilters;
  page: number | "all";
  total: number;
}) {
  const pages = Math.max(1, Math.ceil(total / UNPLACED_PAGE_SIZE));
  const href = (p: string) =>
    `/admin/reports/season?${seasonQuery(filters, { unplaced_page: p })}#unplaced`;
  if (page === "all")
    return pages > 1 ? (
      <p class="print-hide">
        <a href={href("1")}>Show them {UNPLACED_PAGE_SIZE} at a time</a>
      </p>
    ) : null;
  if (pages <= 1) return null;
  return (
    <nav class="pagination print-hide" aria-label="Pages of the unplaced list">
      {page > 1 ? <a href={href(String(page - 1))}>← Previous</a> : <span />}
      <span safe>{`Page ${formatNumber(page)} of ${formatNumber(pages)}`}</span>
      {page < pages ? <a href={href(String(page + 1))}>Next →</a> : <span />}
      <a href={href("all")} safe>
        {`All ${formatNumber(total)} on one page (to print)`}
      </a>
    </nav>
  );
}

export function SeasonPage({
  page,
  report,
  years,
  unplaced,
  unplacedPage,
}: {
  page: PageContext;
  report: SeasonReport;
  years: readonly number[];
  unplaced: UnplacedStudent[];
  unplacedPage: number | "all";
}) {
  const f = report.filters;
  const qs = seasonQuery(f);
  const unplacedTotal = report.all.eligible - report.all.placed;
  const first = unplacedPage === "all" ? 1 : (unplacedPage - 1) * UNPLACED_PAGE_SIZE + 1;
  const tiersFrom = report.policySet
    ? `Tiers of the ${f.year} placement policy`
    : `Default tiers (no placement policy is set for ${f.year})`;
  return (
    <Layout page={page} title={`Season report: graduating ${f.year}`}>
      <div class="season-report">
        <p class="hint print-hide">
          To print it, use the browser's Print (Ctrl+P or ⌘P): the menu and these controls are left
          out and each table starts on a page of its own. For all the unplaced students on paper,
          first choose "All on one page" under their list.
        </p>
        <FilterForm report={report} years={years} />
        <p class="report-scope">
          <strong safe>{filtersInWords(report)}</strong>
          <br />
          <span class="small" safe>
            {`${tiersFrom}: ${report.tiers.map((_, i) => tierLabel(report.tiers, i)).join("; ")}.`}
          </span>
        </p>
        <p class="print-hide">
          Download as CSV: <a href={`/admin/reports/season.csv?${qs}`}>departments</a>
          {" · "}
          <a href={`/admin/reports/season.csv?${seasonQuery(f, { table: "companies" })}`}>
            companies
          </a>
          {" · "}
          <a href={`/admin/reports/season.csv?${seasonQuery(f, { table: "unplaced" })}`}>
            unplaced students
          </a>
        </p>

        <section class="report-section" id="departments" aria-labelledby="departments-heading">
          <h2 id="departments-heading">Placement by department</h2>
          {report.departments.length === 0 ? (
            <p class="empty" safe>
              {`No ${f.department ? `${f.department} ` : ""}students graduate in ${f.year}.`}
            </p>
          ) : (
            <>
              <DepartmentTable report={report} />
              <p class="hint small">
                Eligible: approved and not opted out of placement. Placed: holding an accepted offer
                (any source) that the filters count. Offers count campus offers not withdrawn; PPOs
                and off-campus offers are apart. Packages are each placed student's best accepted
                CTC, counted once.
              </p>
              <RateChart rows={report.departments} all={report.all} />
            </>
          )}
        </section>

        <section class="report-section" id="packages" aria-labelledby="packages-heading">
          <h2 id="packages-heading">Packages of placed students</h2>
          <PackageChart bins={packageBins(report.bestPackages)} tiers={report.tiers} />
          <PackageTables report={report} />
        </section>

        <section class="report-section" id="companies" aria-labelledby="companies-heading">
          <h2 id="companies-heading">Offers by company</h2>
          {report.companies.length === 0 ? (
            <p class="empty">No offers counted.</p>
          ) : (
            <>
              <CompanyTable rows={report.companies} />
              <p class="hint small">
                Offers not withdrawn, to eligible students; accepted and packages over the company's
                accepted offers, each offer counted.
              </p>
            </>
          )}
        </section>

        <section class="report-section" id="unplaced" aria-labelledby="unplaced-heading">
          <h2 id="unplaced-heading" safe>
            {`Not placed yet (${formatNumber(unplacedTotal)})`}
          </h2>
          {unplacedTotal === 0 ? (
            <p class="empty">Every eligible student is placed.</p>
          ) : unplaced.length === 0 ? (
            <p class="empty">No students on this page.</p>
          ) : (
            <>
              <p class="small" safe>
                {unplacedPage === "all"
                  ? `All ${plural(unplacedTotal, "student")}, by department and roll number.`
                  : `${formatNumber(first)} to ${formatNumber(first + unplaced.length - 1)} of ${formatNumber(unplacedTotal)}, by department and roll number.`}
              </p>
              <UnplacedTable rows={unplaced} />
            </>
          )}
          <UnplacedPager filters={f} page={unplacedPage} total={unplacedTotal} />
        </section>
      </div>
    </Layout>
  );
}
