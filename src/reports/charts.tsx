import type { Tier } from "../placement/policy.ts";
import { formatNumber, plural } from "../web/format.ts";
import { type DepartmentRow, placementRate } from "./season.ts";

/**
 * The season report's two charts, drawn on the server as inline SVG like the SMS console's
 * (sms-console/chart.tsx): they read without colour (one series each, a hatched bar for the whole
 * year, every number also written as text), every bar has a <title> with its numbers, and the
 * tables beside them hold the same numbers.
 */

const WIDTH = 720;

/** "62.5%": a rate as the report writes it. */
export function formatRate(rate: number | null): string {
  return rate === null ? "—" : `${rate.toFixed(1)}%`;
}

const rateOf = (row: DepartmentRow) => placementRate(row.placed, row.eligible);

export function rateSummary(row: DepartmentRow, label: string): string {
  const rate = rateOf(row);
  return rate === null
    ? `${label}: no eligible students`
    : `${label}: ${formatRate(rate)} placed (${formatNumber(row.placed)} of ${plural(row.eligible, "eligible student")})`;
}

function HatchPattern({ id }: { id: string }) {
  return (
    <defs>
      <pattern
        id={`${id}-all`}
        width="6"
        height="6"
        patternUnits="userSpaceOnUse"
        patternTransform="rotate(45)"
      >
        <rect width="6" height="6" fill="#d9ecf7" />
        <line x1="0" y1="0" x2="0" y2="6" stroke="#1f5f8b" stroke-width="3" />
      </pattern>
    </defs>
  );
}

