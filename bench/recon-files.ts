// The external side of the reconciliation benchmark (bench/recon.ts): PSP settlement reports in the
// simulator's Adyen CSV style (sim/money-out/reports.ts ADYEN_COLUMNS) and the bank's camt.053.001.08
// statements (as sim/money-out/bank.ts writes them), generated from the seeded ledger side with 1 %
// seeded discrepancies and the benchmark's own ground truth. Everything is streamed: items are read
// from the database a page at a time and each line is written to a file stream with backpressure;
// memory holds a page, the (bounded) late lines of one batch and the payouts (one per merchant).
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { ADYEN_COLUMNS } from '../sim/money-out/reports.ts';
import { DEFAULT_FEES, decimalString, itemFees } from '../sim/money-out/fees.ts';
import { acknowledgedStatusesSql } from '../src/settlement/tables.ts';
import type { Queryable } from '../src/storage/database.ts';

/** The seeded discrepancy kinds (RECON-SPEC.md) and the exception reason each must produce. */
export const discrepancyReasons = {
  missing_line: 'missing',
  unexpected_line: 'unexpected',
  duplicate_line: 'duplicate',
  fee_variance: 'fee_variance',
  amount_off_by_one: 'amount_mismatch',
  late_line: 'late',
  payout_returned: 'returned',
  split_settlement: null,
} as const;
export type DiscrepancyKind = keyof typeof discrepancyReasons;

/** One seeded discrepancy: the exception it must produce (none for a split settlement). */
export type TruthEntry = {
  readonly kind: DiscrepancyKind;
  readonly reason: string | null;
  /** The PSP reference (report lines), payout id or settlement reference it is about. */
  readonly subject: string;
};

export type GeneratedFile = {
  readonly path: string;
  readonly name: string;
  readonly format: 'adyen_settlement_csv' | 'camt053';
  readonly connector: string | null;
  /** Data lines (report lines, statement entries). */
  readonly records: number;
  readonly bytes: number;
};

/** What a batch's report says in all (what the PSP pays and keeps). */
export type BatchReport = {
  readonly batchId: string;
  readonly connector: string;
  readonly currency: string;
  readonly settlementReference: string;
  /** Σ net of every line of the report (what the bank credit carries). */
  readonly net: bigint;
  /** Σ fee of the lines that are the batch's items (first occurrence): what ingestion posts. */
  readonly matchedFee: bigint;
  readonly settlementDay: string;
};

export type Generated = {
  readonly files: GeneratedFile[];
  readonly truth: TruthEntry[];
  readonly reports: BatchReport[];
  readonly reportLines: number;
  readonly statementEntries: number;
  /** The last booking date of the statements (the run reconciles through it). */
  readonly lastDay: string;
};

/** Items read from the database per query. */
const pageSize = 20_000;
/** One item in 100 carries a discrepancy (the line kinds in turn). */
const discrepancyEvery = 100;
const lineKinds: readonly DiscrepancyKind[] = [
  'missing_line',
  'unexpected_line',
  'duplicate_line',
  'fee_variance',
  'amount_off_by_one',
  'late_line',
];

// ---------------------------------------------------------------------------------------------
// Days

