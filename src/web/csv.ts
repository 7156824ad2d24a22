import { pipeline, Readable } from "node:stream";
import { stringify } from "csv-stringify";
import type { FastifyReply } from "fastify";
import { formatCsvDateTime } from "./time.ts";

/**
 * Exports as CSV, the one way: every cell guarded against formula injection, streamed from an
 * async source (a page of rows at a time) so a large export never sits in memory whole, and sent
 * with the type and a dated file name.
 */

export type CsvValue = string | number | null | undefined;

/**
 * A cell a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage
 * return) gets a leading ' so it stays text (OWASP's advice). A plain number with its sign
 * ("+919876543210", "-2") is no formula and is left as it is, so phone numbers stay usable.
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  if (/^[+-]?[0-9]+(\.[0-9]+)?$/.test(text)) return text;
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** "students-2026-12-06.csv": the name and the day of the export, in India time. */
export function csvFilename(name: string, now: Date): string {
  return `${name}-${formatCsvDateTime(now.toISOString()).slice(0, 10)}.csv`;
}

/**
 * Sends `rows` (each an array of cells in `columns`' order) as a CSV download named `filename`,
 * streamed: the next rows are read only as the client takes the previous ones. A failure after
 * the first bytes ends the download short (the error is logged); before it, it is the usual
 * error page.
 */
export function sendCsv(
  reply: FastifyReply,
  filename: string,
  columns: readonly string[],
  rows: AsyncIterable<readonly CsvValue[]>,
) {
  async function* guarded() {
    for await (const row of rows) yield row.map(csvCell);
  }
  const body = pipeline(
    Readable.from(guarded()),
    stringify({ header: true, columns: [...columns] }),
    (error) => {
      if (error) reply.log.error({ err: error }, "CSV export failed part-way");
    },
  );
  return reply
    .type("text/csv; charset=utf-8")
    .header("Content-Disposition", `attachment; filename="${filename}"`)
    .header("Cache-Control", "private, no-store")
    .send(body);
}
