// CSV downloads of the dashboard's lists: streamed row by row (never the whole export in memory),
// each cell that a spreadsheet would run as a formula kept as text.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import Papa from 'papaparse';

/** A text cell that a spreadsheet would run as a formula is kept as text (CSV injection). */
export function safeCell(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) && !/^-?\d+$/.test(cell) ? `'${cell}` : cell;
}

/** A CSV download streamed row by row: the header line, then one line per row. */
export function sendCsv<Row>(
  reply: FastifyReply,
  filename: string,
  columns: readonly string[],
  rows: AsyncIterable<Row>,
  cells: (row: Row) => readonly string[],
): FastifyReply {
  void reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store');
  async function* lines(): AsyncGenerator<string> {
    yield `${Papa.unparse([[...columns]])}\r\n`;
    for await (const row of rows) yield `${Papa.unparse([cells(row).map(safeCell)])}\r\n`;
  }
  return reply.send(Readable.from(lines()));
}
