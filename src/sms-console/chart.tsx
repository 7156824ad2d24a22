import { sql } from "kysely";
import type { AppContext } from "../context.ts";
import { typedValue } from "../db/dialect.ts";
import { formatNumber, plural } from "../web/format.ts";
import {
  applyFilters,
  applyHourlyFilters,
  countsFromHours,
  filterRange,
  indiaHourKey,
  type SmsFilters,
} from "./console.ts";

/**
 * Messages over time, for the SMS console: per India hour for the last 48 hours, per India day
 * for the last 30 days (or the filter's own date range). Each bucket is split into series by
 * status, counted in one GROUP BY per chart, and drawn on the server as inline SVG that reads
 * without colour: each series has its own fill pattern and a fixed place in the stack, every bar
 * has a <title> with its numbers, and the same numbers are in a table beside it.
 *
 * Captured messages (the capture transport: kept on this server, never sent) are their own
 * series: counted as "sent" they would wait for a delivery report that never comes. Skipped and
 * cancelled messages were never meant to reach a phone and are not drawn.
 */

export const CHART_SERIES = [
  { key: "delivered", label: "Delivered", statuses: ["delivered"] },
  { key: "sent", label: "Sent, awaiting report", statuses: ["sent"] },
  { key: "captured", label: "Captured (not sent)", statuses: ["captured"] },
  { key: "queued", label: "Queued or sending", statuses: ["queued", "sending"] },
  { key: "failed", label: "Failed or not delivered", statuses: ["failed", "undelivered"] },
  // Final, and may have reached the phone: neither sent nor failed (decision 027).
  { key: "unknown", label: "Outcome unknown", statuses: ["unknown"] },
] as const;

export type SeriesKey = (typeof CHART_SERIES)[number]["key"];

export interface ChartBucket {
  /** India time: "2026-12-02T14" (an hour) or "2026-12-02" (a day). */
  key: string;
  counts: Record<SeriesKey, number>;
}

