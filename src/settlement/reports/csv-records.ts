// CSV records, with the line each starts on, from text as it arrives: parsed by papaparse and
// held strict (RFC 4180; line ends LF or CRLF; empty lines skipped; a leading BOM dropped).
//
// papaparse's own streaming (`Papa.parse(stream)`) decodes each Buffer chunk on its own (a UTF-8
// character cut between chunks breaks) and keeps an unfinished record without bound (a quote
// never closed holds the rest of the report), so its parser is driven here chunk by chunk: the
// text after the last complete record is kept, at most `recordLengthMax` characters, and parsed
// again with the next chunk. papaparse reports bad quoting in `errors` rather than throwing; each
// is a CsvSyntaxError naming the line. What papaparse lets through is checked here:
// - a quote inside an unquoted field (`x,y"z`: papaparse keeps the quote as text);
// - spaces between a closing quote and the next comma or line end (`"x" ,y`: papaparse drops them);
// - a record longer than `recordLengthMax` (papaparse has no limit);
// - the line numbers (papaparse counts records, and a quoted field may span lines).
// Text without a quote (reports almost never quote) is parsed a chunk at a time; text with one
// record by record (papaparse's `step`), each such record checked to be exactly the RFC 4180 text
// of the fields papaparse found.
import Papa from 'papaparse';

export type CsvRecord = { readonly cells: string[]; readonly line: number };

export class CsvSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

/** What papaparse's error codes mean here (the others need a header or a guessed delimiter). */
const papaErrors: Readonly<Record<string, string>> = {
  MissingQuotes: 'a quoted field is not closed',
  InvalidQuotes: 'text after a closing quote',
};

type PapaResult = {
  readonly data: string[][];
  readonly errors: readonly { readonly code: string; readonly message: string }[];
  readonly meta: { readonly cursor: number };
};

/** papaparse's settings: comma, LF (a CR before it is dropped here), no typing, no header. */
const papaConfig = {
  delimiter: ',',
  newline: '\n',
  quoteChar: '"',
  escapeChar: '"',
  header: false,
  dynamicTyping: false,
  comments: false,
} as const;

export class CsvRecords {
  readonly #recordLengthMax: number;
  /** Text after the last complete record. */
  #rest = '';
  /** Lines consumed so far. */
  #lines = 0;
  #started = false;
  /** For text without a quote: every row of a chunk at once, one row a line. */
  readonly #rows = new Papa.Parser({ ...papaConfig });
  /** For text with a quote: row by row, with where each ends. */
  readonly #steps: Papa.Parser;
  #stepped: { row: string[]; errors: PapaResult['errors']; end: number }[] = [];