/** YYYY-MM-DD plus calendar days. */
export function plusDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The next business day after a day (Saturday and Sunday skipped), as the simulator dates. */
export function nextBusinessDay(day: string): string {
  let next = plusDays(day, 1);
  for (;;) {
    const weekday = new Date(`${next}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) return next;
    next = plusDays(next, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Streaming writes

/** A file written line by line, waiting for the stream to drain (never the whole file in memory). */
class LineFile {
  readonly #stream: fs.WriteStream;
  #buffer = '';
  bytes = 0;
  constructor(file: string) {
    this.#stream = fs.createWriteStream(file, { encoding: 'utf8' });
  }
  async write(text: string): Promise<void> {
    this.#buffer += text;
    if (this.#buffer.length >= 64 * 1024) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.#buffer === '') return;
    const chunk = this.#buffer;
    this.#buffer = '';
    this.bytes += Buffer.byteLength(chunk);
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }
}

// ---------------------------------------------------------------------------------------------
// PSP reports (Adyen settlement detail CSV, one file per batch)

type Item = {
  id: string;
  type: 'charge' | 'refund';
  amount: bigint;
  psp_reference: string;
  reference: string;
};

type ReportBatch = {
  id: string;
  connector: string;
  currency: string;
  settlement_reference: string;
  cutoff_at: Date;
};

/** One report line's values (amount signed: + charge, − refund; fee components). */
type Line = {
  pspReference: string;
  reference: string;
  charge: boolean;
  gross: number;
  commission: number;
  markup: number;
  schemeFee: number;
  interchange: number;
  created: string;
};

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A line in ADYEN_COLUMNS order, as sim/money-out/reports.ts adyenRows writes it. */
function adyenLine(line: Line, currency: string, batchNumber: string): string {
  const money = (minor: number) => decimalString(minor, currency);
  const code = currency.toUpperCase();
  const fees = line.commission + line.markup + line.schemeFee + line.interchange;
  const net = line.charge ? line.gross - fees : line.gross + fees;
  return `${[
    'PayrailSim',
    'PayrailSimECOM',
    line.pspReference,
    line.reference,
    'visa',
    line.created,
    'UTC',
    line.charge ? 'Settled' : 'Refunded',
    line.charge ? '' : line.pspReference,
    code,
    line.charge ? '' : money(line.gross),
    line.charge ? money(line.gross) : '',
    '1',
    code,
    line.charge ? '' : money(net),
    line.charge ? money(net) : '',
    money(line.commission),
    money(line.markup),
    money(line.schemeFee),
    money(line.interchange),
    batchNumber,
  ]
    .map(csvField)
    .join(',')}\n`;
}

function lineOf(item: Item, connector: string, created: string): Line {
  const charge = item.type === 'charge';
  const gross = Number(charge ? item.amount : -item.amount);
  const schedule = DEFAULT_FEES[connector] ?? DEFAULT_FEES.adyen;
  if (schedule === undefined) throw new Error(`no fee schedule for ${connector}`);
  const fees = itemFees(schedule, charge ? 'capture' : 'refund', gross);
  return {
    pspReference: item.psp_reference,
    reference: item.reference,
    charge,
    gross,
    commission: fees.commission + fees.tax,
    markup: fees.markup,
    schemeFee: fees.schemeFee,
    interchange: fees.interchange,
    created,
  };
}

const lineFee = (line: Line) => line.commission + line.markup + line.schemeFee + line.interchange;
const lineNet = (line: Line) => {
  const fee = lineFee(line);
  return line.charge ? line.gross - fee : -(line.gross + fee);
};

/** Where the discrepancies are: a counter over all items; state shared by every batch. */
class Seeder {
  items = 0;
  pending = false;
  kinds = 0;
  unexpected = 0;
  readonly truth: TruthEntry[] = [];

  /**
   * The discrepancy this item gets (only charges get one: a pending one moves to the next). A late
   * line needs a later report of its PSP and currency to carry it: without one, the next kind.
   */
  next(item: Item, lateAllowed: boolean): DiscrepancyKind | undefined {
    if (this.items++ % discrepancyEvery === discrepancyEvery / 2) this.pending = true;
    if (!this.pending || item.type !== 'charge') return undefined;
    this.pending = false;
    let kind = lineKinds[this.kinds++ % lineKinds.length];
    if (kind === 'late_line' && !lateAllowed) kind = lineKinds[this.kinds++ % lineKinds.length];
    return kind;
  }

  /**
   * A PSP reference Payrail never captured, in the PSP's style (as the simulator makes them), and
   * a gross above every item's (items are at most 99,999), so that no tolerance pass can pair it
   * with another item's missing line.
   */
  unexpectedLine(connector: string, like: Line): Line {
    const n = ++this.unexpected;
    const digits = (width: number) => String(n).padStart(width, '0');
    const pspReference =
      connector === 'stripe'
        ? `pi_UNEXPECTED${digits(14)}`
        : connector === 'razorpay'
          ? `pay_UNEXP${digits(9)}`
          : `UNEXP${digits(11)}`;
    const item: Item = {
      id: '',
      type: 'charge',
      amount: BigInt(100_000 + n),
      psp_reference: pspReference,
      reference: '',
    };
    return lineOf(item, connector, like.created);
  }

  record(kind: DiscrepancyKind, subject: string): void {
    this.truth.push({ kind, reason: discrepancyReasons[kind], subject });
  }
}

async function* batchItems(db: Queryable, batchId: string): AsyncGenerator<Item[]> {
  let after = '';
  for (;;) {
    const page = await db.query<Item>(
      `SELECT id, type, amount, psp_reference,
              CASE WHEN type = 'charge' THEN coalesce(attempt_id, source) ELSE source END AS reference
         FROM balance_transactions
        WHERE batch_id = $1 AND clearing_status = 'batched' AND id > $2
        ORDER BY id LIMIT $3`,
      [batchId, after, pageSize],
    );
    if (page.rows.length === 0) return;
    yield page.rows.map((row) => ({ ...row, amount: BigInt(row.amount) }));
    after = (page.rows[page.rows.length - 1] as Item).id;
    if (page.rows.length < pageSize) return;
  }
}

/** Writes one batch's report; returns its file and what the report says in all. */
async function writeReport(
  db: Queryable,
  batch: ReportBatch,
  directory: string,
  seeder: Seeder,
  /** Late lines of the PSP's earlier report, carried in this one; this report's go in `late`. */
  carried: readonly Line[],
  late: Line[] | undefined,
  lateLineDate: LateLineDate,
): Promise<{ file: GeneratedFile; report: BatchReport }> {
  const name = `settlement_detail_report_batch_${batch.settlement_reference}_${batch.connector}.csv`;
  const out = new LineFile(path.join(directory, name));
  const cutoff = batch.cutoff_at.toISOString();
  const created = cutoff.slice(0, 19).replace('T', ' ');
  const settlementDay = nextBusinessDay(cutoff.slice(0, 10));
  const extra: Line[] = [];
  let records = 0;
  let net = 0n;
  let matchedFee = 0n;
  const put = async (line: Line) => {
    await out.write(adyenLine(line, batch.currency, batch.settlement_reference));
    records++;
    net += BigInt(lineNet(line));
  };
  await out.write(`${ADYEN_COLUMNS.join(',')}\n`);
  for await (const items of batchItems(db, batch.id)) {
    for (const item of items) {
      const line = lineOf(item, batch.connector, created);
      const kind = seeder.next(item, late !== undefined);
      if (kind !== undefined && kind !== 'unexpected_line') seeder.record(kind, line.pspReference);
      if (kind === 'missing_line') continue;
      if (kind === 'late_line') {
        // Left out here, carried by the PSP's next report with its own creation time.
        late?.push(line);
        continue;
      }
      if (kind === 'fee_variance') line.commission += 7;
      if (kind === 'amount_off_by_one') line.gross += 1;
      await put(line);
      matchedFee += BigInt(lineFee(line));
      if (kind === 'duplicate_line') extra.push(line);
      if (kind === 'unexpected_line') {
        const unexpected = seeder.unexpectedLine(batch.connector, line);
        seeder.record('unexpected_line', unexpected.pspReference);
        extra.push(unexpected);
      }
    }
  }
  // As the simulator orders a report: the items, then duplicates, carried late lines, unexpected.
  const duplicates = extra.filter((line) => line.reference !== '');
  const lateLines =
    lateLineDate === 'own' ? carried : carried.map((line) => ({ ...line, created }));
  for (const line of [...duplicates, ...lateLines, ...extra.filter((l) => l.reference === '')])
    await put(line);
  await out.close();
  return {
    file: {
      path: path.join(directory, name),
      name,
      format: 'adyen_settlement_csv',
      connector: batch.connector,
      records,
      bytes: out.bytes,
    },
    report: {
      batchId: batch.id,
      connector: batch.connector,
      currency: batch.currency,
      settlementReference: batch.settlement_reference,
      net,
      matchedFee,
      settlementDay,
    },
  };
}

/**
 * The Creation Date of a late line in the report that carries it: its own batch's cutoff, as the
 * simulator writes it (sim/CONTRACT.md "Reconciliation seeding"), or the carrying batch's.
 */
export type LateLineDate = 'own' | 'carrier';

/** The acknowledged batches' reports, one Adyen-style CSV file each. */
export async function writeReports(
  db: Queryable,
  directory: string,
  lateLineDate: LateLineDate = 'own',
): Promise<{ files: GeneratedFile[]; reports: BatchReport[]; truth: TruthEntry[] }> {
  const batches = await db.query<ReportBatch>(
    `SELECT id, connector, currency, settlement_reference, cutoff_at FROM settlement_batches
      WHERE status IN ${acknowledgedStatusesSql} AND settlement_reference IS NOT NULL
      ORDER BY connector, currency, cutoff_at, id`,
  );
  const seeder = new Seeder();
  const files: GeneratedFile[] = [];
  const reports: BatchReport[] = [];
  let carried: Line[] = [];
  for (const [index, batch] of batches.rows.entries()) {
    const next = batches.rows[index + 1];
    const hasNext =
      next !== undefined &&
      next.connector === batch.connector &&
      next.currency === batch.currency &&
      next.cutoff_at.toISOString().slice(0, 10) > batch.cutoff_at.toISOString().slice(0, 10);
    const late: Line[] = [];
    const written = await writeReport(
      db,
      batch,
      directory,
      seeder,
      carried,
      hasNext ? late : undefined,
      lateLineDate,
    );
    carried = late;
    files.push(written.file);
    reports.push(written.report);
  }
  return { files, reports, truth: seeder.truth };
}

// ---------------------------------------------------------------------------------------------
// Bank statements (camt.053.001.08, one file per booking date)

type Entry = {
  readonly reference: string;
  readonly credit: boolean;
  readonly amount: bigint;
  readonly currency: string;
  readonly bookedOn: string;
  readonly kind: 'settlement' | 'payout' | 'return';
  /** Settlement: the settlement reference and the bank's UTR; payout: its id and trace. */
  readonly endToEndId: string;
  readonly traceId: string;
  readonly connector?: string;
};

type PayoutRow = { id: string; amount: bigint; currency: string; trace_id: string; day: string };

const escapeXml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    (char) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char] as string,
  );

function moneyXml(amount: bigint, currency: string): string {
  return `<Amt Ccy="${currency.toUpperCase()}">${decimalString(Number(amount), currency)}</Amt>`;
}

/** One Ntry as sim/money-out/bank.ts writeEntry writes it. */
function entryXml(entry: Entry, seq: number): string {
  const indicator = entry.credit ? 'CRDT' : 'DBIT';
  const family =
    entry.kind === 'payout' ? 'ICDT/ESCT' : entry.kind === 'return' ? 'ICDT/RRTN' : 'RCDT/ESCT';
  const [fmly, sub] = family.split('/') as [string, string];
  const e = escapeXml;
  const refs =
    entry.kind === 'settlement'
      ? `<EndToEndId>${e(entry.endToEndId)}</EndToEndId><TxId>${e(entry.traceId)}</TxId>`
      : `<InstrId>${e(entry.traceId)}</InstrId><EndToEndId>${e(entry.endToEndId)}</EndToEndId>`;
  const parties =
    entry.kind === 'settlement'
      ? `<RltdPties><Dbtr><Pty><Nm>${e(entry.connector ?? '')}</Nm></Pty></Dbtr></RltdPties>`
      : '';
  const returned =
    entry.kind === 'return'
      ? '<RtrInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>account_closed</AddtlInf></RtrInf>'
      : '';
  return (
    `<Ntry><NtryRef>${seq}</NtryRef>${moneyXml(entry.amount, entry.currency)}` +
    `<CdtDbtInd>${indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>` +
    `<BookgDt><Dt>${entry.bookedOn}</Dt></BookgDt><ValDt><Dt>${entry.bookedOn}</Dt></ValDt>` +
    `<AcctSvcrRef>${e(entry.reference)}</AcctSvcrRef>` +
    `<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>${fmly}</Cd><SubFmlyCd>${sub}</SubFmlyCd></Fmly></Domn></BkTxCd>` +
    `<NtryDtls><TxDtls><Refs><AcctSvcrRef>${e(entry.reference)}</AcctSvcrRef>${refs}</Refs>` +
    `${moneyXml(entry.amount, entry.currency)}<CdtDbtInd>${indicator}</CdtDbtInd>${parties}` +
    `<RmtInf><Ustrd>${e(entry.endToEndId)}</Ustrd></RmtInf>${returned}</TxDtls></NtryDtls></Ntry>\n`
  );
}

function balanceXml(code: string, amount: bigint, currency: string, day: string): string {
  const magnitude = amount < 0n ? -amount : amount;
  return (
    `<Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp>${moneyXml(magnitude, currency)}` +
    `<CdtDbtInd>${amount < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>${day}</Dt></Dt></Bal>\n`
  );
}

/** One statement file for one day and currency; returns it and the closing balance. */
async function writeStatement(
  directory: string,
  day: string,
  currency: string,
  entries: readonly Entry[],
  opening: bigint,
): Promise<{ file: GeneratedFile; closing: bigint }> {
  const name = `camt053_${day}_${currency}.xml`;
  const out = new LineFile(path.join(directory, name));
  const closing = entries.reduce((sum, e) => sum + (e.credit ? e.amount : -e.amount), opening);
  const id = `${day}-${currency.toUpperCase()}`;
  await out.write(
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>\n' +
      `<GrpHdr><MsgId>BENCHBANK-${id}</MsgId><CreDtTm>${day}T23:59:59Z</CreDtTm></GrpHdr>\n` +
      `<Stmt><Id>STMT-${id}</Id><CreDtTm>${day}T23:59:59Z</CreDtTm>` +
      `<FrToDt><FrDtTm>${day}T00:00:00Z</FrDtTm><ToDtTm>${day}T23:59:59Z</ToDtTm></FrToDt>\n` +
      '<Acct><Id><Othr><Id>PAYRAIL-OPERATING-001</Id></Othr></Id><Ownr><Nm>Payrail</Nm></Ownr>' +
      '<Svcr><FinInstnId><BICFI>SIMBUS33XXX</BICFI></FinInstnId></Svcr></Acct>\n' +
      balanceXml('OPBD', opening, currency, day) +
      balanceXml('CLBD', closing, currency, day) +
      `<TxsSummry><TtlNtries><NbOfNtries>${entries.length}</NbOfNtries></TtlNtries></TxsSummry>\n`,
  );
  let seq = 0;
  for (const entry of entries) await out.write(entryXml(entry, ++seq));
  await out.write('</Stmt></BkToCstmrStmt></Document>\n');
  await out.close();
  const file: GeneratedFile = {
    path: path.join(directory, name),
    name,
    format: 'camt053',
    connector: null,
    records: entries.length,
    bytes: out.bytes,
  };
  return { file, closing };
}

/** The bank's entries: each batch's credit (one split in two), each payout's debit, returns. */
async function statementEntries(
  db: Queryable,
  reports: readonly BatchReport[],
  truth: TruthEntry[],
): Promise<Entry[]> {
  const entries: Entry[] = [];
  let n = 0;
  const reference = () => `BNKBENCH${String(++n).padStart(9, '0')}`;
  reports.forEach((report, index) => {
    const magnitude = report.net < 0n ? -report.net : report.net;
    // The first batch is paid in two credits (split settlement: matched by the aggregate pass).
    const split = index === 0 && magnitude >= 2n;
    if (split)
      truth.push({ kind: 'split_settlement', reason: null, subject: report.settlementReference });
    // As the simulator splits: floor(n/2) and the rest, same date and references.
    const parts = split ? [magnitude / 2n, magnitude - magnitude / 2n] : [magnitude];
    for (const amount of parts) {
      const entryReference = reference();
      entries.push({
        reference: entryReference,
        credit: report.net >= 0n,
        amount,
        currency: report.currency,
        bookedOn: report.settlementDay,
        kind: 'settlement',
        endToEndId: report.settlementReference,
        traceId: `UTR${entryReference.slice(3)}`,
        connector: report.connector,
      });
    }
  });
  const payouts = await db.query<PayoutRow>(
    `SELECT id, amount, currency, trace_id,
            to_char((arrival_date AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day
       FROM payouts WHERE status IN ('in_transit', 'paid') AND trace_id IS NOT NULL ORDER BY id`,
  );
  payouts.rows.forEach((payout, index) => {
    const amount = BigInt(payout.amount);
    const base = {
      amount,
      currency: payout.currency,
      endToEndId: payout.id,
      traceId: payout.trace_id,
    };
    entries.push({
      ...base,
      reference: reference(),
      credit: false,
      bookedOn: payout.day,
      kind: 'payout',
    });
    // One payout in 100 (at least one) comes back the next business day.
    if (
      index % discrepancyEvery ===
      Math.min(discrepancyEvery / 2, payouts.rows.length - 1) % discrepancyEvery
    ) {
      truth.push({ kind: 'payout_returned', reason: 'returned', subject: payout.id });
      const bookedOn = nextBusinessDay(payout.day);
      entries.push({ ...base, reference: reference(), credit: true, bookedOn, kind: 'return' });
    }
  });
  return entries;
}

/** The statements, one file per booking date and currency, balances chained from `opening`. */
export async function writeStatements(
  db: Queryable,
  directory: string,
  reports: readonly BatchReport[],
  truth: TruthEntry[],
  opening: ReadonlyMap<string, bigint>,
): Promise<{
  files: GeneratedFile[];
  entries: number;
  lastDay: string;
  closing: Map<string, bigint>;
}> {
  const entries = await statementEntries(db, reports, truth);
  const days = [...new Set(entries.map((entry) => `${entry.bookedOn} ${entry.currency}`))].sort();
  const balances = new Map(opening);
  const files: GeneratedFile[] = [];
  for (const key of days) {
    const [day, currency] = key.split(' ') as [string, string];
    const todays = entries.filter((e) => e.bookedOn === day && e.currency === currency);
    const written = await writeStatement(
      directory,
      day,
      currency,
      todays,
      balances.get(currency) ?? 0n,
    );
    balances.set(currency, written.closing);
    files.push(written.file);
  }
  const lastDay = days.at(-1)?.split(' ')[0] ?? '1970-01-01';
  return { files, entries: entries.length, lastDay, closing: balances };
}