export interface ChartData {
  unit: "hour" | "day";
  title: string;
  buckets: ChartBucket[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const INDIA_OFFSET_MS = 330 * 60_000;
/** The most days one chart draws (a longer date range shows its last this many days). */
const MAX_DAYS = 92;

/** The India-time bucket key of an instant, as migration 2026-12-03h keys sms_hourly_counts. */
export function bucketKey(at: Date, unit: "hour" | "day"): string {
  return new Date(at.getTime() + INDIA_OFFSET_MS).toISOString().slice(0, unit === "hour" ? 13 : 10);
}

function floorToBucket(at: number, unit: "hour" | "day"): number {
  const size = unit === "hour" ? HOUR_MS : DAY_MS;
  return Math.floor((at + INDIA_OFFSET_MS) / size) * size - INDIA_OFFSET_MS;
}

/**
 * Each bucket's counts by series: from the hourly counts and their deltas not folded yet where the
 * filters allow (migrations 2026-12-03h and 2026-12-07b), otherwise from the messages the filters select (a job's, a student's). There, per
 * bucket, one walk of the (created_at, status) index over the bucket's range, counting in the
 * walk, so no India-time expression is computed and sorted for every row. The scalar subquery
 * returns its counts as one "n,n,n,n,n" text, as SQLite has no LATERAL join to return several
 * columns.
 */
async function countPerBucket(
  ctx: Pick<AppContext, "db" | "dialect">,
  filters: SmsFilters,
  unit: "hour" | "day",
  first: number,
  count: number,
): Promise<Map<string, Record<SeriesKey, number>>> {
  const size = unit === "hour" ? HOUR_MS : DAY_MS;
  if (countsFromHours(filters)) {
    // Hours and days from the hourly counts: 48 or 30 x (kinds x statuses) rows and the deltas
    // of the last few seconds, not the outbox.
    const bucket = unit === "hour" ? sql<string>`hour` : sql<string>`substr(hour, 1, 10)`;
    const rows = await applyHourlyFilters(ctx, filters, true, {
      from: indiaHourKey(new Date(first)),
      to: indiaHourKey(new Date(first + count * size)),
    })
      .select([bucket.as("bucket"), "status", (eb) => eb.fn.sum<number>("n").as("n")])
      .groupBy([bucket, "status"])
      .execute();
    const out = new Map<string, Record<SeriesKey, number>>();
    for (const row of rows) {
      const series = CHART_SERIES.find((s) =>
        (s.statuses as readonly string[]).includes(row.status),
      );
      if (!series) continue;
      const counts = out.get(row.bucket) ?? emptyCounts();
      counts[series.key] += Number(row.n);
      out.set(row.bucket, counts);
    }
    return out;
  }
  const at = (i: number) =>
    typedValue(ctx.dialect, new Date(first + i * size).toISOString(), "timestamptz");
  const bounds = Array.from(
    { length: count },
    (_, i) =>
      sql`select ${bucketKey(new Date(first + i * size), unit)} as k, ${at(i)} as s, ${at(i + 1)} as e`,
  );
  const counts = applyFilters(ctx, ctx.db.selectFrom("sms_messages"), filters)
    .where("sms_messages.created_at", ">=", sql<string>`b.s`)
    .where("sms_messages.created_at", "<", sql<string>`b.e`)
    .select(
      sql<string>`${sql.join(
        CHART_SERIES.map(
          (series) =>
            sql`cast(count(case when sms_messages.status in (${sql.join(
              series.statuses.map((st) => sql.lit(st)),
            )}) then 1 end) as text)`,
        ),
        sql` || ',' || `,
      )}`.as("counts"),
    );
  const rows = await ctx.db
    .selectFrom(sql<{ k: string }>`(${sql.join(bounds, sql` union all `)})`.as("b"))
    .select([sql<string>`b.k`.as("bucket"), counts.as("counts")])
    .execute();
  return new Map(
    rows.map((row) => {
      const numbers = String(row.counts ?? "")
        .split(",")
        .map(Number);
      return [
        row.bucket,
        Object.fromEntries(CHART_SERIES.map((s, i) => [s.key, numbers[i] || 0])) as Record<
          SeriesKey,
          number
        >,
      ];
    }),
  );
}

function emptyCounts(): Record<SeriesKey, number> {
  return { delivered: 0, sent: 0, captured: 0, queued: 0, failed: 0, unknown: 0 };
}

async function chartOver(
  ctx: Pick<AppContext, "db" | "dialect">,
  filters: SmsFilters,
  unit: "hour" | "day",
  first: number,
  count: number,
  title: string,
): Promise<ChartData> {
  const size = unit === "hour" ? HOUR_MS : DAY_MS;
  const counted = await countPerBucket(ctx, filters, unit, first, count);
  const buckets = Array.from({ length: count }, (_, i) => {
    const key = bucketKey(new Date(first + i * size), unit);
    return { key, counts: counted.get(key) ?? emptyCounts() };
  });
  return { unit, title, buckets };
}

/** The console's two charts for `filters`, as of `now`. */
export async function consoleCharts(
  ctx: Pick<AppContext, "db" | "dialect">,
  filters: SmsFilters,
  now: Date,
): Promise<ChartData[]> {
  const thisHour = floorToBucket(now.getTime(), "hour");
  const today = floorToBucket(now.getTime(), "day");
  const range = filterRange(filters);
  let lastDay = today;
  let days = 30;
  let dayTitle = "Messages per day, last 30 days";
  if (filters.from || filters.until) {
    lastDay = range.end ? floorToBucket(range.end.getTime() - 1, "day") : today;
    const firstDay = range.start
      ? floorToBucket(range.start.getTime(), "day")
      : lastDay - 29 * DAY_MS;
    days = Math.max(1, Math.min(MAX_DAYS, Math.round((lastDay - firstDay) / DAY_MS) + 1));
    dayTitle = `Messages per day, ${formatBucket(bucketKey(new Date(lastDay - (days - 1) * DAY_MS), "day"), "day")} to ${formatBucket(bucketKey(new Date(lastDay), "day"), "day")}`;
  }
  return Promise.all([
    chartOver(
      ctx,
      filters,
      "hour",
      thisHour - 47 * HOUR_MS,
      48,
      "Messages per hour, last 48 hours",
    ),
    chartOver(ctx, filters, "day", lastDay - (days - 1) * DAY_MS, days, dayTitle),
  ]);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-12-02T14" -> "2 Dec 14:00"; "2026-12-02" -> "2 Dec 2026" (India time). */
export function formatBucket(key: string, unit: "hour" | "day"): string {
  const [year, month, day] = key.slice(0, 10).split("-").map(Number) as [number, number, number];
  const date = `${day} ${MONTHS[month - 1]}`;
  return unit === "hour" ? `${date} ${key.slice(11, 13)}:00` : `${date} ${year}`;
}

function total(counts: Record<SeriesKey, number>): number {
  return CHART_SERIES.reduce((n, s) => n + counts[s.key], 0);
}

function bucketSummary(bucket: ChartBucket, unit: "hour" | "day"): string {
  const parts = CHART_SERIES.filter((s) => bucket.counts[s.key] > 0).map(
    (s) => `${formatNumber(bucket.counts[s.key])} ${s.label.toLowerCase()}`,
  );
  return `${formatBucket(bucket.key, unit)}: ${plural(total(bucket.counts), "message")}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

export function chartSummary(chart: ChartData): string {
  const sums = emptyCounts();
  for (const b of chart.buckets) for (const s of CHART_SERIES) sums[s.key] += b.counts[s.key];
  const all = total(sums);
  if (all === 0) return `${chart.title}: no messages.`;
  const busiest = chart.buckets.reduce((a, b) => (total(b.counts) > total(a.counts) ? b : a));
  const parts = CHART_SERIES.filter((s) => sums[s.key] > 0).map(
    (s) => `${sums[s.key]} ${s.label.toLowerCase()}`,
  );
  return `${chart.title}: ${plural(all, "message")} (${parts.join(", ")}); the busiest ${chart.unit} was ${formatBucket(busiest.key, chart.unit)} with ${total(busiest.counts)}.`;
}

/** Fill patterns, one per series, so the stack reads in greyscale and in print. */
function Patterns({ id }: { id: string }) {
  return (
    <defs>
      <pattern id={`${id}-delivered`} width="4" height="4" patternUnits="userSpaceOnUse">
        <rect width="4" height="4" fill="#1d6b3a" />
      </pattern>
      <pattern
        id={`${id}-sent`}
        width="6"
        height="6"
        patternUnits="userSpaceOnUse"
        patternTransform="rotate(45)"
      >
        <rect width="6" height="6" fill="#d9ecf7" />
        <line x1="0" y1="0" x2="0" y2="6" stroke="#1f5f8b" stroke-width="3" />
      </pattern>
      <pattern id={`${id}-captured`} width="6" height="6" patternUnits="userSpaceOnUse">
        <rect width="6" height="6" fill="#eeeeee" />
        <line x1="0" y1="3" x2="6" y2="3" stroke="#555555" stroke-width="1.5" />
      </pattern>
      <pattern id={`${id}-queued`} width="6" height="6" patternUnits="userSpaceOnUse">
        <rect width="6" height="6" fill="#fff4d6" />
        <circle cx="3" cy="3" r="1.5" fill="#8a6100" />
      </pattern>
      <pattern id={`${id}-failed`} width="6" height="6" patternUnits="userSpaceOnUse">
        <rect width="6" height="6" fill="#f7d9d9" />
        <path d="M0 0L6 6M6 0L0 6" stroke="#a32020" stroke-width="1.5" />
      </pattern>
      <pattern id={`${id}-unknown`} width="6" height="6" patternUnits="userSpaceOnUse">
        <rect width="6" height="6" fill="#ead9f2" />
        <text x="1" y="6" font-size="6" fill="#5b2a73">
          ?
        </text>
      </pattern>
    </defs>
  );
}

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 40;
const BOTTOM = 24;

export function Chart({ chart, id }: { chart: ChartData; id: string }) {
  const max = Math.max(1, ...chart.buckets.map((b) => total(b.counts)));
  const plotWidth = WIDTH - LEFT - 4;
  const plotHeight = HEIGHT - BOTTOM - 8;
  const slot = plotWidth / chart.buckets.length;
  const barWidth = Math.max(1, slot * 0.8);
  const labelEvery = chart.unit === "hour" ? 6 : Math.max(1, Math.ceil(chart.buckets.length / 8));
  return (
    <figure class="sms-chart">
      <figcaption safe>{chart.title}</figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-label={chartSummary(chart)}
        xmlns="http://www.w3.org/2000/svg"
      >
        <Patterns id={id} />
        <line x1={LEFT} y1={8} x2={LEFT} y2={8 + plotHeight} stroke="#666" />
        <line x1={LEFT} y1={8 + plotHeight} x2={WIDTH - 4} y2={8 + plotHeight} stroke="#666" />
        <text x={LEFT - 4} y={14} text-anchor="end" font-size="10" safe>
          {formatNumber(max)}
        </text>
        <text x={LEFT - 4} y={8 + plotHeight} text-anchor="end" font-size="10">
          0
        </text>
        {chart.buckets.map((bucket, i) => {
          const x = LEFT + i * slot + (slot - barWidth) / 2;
          let y = 8 + plotHeight;
          const rects = CHART_SERIES.filter((s) => bucket.counts[s.key] > 0).map((s) => {
            const h = (bucket.counts[s.key] / max) * plotHeight;
            y -= h;
            return (
              <rect
                class={`bar-${s.key}`}
                x={x.toFixed(1)}
                y={y.toFixed(1)}
                width={barWidth.toFixed(1)}
                height={h.toFixed(1)}
                fill={`url(#${id}-${s.key})`}
                stroke="#333"
                stroke-width="0.5"
              />
            );
          });
          return (
            <g data-bucket={bucket.key}>
              <title safe>{bucketSummary(bucket, chart.unit)}</title>
              <rect
                x={(LEFT + i * slot).toFixed(1)}
                y="8"
                width={slot.toFixed(1)}
                height={plotHeight.toFixed(1)}
                fill="transparent"
              />
              {rects}
              {i % labelEvery === 0 ? (
                <text x={x.toFixed(1)} y={HEIGHT - 8} font-size="10" safe>
                  {chart.unit === "hour"
                    ? `${bucket.key.slice(11, 13)}:00`
                    : formatBucket(bucket.key, "day").replace(/ \d{4}$/, "")}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <ul class="chart-legend small">
        {CHART_SERIES.map((s) => (
          <li>
            <svg width="14" height="14" aria-hidden="true" viewBox="0 0 14 14">
              <rect width="14" height="14" fill={`url(#${id}-${s.key})`} stroke="#333" />
            </svg>{" "}
            <span>{s.label}</span>
          </li>
        ))}
      </ul>
      <p class="hint small">
        Stacked from the bottom in this order. Skipped and cancelled messages are not drawn.
      </p>
      <details>
        <summary>The numbers as a table</summary>
        <ChartTable chart={chart} />
      </details>
    </figure>
  );
}

export function ChartTable({ chart }: { chart: ChartData }) {
  // Wider than a phone: it scrolls in its box, which takes the focus so keys can scroll it.
  return (
    <section class="table-wrap" aria-label={`${chart.title}: the numbers`} tabindex="0">
      <table class="chart-data" data-unit={chart.unit}>
        <thead>
          <tr>
            <th scope="col">{chart.unit === "hour" ? "Hour (IST)" : "Day (IST)"}</th>
            {CHART_SERIES.map((s) => (
              <th scope="col">{s.label}</th>
            ))}
            <th scope="col">All</th>
          </tr>
        </thead>
        <tbody>
          {chart.buckets.map((b) => (
            <tr data-bucket={b.key}>
              <th scope="row" safe>
                {formatBucket(b.key, chart.unit)}
              </th>
              {CHART_SERIES.map((s) => (
                <td data-series={s.key} safe>
                  {formatNumber(b.counts[s.key])}
                </td>
              ))}
              <td data-series="all" safe>
                {formatNumber(total(b.counts))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
