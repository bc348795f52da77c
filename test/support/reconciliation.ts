// Reconciliation against the simulator (issue 12): seed known discrepancies through its admin API
// (`PUT /_sim/reconciliation`), read back exactly what it injected
// (`GET /_sim/ground_truth/reconciliation`), and download a day's PSP reports and bank statement
// as the files an operator would upload (`/_sim/files`). See sim/CONTRACT.md "Reconciliation seeding".
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../../src/storage/database.ts';

export type SeededKind =
  | 'missing_line'
  | 'unexpected_line'
  | 'duplicate_line'
  | 'fee_variance'
  | 'amount_off_by_one'
  | 'late_line'
  | 'payout_returned'
  | 'split_settlement';

/**
 * What PUT /_sim/reconciliation takes; every field optional. Targets: PSP references for the line
 * kinds, batch ids (Payrail's) for unexpected_line and split_settlement, payout ids for
 * payout_returned. Rates are per accepted item for the line kinds (their sum at most 1), per
 * settlement for split_settlement, per paid payout for payout_returned.
 */
export type SeedingInput = {
  readonly seed?: number;
  readonly rates?: Partial<Record<SeededKind, number>>;
  readonly targets?: Partial<Record<SeededKind, readonly string[]>>;
  readonly feeVariance?: number;
  readonly amountOffBy?: 1 | -1;
  readonly unexpectedAmount?: number | null;
  readonly returnCode?: string;
  readonly returnAfterDays?: number;
};

export type Injected = {
  readonly kind: SeededKind;
  readonly connector: string | null;
  readonly currency: string;
  readonly subject: {
    readonly psp_reference?: string;
    readonly settlement_reference?: string;
    readonly payout_id?: string;
    readonly batch_id?: string;
  };
  readonly amount?: number;
  readonly details: Record<string, unknown>;
};

export type ReportListing = {
  readonly psp: string;
  readonly currency: string;
  readonly batch_id: string;
  readonly settlement_reference: string;
  readonly cutoff_at: string;
  readonly settles_on: string;
  readonly lines: number;
  readonly payout_amount: number;
  readonly filename: string;
  readonly path: string;
};

export type DayFiles = {
  readonly date: string;
  readonly reports: readonly ReportListing[];
  readonly statement: { readonly filename: string; readonly path: string };
};

export type DownloadedFile = {
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: Buffer;
};

type Simulator = { readonly url: string };

async function adminCall(
  simulator: Simulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${simulator.url}/_sim${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`simulator ${method} /_sim${path}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** Replaces the seeding settings (the PRNG restarts from `seed`); returns them with defaults filled. */
export async function setSeeding(
  simulator: Simulator,
  input: SeedingInput,
): Promise<Record<string, unknown>> {
  const body = (await adminCall(simulator, 'PUT', '/reconciliation', input)) as {
    reconciliation: Record<string, unknown>;
  };
  return body.reconciliation;
}

/** Turns seeding off (what was injected stays listed until POST /_sim/reset). */
export async function clearSeeding(simulator: Simulator): Promise<void> {
  await adminCall(simulator, 'DELETE', '/reconciliation');
}

/** Everything the simulator injected, in its stable order; filtered by psp and/or kind. */
export async function injectedDiscrepancies(
  simulator: Simulator,
  filter: { readonly psp?: string; readonly kind?: SeededKind } = {},
): Promise<Injected[]> {
  const query = new URLSearchParams();
  if (filter.psp !== undefined) query.set('psp', filter.psp);
  if (filter.kind !== undefined) query.set('kind', filter.kind);
  const search = query.size === 0 ? '' : `?${query.toString()}`;
  const body = (await adminCall(simulator, 'GET', `/ground_truth/reconciliation${search}`)) as {
    injected: Injected[];
  };
  return body.injected;
}

/** The reports of the batches cut off on `date` (YYYY-MM-DD) and that day's statement. */
export async function dayFiles(
  simulator: Simulator,
  date: string,
  psp?: string,
): Promise<DayFiles> {
  const query = new URLSearchParams({ date, ...(psp === undefined ? {} : { psp }) });
  return (await adminCall(simulator, 'GET', `/files?${query.toString()}`)) as DayFiles;
}

/** One file under /_sim/files (a listing's `path`), whole. */
export async function downloadFile(simulator: Simulator, path: string): Promise<DownloadedFile> {
  const response = await fetch(`${simulator.url}${path}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200)
    throw new Error(`simulator GET ${path}: ${response.status} ${bytes.toString('utf8')}`);
  const disposition = response.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1];
  if (filename === undefined) throw new Error(`simulator GET ${path}: no file name`);
  return { filename, contentType: response.headers.get('content-type') ?? '', bytes };
}

