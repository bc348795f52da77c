// What the acquirer, the bank and the reports share: a streamed NDJSON line reader with bounded
// memory per line, the dates they derive from Payrail's timestamps (never from a clock of their
// own), and the small validators of their admin settings.
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { isPlainObject } from '../json.ts';

export const LINE_BYTES_MAX = 64 * 1024;
export const DAY_MS = 86_400_000;

/**
 * Calls onLine for every non-empty line of the request body (split on \n, a trailing \r dropped),
 * in order, as the body streams in. onLine returns an error text to stop reading: the rest is
 * drained unread. done gets the first error (or undefined) once the body has ended.
 */
export function readLines(
  req: IncomingMessage,
  onLine: (line: string, lineNumber: number) => string | undefined,
  done: (error: string | undefined) => void,
): void {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNumber = 0;
  let error: string | undefined;
  const take = (line: string): void => {
    lineNumber += 1;
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (trimmed.trim() === '') return;
    error = onLine(trimmed, lineNumber);
  };
  req.on('error', () => undefined);
  req.on('data', (chunk: Buffer) => {
    if (error !== undefined) return;
    let text = rest + decoder.write(chunk);
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      take(text.slice(start, end));
      start = end + 1;
      if (error !== undefined) return;
    }
    text = text.slice(start);
    if (text.length > LINE_BYTES_MAX) {
      error = `line ${lineNumber + 1} is longer than ${LINE_BYTES_MAX} characters`;
      return;
    }
    rest = text;
  });
  let finished = false;
  req.on('end', () => {
    if (finished) return;
    finished = true;
    if (error === undefined) {
      const last = rest + decoder.end();
      if (last !== '') take(last);
    }
    done(error);
  });
  // A client that goes away mid-body (a killed Payrail) ends the submission too: nothing is
  // recorded, and a resubmission of the same batch id does not wait for it forever.
  req.on('close', () => {
    if (finished || req.readableEnded) return;
    finished = true;
    done('the request was aborted before its end');
  });
  // A body paused while another submission of the same batch was read flows again now.
  req.resume();
}

/** Parses an ISO-8601 timestamp with a date, a time and a zone (Z or ±hh:mm); else NaN. */
export function parseTimestamp(value: unknown): number {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  )
    return Number.NaN;
  return Date.parse(value);
}

/**
 * The calendar date a timestamp Payrail sent is written in, YYYY-MM-DD: its own offset's date
 * (2026-03-10T20:00:00-05:00 is 2026-03-10; with Z, the UTC date). Call after parseTimestamp.
 */
export function writtenDate(timestamp: string): string {
  return timestamp.slice(0, 10);
}

/** The UTC calendar date of an instant, YYYY-MM-DD. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && utcDate(ms) === value;
}

export function addDays(date: string, days: number): string {
  return utcDate(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS);
}

/** The next business day after date (Saturday and Sunday skipped; no holidays). */
export function nextBusinessDay(date: string): string {
  let next = addDays(date, 1);
  for (;;) {
    const weekday = new Date(`${next}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) return next;
    next = addDays(next, 1);
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Reads the fields of an admin settings body over defaults; unknown fields are refused. */
export function readSettings<T extends Record<string, unknown>>(
  body: unknown,
  defaults: T,
  check: (key: string, value: unknown) => string | undefined,
): Parsed<T> {
  if (!isPlainObject(body)) return { ok: false, message: 'body must be a JSON object' };
  const result: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(body)) {
    if (!(key in defaults))
      return {
        ok: false,
        message: `unknown field "${key}"; fields are ${Object.keys(defaults).join(', ')}`,
      };
    const problem = check(key, value);
    if (problem !== undefined) return { ok: false, message: `${key}: ${problem}` };
    result[key] = value;
  }
  return { ok: true, value: result as T };
}

export function checkRate(value: unknown): string | undefined {
  return typeof value === 'number' && value >= 0 && value <= 1
    ? undefined
    : 'must be a number from 0 to 1';
}

export function checkInteger(value: unknown, min: number, max: number): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
    ? undefined
    : `must be an integer from ${min} to ${max}`;
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}

export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ error: { code, message, ...extra } });
}

/** The call faults the acquirer and the bank share: counted ones first, then the rates. */
export type CallFaults = {
  errorRate: number;
  lostResponseRate: number;
  errorNext: number;
  loseNext: number;
};

/**
 * Whether this call fails with a 500 (nothing recorded) or loses its answer (recorded). Both draws
 * are made on every call, so a seeded run draws the same sequence whichever fault fires.
 */
export function drawCallFault(
  faults: CallFaults | undefined,
  random: () => number,
): { error: boolean; lost: boolean } {
  if (faults === undefined) return { error: false, lost: false };
  const errorDraw = random();
  const lostDraw = random();
  if (faults.errorNext > 0) {
    faults.errorNext -= 1;
    return { error: true, lost: false };
  }
  if (faults.loseNext > 0) {
    faults.loseNext -= 1;
    return { error: false, lost: true };
  }
  return { error: errorDraw < faults.errorRate, lost: lostDraw < faults.lostResponseRate };
}
