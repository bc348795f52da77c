// Reconciliation against the simulator (issue 12): seed known discrepancies through its admin API
// (`PUT /_sim/reconciliation`), read back exactly what it injected
// (`GET /_sim/ground_truth/reconciliation`), and download a day's PSP reports and bank statement
// as the files an operator would upload (`/_sim/files`). See sim/CONTRACT.md "Reconciliation seeding".
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