export function downloadReport(
  simulator: Simulator,
  psp: string,
  settlementReference: string,
): Promise<DownloadedFile> {
  return downloadFile(
    simulator,
    `/_sim/files/reports/${psp}/${encodeURIComponent(settlementReference)}`,
  );
}

/** The camt.053 statement of a booking date (all currencies, or one). */
export function downloadStatement(
  simulator: Simulator,
  date: string,
  currency?: string,
): Promise<DownloadedFile> {
  const query = currency === undefined ? '' : `?currency=${encodeURIComponent(currency)}`;
  return downloadFile(simulator, `/_sim/files/statements/${date}${query}`);
}

/**
 * Writes a day's report files and the statement of `statementDate` (default: the same day) into
 * `directory`; returns the paths written, reports first (acknowledgement order), then the statement.
 */
export async function saveDayFiles(
  simulator: Simulator,
  date: string,
  directory: string,
  statementDate = date,
): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  const listing = await dayFiles(simulator, date);
  const paths: string[] = [];
  for (const report of listing.reports) {
    const file = await downloadFile(simulator, report.path);
    const path = join(directory, file.filename);
    await writeFile(path, file.bytes);
    paths.push(path);
  }
  const statement = await downloadStatement(simulator, statementDate);
  const statementPath = join(directory, statement.filename);
  await writeFile(statementPath, statement.bytes);
  paths.push(statementPath);
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Scoring reconciliation against what the simulator injected (precision and recall), shared by
// the end-to-end test and the chaos run's final check: an injected discrepancy and an exception
// are compared as `<reason> <subject>`, where the subject is `psp:<psp_reference>` for a report
// line, `payout:<id>` for a payout and `batch:<id>` for a settlement's bank movement.

/** What a reconciliation exception looks like over HTTP (`GET /v1/reconciliation/exceptions`). */
export type ExceptionJson = {
  readonly id: string;
  readonly reason: string;
  readonly source: string;
  readonly expectation: string | null;
  readonly record: { readonly source: string; readonly key: string } | null;
  readonly details: Record<string, unknown>;
  readonly status: string;
  readonly amount: number | null;
};

/** An exception reconciliation must raise (or did raise): its reason and what it is about. */
export type ExpectedException = { readonly reason: string; readonly subject: string };

/** The reason each injected kind must be raised with; a split settlement raises nothing. */
export const reasonOfKind: Readonly<Record<SeededKind, string | undefined>> = {
  missing_line: 'missing',
  unexpected_line: 'unexpected',
  duplicate_line: 'duplicate',
  fee_variance: 'fee_variance',
  amount_off_by_one: 'amount_mismatch',
  late_line: 'late',
  payout_returned: 'returned',
  // Matched in aggregate: two credits for one batch's net.
  split_settlement: undefined,
};

/**
 * The exception an injected discrepancy must raise, or undefined (a split settlement). A late line
 * that no later report carried (`details.reported_in` null: no later batch of its PSP and
 * currency) has not arrived, and nothing was paid for it: by the run it is `missing`.
 */
export function expectedExceptionOf(entry: Injected): ExpectedException | undefined {
  if (entry.kind === 'payout_returned')
    return { reason: 'returned', subject: `payout:${String(entry.subject.payout_id)}` };
  const reason =
    entry.kind === 'late_line' && entry.details.reported_in === null
      ? 'missing'
      : reasonOfKind[entry.kind];
  if (reason === undefined) return undefined;
  return { reason, subject: `psp:${String(entry.subject.psp_reference)}` };
}

/**
 * What an exception is about, in the subjects of `expectedExceptionOf`: a payout's or a batch's
 * expectation names itself; an item's (`item:<balance transaction>`) is named by its PSP
 * reference (`pspReferenceOf`: expectation key → PSP reference); a record with no expectation (an
 * unexpected line) by the record's PSP reference.
 */
export function exceptionSubject(
  exception: Pick<ExceptionJson, 'expectation' | 'details'>,
  pspReferenceOf: ReadonlyMap<string, string>,
): string {
  const { expectation } = exception;
  if (expectation !== null && /^(payout|batch):/.test(expectation)) return expectation;
  const reference =
    (expectation === null ? undefined : pspReferenceOf.get(expectation)) ??
    exception.details.psp_reference;
  return `psp:${String(reference)}`;
}

/** `<reason> <subject>`: how expected and raised exceptions are compared. */
export function exceptionKey(exception: ExpectedException): string {
  return `${exception.reason} ${exception.subject}`;
}

/** Item expectation keys (`item:<balance transaction>`) → PSP references, from Payrail's database. */
export async function pspReferencesOfItems(database: Queryable): Promise<Map<string, string>> {
  const rows = await database.query<{ id: string; psp_reference: string }>(
    'SELECT id, psp_reference FROM balance_transactions WHERE psp_reference IS NOT NULL',
  );
  return new Map(rows.rows.map((row) => [`item:${row.id}`, row.psp_reference]));
}