  constructor(options: { readonly recordLengthMax: number }) {
    this.#recordLengthMax = options.recordLengthMax;
    this.#steps = new Papa.Parser({
      ...papaConfig,
      // The Parser itself (unlike Papa.parse) hands a step its row inside an array.
      step: (stepResult) => {
        const result = stepResult as unknown as PapaResult;
        this.#stepped.push({
          row: result.data[0] ?? [],
          errors: result.errors,
          end: result.meta.cursor,
        });
      },
    });
  }

  /** The records `text` completes; `final` says no more text follows. */
  push(text: string, final: boolean): CsvRecord[] {
    let data = this.#rest + text;
    if (!this.#started && data.length > 0) {
      this.#started = true;
      if (data.charCodeAt(0) === 0xfeff) data = data.slice(1);
    }
    const records: CsvRecord[] = [];
    // Without `final`, papaparse leaves out the last row (it may not be complete) and its errors
    // (they may come from the cut): both are read again with the next text.
    const next = data.includes('"')
      ? this.#quoted(data, final, records)
      : this.#plain(data, final, records);
    this.#rest = data.slice(next);
    if (this.#rest.length > this.#recordLengthMax)
      throw new CsvSyntaxError(
        `a record longer than ${this.#recordLengthMax} characters`,
        this.#lines + 1,
      );
    if (final && this.#rest.length > 0)
      throw new CsvSyntaxError('the text ends inside a record', this.#lines + 1);
    return records;
  }

  /** Text without a quote: one row a line. Returns where the unread text starts. */
  #plain(data: string, final: boolean, records: CsvRecord[]): number {
    const result = this.#rows.parse(data, 0, !final) as PapaResult;
    const rows = result.data;
    // With `final`, text ending in a line end gives one more, empty row: not a line.
    const count = final && data.endsWith('\n') ? rows.length - 1 : rows.length;
    for (let index = 0; index < count; index++) {
      const cells = rows[index] as string[];
      this.#lines++;
      let length = cells.length - 1;
      for (const cell of cells) length += cell.length;
      if ((cells[cells.length - 1] as string).endsWith('\r')) length--;
      this.#record(cells, length, true, records, this.#lines);
    }
    return result.meta.cursor;
  }

  /** Text with a quote: row by row, each checked. Returns where the unread text starts. */
  #quoted(data: string, final: boolean, records: CsvRecord[]): number {
    this.#stepped = [];
    const result = this.#steps.parse(data, 0, !final) as PapaResult;
    let start = 0;
    for (const { row: cells, errors, end } of this.#stepped) {
      const from = start;
      start = end;
      // With `final`, text ending in a line end gives one more, empty row: not a line.
      if (end === from) continue;
      const line = this.#lines + 1;
      // The record's text without its line end.
      let last = end;
      if (data.charCodeAt(last - 1) === 10) last--;
      else this.#lines++;
      for (let at = data.indexOf('\n', from); at >= 0 && at < end; at = data.indexOf('\n', at + 1))
        this.#lines++;
      const [error] = errors;
      if (error !== undefined)
        throw new CsvSyntaxError(papaErrors[error.code] ?? `not valid CSV (${error.code})`, line);
      const problem = rfc4180Problem(data, from, last, cells);
      if (problem !== undefined) throw new CsvSyntaxError(problem, line);
      // A CRLF's CR: in the last cell if that is not quoted (dropped by #record), else dropped by
      // papaparse (after a closing quote); a CR inside quotes is kept.
      const cr = data.charCodeAt(last - 1) === 13;
      if (cr) last--;
      this.#record(cells, last - from, cr && data.charCodeAt(last - 1) !== 34, records, line);
    }
    const [error] = result.errors;
    if (final && error !== undefined)
      throw new CsvSyntaxError(
        papaErrors[error.code] ?? `not valid CSV (${error.code})`,
        this.#lines + 1,
      );
    return result.meta.cursor;
  }

  /**
   * Keeps a row unless it is an empty line. `unquotedEnd`: the last field is not quoted and the
   * line ends in CRLF: the CR papaparse left at the end of the last cell is dropped.
   */
  #record(
    cells: string[],
    length: number,
    unquotedEnd: boolean,
    records: CsvRecord[],
    line: number,
  ): void {
    if (length > this.#recordLengthMax)
      throw new CsvSyntaxError(`a record longer than ${this.#recordLengthMax} characters`, line);
    const last = cells.length - 1;
    const lastCell = cells[last] as string;
    if (unquotedEnd && lastCell.endsWith('\r')) cells[last] = lastCell.slice(0, -1);
    if (last === 0 && cells[0] === '') return;
    records.push({ cells, line });
  }
}

/**
 * Why `data` from `start` to `end` (a record's text, without its LF) is not exactly the
 * RFC 4180 text of `cells` (as papaparse read them), or undefined if it is: finds what papaparse
 * lets through.
 */
function rfc4180Problem(
  data: string,
  start: number,
  end: number,
  cells: readonly string[],
): string | undefined {
  let at = start;
  for (let index = 0; index < cells.length; index++) {
    if (index > 0) {
      if (data.charCodeAt(at) !== 44) return `unexpected ${JSON.stringify(data[at])} after a field`;
      at++;
    }
    const cell = cells[index] as string;
    if (data.charCodeAt(at) === 34) {
      // Quoted: the field's text is its value with each quote doubled, between quotes.
      let quotes = 0;
      for (let q = cell.indexOf('"'); q >= 0; q = cell.indexOf('"', q + 1)) quotes++;
      at += cell.length + quotes + 2;
      if (data.charCodeAt(at - 1) !== 34) return 'text after a closing quote';
    } else {
      if (cell.includes('"')) return 'a quote inside an unquoted field';
      at += cell.length;
    }
  }
  // A CR before the line end: papaparse leaves it in an unquoted last field, drops it after a quote.
  if (at === end || (at === end - 1 && data.charCodeAt(at) === 13)) return undefined;
  return `unexpected ${JSON.stringify(data[at])} after a field`;
}