/** Placement rate per department, one horizontal bar each, and the year's as a hatched bar. */
export function RateChart({ rows, all }: { rows: DepartmentRow[]; all: DepartmentRow }) {
  const id = "rate-chart";
  const LEFT = 64;
  const RIGHT = 150;
  const ROW = 24;
  const TOP = 20;
  const lines = [
    ...rows.map((r) => ({ row: r, label: r.department, total: false })),
    { row: all, label: "All", total: true },
  ];
  const height = TOP + lines.length * ROW + 8;
  const plot = WIDTH - LEFT - RIGHT;
  const summary = `Placement rate per department: ${lines.map((l) => rateSummary(l.row, l.label)).join("; ")}.`;
  return (
    <figure class="report-chart" id="rate-chart">
      <figcaption>Placement rate per department (placed of eligible)</figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        role="img"
        aria-label={summary}
        xmlns="http://www.w3.org/2000/svg"
      >
        <HatchPattern id={id} />
        {[0, 25, 50, 75, 100].map((p) => {
          const x = LEFT + (p / 100) * plot;
          return (
            <g>
              <line
                x1={x.toFixed(1)}
                y1={TOP - 4}
                x2={x.toFixed(1)}
                y2={height - 8}
                stroke="#bbb"
                stroke-dasharray={p === 0 ? undefined : "3 3"}
              />
              <text x={x.toFixed(1)} y={TOP - 8} font-size="10" text-anchor="middle" safe>
                {`${p}%`}
              </text>
            </g>
          );
        })}
        {lines.map((line, i) => {
          const rate = rateOf(line.row);
          const y = TOP + i * ROW;
          const w = rate === null ? 0 : (rate / 100) * plot;
          return (
            <g data-department={line.label} class={line.total ? "bar-all" : "bar-department"}>
              <title safe>{rateSummary(line.row, line.label)}</title>
              <text
                x={LEFT - 6}
                y={y + ROW / 2 + 4}
                font-size="11"
                text-anchor="end"
                font-weight={line.total ? "bold" : undefined}
                safe
              >
                {line.label}
              </text>
              {rate === null ? null : (
                <rect
                  x={LEFT}
                  y={y + 4}
                  width={Math.max(w, 0.5).toFixed(1)}
                  height={ROW - 8}
                  fill={line.total ? `url(#${id}-all)` : "#1d6b3a"}
                  stroke="#333"
                  stroke-width="0.5"
                />
              )}
              <text x={(LEFT + w + 6).toFixed(1)} y={y + ROW / 2 + 4} font-size="11" safe>
                {rate === null
                  ? "no eligible students"
                  : `${formatRate(rate)} (${formatNumber(line.row.placed)} of ${formatNumber(line.row.eligible)})`}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export interface Bin {
  from: number;
  to: number;
  students: number;
}

/** Bin widths tried in turn, so that the histogram has at most 20 bars. */
const BIN_WIDTHS = [2, 5, 10, 20, 50, 100, 200, 500];

/** Placed students' best packages in bins of equal width from 0 (2 LPA, wider when needed). */
export function packageBins(packages: readonly number[]): Bin[] {
  if (packages.length === 0) return [];
  const top = packages.reduce((a, b) => Math.max(a, b), 0);
  const width = BIN_WIDTHS.find((w) => Math.floor(top / w) + 1 <= 20) ?? BIN_WIDTHS.at(-1)!;
  const count = Math.floor(top / width) + 1;
  const bins: Bin[] = Array.from({ length: count }, (_, i) => ({
    from: i * width,
    to: (i + 1) * width,
    students: 0,
  }));
  for (const p of packages) bins[Math.min(count - 1, Math.floor(p / width))]!.students += 1;
  return bins;
}

export function binLabel(bin: Bin): string {
  return `${bin.from} to below ${bin.to} LPA`;
}

/** The histogram of placed students' best packages, with the tier floors marked. */
export function PackageChart({ bins, tiers }: { bins: Bin[]; tiers: readonly Tier[] }) {
  const LEFT = 40;
  const BOTTOM = 34;
  const TOP = 16;
  const HEIGHT = 200;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const plotWidth = WIDTH - LEFT - 8;
  const max = Math.max(1, ...bins.map((b) => b.students));
  const slot = plotWidth / Math.max(1, bins.length);
  const span = bins.length > 0 ? bins.at(-1)!.to : 1;
  const xOf = (lpa: number) => LEFT + (lpa / span) * plotWidth;
  const total = bins.reduce((n, b) => n + b.students, 0);
  const summary =
    total === 0
      ? "Best package of placed students: nobody placed."
      : `Best package of placed students, ${plural(total, "student")}: ${bins
          .filter((b) => b.students > 0)
          .map((b) => `${binLabel(b)}: ${formatNumber(b.students)}`)
          .join("; ")}.`;
  return (
    <figure class="report-chart" id="package-chart">
      <figcaption>Best package of each placed student (students per package band)</figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-label={summary}
        xmlns="http://www.w3.org/2000/svg"
      >
        <line x1={LEFT} y1={TOP} x2={LEFT} y2={TOP + plotHeight} stroke="#666" />
        <line x1={LEFT} y1={TOP + plotHeight} x2={WIDTH - 8} y2={TOP + plotHeight} stroke="#666" />
        <text x={LEFT - 4} y={TOP + 6} text-anchor="end" font-size="10" safe>
          {formatNumber(max)}
        </text>
        <text x={LEFT - 4} y={TOP + plotHeight} text-anchor="end" font-size="10">
          0
        </text>
        {bins.map((bin, i) => {
          const h = (bin.students / max) * plotHeight;
          const x = LEFT + i * slot;
          return (
            <g data-bin={String(bin.from)}>
              <title safe>{`${binLabel(bin)}: ${plural(bin.students, "student")}`}</title>
              <rect
                x={x.toFixed(1)}
                y={TOP}
                width={slot.toFixed(1)}
                height={plotHeight}
                fill="transparent"
              />
              {bin.students > 0 ? (
                <rect
                  x={(x + slot * 0.1).toFixed(1)}
                  y={(TOP + plotHeight - h).toFixed(1)}
                  width={(slot * 0.8).toFixed(1)}
                  height={h.toFixed(1)}
                  fill="#1f5f8b"
                  stroke="#333"
                  stroke-width="0.5"
                />
              ) : null}
              {bin.students > 0 ? (
                <text
                  x={(x + slot / 2).toFixed(1)}
                  y={(TOP + plotHeight - h - 3).toFixed(1)}
                  font-size="10"
                  text-anchor="middle"
                  safe
                >
                  {formatNumber(bin.students)}
                </text>
              ) : null}
              <text
                x={x.toFixed(1)}
                y={TOP + plotHeight + 12}
                font-size="10"
                text-anchor="middle"
                safe
              >
                {String(bin.from)}
              </text>
            </g>
          );
        })}
        {bins.length > 0 ? (
          <text x={WIDTH - 8} y={TOP + plotHeight + 12} font-size="10" text-anchor="end" safe>
            {`${span} LPA`}
          </text>
        ) : null}
        {tiers
          .filter((t) => t.fromLpa > 0 && t.fromLpa < span)
          .map((t) => (
            <g class="tier-floor">
              <title safe>{`${t.name} from ${t.fromLpa} LPA`}</title>
              <line
                x1={xOf(t.fromLpa).toFixed(1)}
                y1={TOP}
                x2={xOf(t.fromLpa).toFixed(1)}
                y2={TOP + plotHeight}
                stroke="#a32020"
                stroke-dasharray="5 3"
              />
              <text
                x={(xOf(t.fromLpa) + 3).toFixed(1)}
                y={TOP + plotHeight + 26}
                font-size="10"
                safe
              >
                {`${t.name} ≥ ${t.fromLpa}`}
              </text>
            </g>
          ))}
      </svg>
      <p class="hint small">
        Each bar counts the placed students whose best accepted package is in its band (lakh a
        year); dashed lines mark where each tier starts.
      </p>
    </figure>
  );
}
