// The bank (CONTRACT.md "Bank"): Payrail's own account. Payout instructions are idempotent by
// payout_id and get a trace id; a payout is rejected at once, or paid (a debit booked on
// requested_at's date) and perhaps returned days later. PSP settlements arrive as credits booked on
// the cutoff's date + 1 business day. Statements are ISO 20022 camt.053.001.08 per booking date.
// Every date derives from a timestamp Payrail sent (cutoff_at, requested_at): the bank has no clock.
import type { IncomingMessage } from 'node:http';
import { randomDigits, randomId } from '../ids.ts';
import { isPlainObject } from '../json.ts';
import { seededRandom } from '../../src/random.ts';
import { AMOUNT_MAX } from '../psps/common.ts';
import {
  drawCallFault,
  addDays,
  checkInteger,
  checkRate,
  errorBody,
  isDate,
  nextBusinessDay,
  parseTimestamp,
  randomSeed,
  readSettings,
  writtenDate,
  type Parsed,
} from './common.ts';
import { decimalString } from './fees.ts';
import { ReconSeeding } from './seeding.ts';
import { XmlWriter } from './xml.ts';

export const BANK_TOKEN = 'bank_test_sim';
export const ACCOUNT_PAID = '000123456789';
export const ACCOUNT_REJECTED = '000111111116';
export const ACCOUNT_RETURNED = '000111111113';
export const RETURN_AFTER_DAYS = 2;
/** failure_code → the ISO 20022 return reason code on the statement. */
export const FAILURE_REASONS: Readonly<Record<string, string>> = {
  invalid_account_number: 'AC01',
  account_closed: 'AC04',
  account_frozen: 'AC06',
  no_account: 'AC01',
  account_blocked: 'AC06',
  insufficient_funds: 'AM04',
};
export const STATEMENT_ACCOUNT_ID = 'SIMBANK-PAYRAIL-0001';
export const STATEMENT_BIC = 'SIMBUS33XXX';
const PSP_NAMES: Readonly<Record<string, string>> = {
  stripe: 'Stripe Payments Europe Ltd',
  adyen: 'Adyen N.V.',
  razorpay: 'Razorpay Software Pvt Ltd',
  paytm: 'Paytm Payments Services Ltd',
};

/** What the acquirer hands the bank when a batch is acknowledged. */
export type SettlementInput = {
  readonly id: string;
  readonly connector: string;
  readonly currency: string;
  readonly cutoffAt: string;
  readonly settlementReference: string;
  readonly settlementUtr: string;
  readonly payoutAmount: number;
};

export type EntryKind = 'settlement' | 'payout' | 'return';

export type Entry = {
  readonly seq: number;
  /** <AcctSvcrRef>: unique per entry (a payout debit's is its trace id). */
  readonly reference: string;
  readonly kind: EntryKind;
  readonly credit: boolean;
  readonly amount: number;
  readonly currency: string;
  readonly bookedOn: string;
  readonly settlementReference?: string;
  readonly settlementUtr?: string;
  readonly connector?: string;
  readonly payoutId?: string;
  readonly traceId?: string;
  readonly failureCode?: string;
};

export type Credit = {
  readonly settlementReference: string;
  readonly connector: string;
  readonly batchId: string;
  readonly currency: string;
  readonly amount: number;
  readonly entries: Entry[];
};

export type PayoutRecord = {
  readonly payoutId: string;
  readonly amount: number;
  readonly currency: string;
  readonly accountNumber: string;
  readonly status: 'paid' | 'rejected' | 'returned';
  readonly answerStatus: number;
  readonly answerText: string;
  readonly traceId: string | null;
  readonly requestedOn: string;
  readonly bookedOn: string | null;
  readonly returnedOn: string | null;
  readonly failureCode: string | null;
  executions: number;
  requests: number;
};

export type BankFaults = {
  seed: number;
  errorRate: number;
  lostResponseRate: number;
  errorNext: number;
  loseNext: number;
  rejectRate: number;
  rejectCode: string;
  returnRate: number;
  returnCode: string;
  returnAfterDays: number;
  lateRate: number;
  lateDays: number;
  splitRate: number;
};
const NO_BANK_FAULTS: BankFaults = {
  seed: 0,
  errorRate: 0,
  lostResponseRate: 0,
  errorNext: 0,
  loseNext: 0,
  rejectRate: 0,
  rejectCode: 'account_frozen',
  returnRate: 0,
  returnCode: 'account_closed',
  returnAfterDays: RETURN_AFTER_DAYS,
  lateRate: 0,
  lateDays: 1,
  splitRate: 0,
};

type Answer = { status: number; text: string; lose?: boolean; contentType?: string };

export class Bank {
  /** Reconciliation seeding: decides seeded splits and returns here, report plans for the acquirer. */
  readonly seeding: ReconSeeding;
  readonly payouts = new Map<string, PayoutRecord>();
  readonly credits: Credit[] = [];
  readonly entries: Entry[] = [];
  readonly #byDate = new Map<string, Entry[]>();
  #seq = 0;
  faults: BankFaults | undefined;
  #random: () => number = Math.random;

  constructor(seeding = new ReconSeeding()) {
    this.seeding = seeding;
  }

  reset(): void {
    this.payouts.clear();
    this.credits.length = 0;
    this.entries.length = 0;
    this.#byDate.clear();
    this.#seq = 0;
    this.configureFaults(undefined);
  }

  configureFaults(faults: BankFaults | undefined): void {
    this.faults = faults;
    this.#random = faults === undefined ? Math.random : seededRandom(faults.seed);
  }

  #book(entry: Omit<Entry, 'seq'>): Entry {
    this.#seq += 1;
    const booked: Entry = { ...entry, seq: this.#seq };
    this.entries.push(booked);
    const day = this.#byDate.get(booked.bookedOn);
    if (day === undefined) this.#byDate.set(booked.bookedOn, [booked]);
    else day.push(booked);
    return booked;
  }

  /** A late-line fault: how many days later than due a line is booked (one draw while faults are set). */
  #lateDays(): number {
    const faults = this.faults;
    if (faults === undefined) return 0;
    return this.#random() < faults.lateRate ? faults.lateDays : 0;
  }

  /** Books the PSP's payout of an acknowledged batch (nothing when it nets to zero). */
  recordSettlement(batch: SettlementInput): void {
    const late = this.#lateDays();
    const faultSplit = this.faults !== undefined && this.#random() < this.faults.splitRate;
    const seededSplit = this.seeding.splits(batch.id);
    const credit: Credit = {
      settlementReference: batch.settlementReference,
      connector: batch.connector,
      batchId: batch.id,
      currency: batch.currency,
      amount: batch.payoutAmount,
      entries: [],
    };
    this.credits.push(credit);
    if (batch.payoutAmount === 0) return;
    const bookedOn = addDays(nextBusinessDay(writtenDate(batch.cutoffAt)), late);
    const total = Math.abs(batch.payoutAmount);
    const split = (faultSplit || seededSplit !== undefined) && total >= 2;
    const parts = split ? [Math.floor(total / 2), total - Math.floor(total / 2)] : [total];
    for (const amount of parts) {
      credit.entries.push(
        this.#book({
          reference: entryReference(),
          kind: 'settlement',
          credit: batch.payoutAmount > 0,
          amount,
          currency: batch.currency,
          bookedOn,
          settlementReference: batch.settlementReference,
          settlementUtr: batch.settlementUtr,
          connector: batch.connector,
        }),
      );
    }
    if (split)
      this.seeding.recordSplit({
        batchId: batch.id,
        connector: batch.connector,
        currency: batch.currency,
        settlementReference: batch.settlementReference,
        amount: batch.payoutAmount,
        entries: credit.entries.map((entry) => ({
          entry_reference: entry.reference,
          amount: entry.credit ? entry.amount : -entry.amount,
          booked_on: entry.bookedOn,
        })),
        cause: faultSplit ? 'bank_fault' : (seededSplit as string),
      });
  }

  // ---- /bank/v1/… ----

  handle(
    method: string,
    segments: readonly string[],
    headers: IncomingMessage['headers'],
    query: string,
    bodyText: string,
  ): Answer {
    if (headers.authorization !== `Bearer ${BANK_TOKEN}`)
      return {
        status: 401,
        text: errorBody('unauthorized', 'Authorization: Bearer bank_test_sim is required'),
      };
    const [version, resource, id, extra] = segments;
    if (version === 'v1' && extra === undefined) {
      if (resource === 'payouts' && id === undefined && method === 'POST')
        return this.#payout(bodyText);
      if (resource === 'payouts' && id !== undefined && method === 'GET') {
        const payout = this.payouts.get(id);
        return payout === undefined
          ? { status: 404, text: errorBody('not_found', `no payout ${id}`) }
          : { status: payout.answerStatus, text: payout.answerText };
      }
      if (resource === 'statements' && id !== undefined && method === 'GET') {
        if (!isDate(id))
          return { status: 400, text: errorBody('invalid_date', 'the date must be YYYY-MM-DD') };
        const currency = new URLSearchParams(query).get('currency')?.toLowerCase();
        return { status: 200, text: this.statement(id, currency), contentType: 'application/xml' };
      }
    }
    return { status: 404, text: errorBody('not_found', 'no such bank route') };
  }

  #submissionFault(): { error: boolean; lost: boolean } {
    return drawCallFault(this.faults, this.#random);
  }

  #payout(bodyText: string): Answer {
    let body: unknown;
    try {
      body = JSON.parse(bodyText) as unknown;
    } catch {
      return invalid('body', 'the body must be JSON');
    }
    if (!isPlainObject(body)) return invalid('body', 'the body must be a JSON object');
    const { payout_id: payoutId, amount, currency, requested_at: requestedAt, account } = body;
    if (typeof payoutId !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(payoutId))
      return invalid('payout_id', 'payout_id: 1–255 letters, digits, _ or -');
    if (
      typeof amount !== 'number' ||
      !Number.isSafeInteger(amount) ||
      amount <= 0 ||
      amount > AMOUNT_MAX
    )
      return invalid('amount', `amount must be an integer from 1 to ${AMOUNT_MAX}`);
    if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))
      return invalid('currency', 'currency must be a 3-letter code');
    const requestedMs = parseTimestamp(requestedAt);
    if (Number.isNaN(requestedMs))
      return invalid('requested_at', 'requested_at must be an ISO-8601 timestamp');
    if (!isPlainObject(account)) return invalid('account', 'account must be an object');
    const accountNumber = account.account_number;
    if (typeof accountNumber !== 'string' || !/^\d{4,17}$/.test(accountNumber))
      return invalid('account.account_number', 'account_number must be 4–17 digits');
    for (const field of ['holder_name', 'country'] as const) {
      const value = account[field];
      if (typeof value !== 'string' || value === '' || value.length > 140)
        return invalid(`account.${field}`, `${field} must be a string of 1–140 characters`);
    }
    // Accounts known by their number alone (an IBAN country) have no routing number.
    const routing = account.routing_number;
    if (
      routing !== undefined &&
      routing !== null &&
      (typeof routing !== 'string' || routing === '' || routing.length > 140)
    )
      return invalid(
        'account.routing_number',
        'routing_number, when given, must be a string of 1–140 characters',
      );
    const fault = this.#submissionFault();
    if (fault.error)
      return {
        status: 500,
        text: errorBody('server_error', 'bank error (fault); nothing was recorded'),
      };
    const lower = currency.toLowerCase();
    const existing = this.payouts.get(payoutId);
    if (existing !== undefined) {
      existing.requests += 1;
      if (
        existing.amount !== amount ||
        existing.currency !== lower ||
        existing.accountNumber !== accountNumber
      )
        return {
          status: 409,
          text: errorBody(
            'payout_id_reused',
            `payout ${payoutId} was sent with another amount, currency or account`,
          ),
        };
      return { status: existing.answerStatus, text: existing.answerText, lose: fault.lost };
    }
    const record = this.#execute(
      payoutId,
      amount,
      lower,
      accountNumber,
      writtenDate(requestedAt as string),
    );
    this.payouts.set(payoutId, record);
    return { status: record.answerStatus, text: record.answerText, lose: fault.lost };
  }

  #execute(
    payoutId: string,
    amount: number,
    currency: string,
    accountNumber: string,
    requestedOn: string,
  ): PayoutRecord {
    const faults = this.faults;
    const rejectDraw = faults === undefined ? 1 : this.#random();
    const returnDraw = faults === undefined ? 1 : this.#random();
    const late = this.#lateDays();
    const base = {
      payoutId,
      amount,
      currency,
      accountNumber,
      requestedOn,
      executions: 1,
      requests: 1,
    };
    let rejectCode: string | undefined;
    if (accountNumber === ACCOUNT_REJECTED) rejectCode = 'invalid_account_number';
    else if (faults !== undefined && rejectDraw < faults.rejectRate) rejectCode = faults.rejectCode;
    if (rejectCode !== undefined) {
      return {
        ...base,
        status: 'rejected',
        answerStatus: 422,
        answerText: JSON.stringify({
          payout_id: payoutId,
          status: 'rejected',
          failure_code: rejectCode,
        }),
        traceId: null,
        bookedOn: null,
        returnedOn: null,
        failureCode: rejectCode,
      };
    }
    const traceId = `${randomDigits(15)}`;
    const bookedOn = addDays(requestedOn, late);
    this.#book({
      reference: traceId,
      kind: 'payout',
      credit: false,
      amount,
      currency,
      bookedOn,
      payoutId,
      traceId,
    });
    const returned = this.#returnOf(payoutId, accountNumber, returnDraw);
    let returnedOn: string | null = null;
    if (returned !== undefined) {
      returnedOn = addDays(bookedOn, returned.afterDays);
      const entry = this.#book({
        reference: entryReference(),
        kind: 'return',
        credit: true,
        amount,
        currency,
        bookedOn: returnedOn,
        payoutId,
        traceId,
        failureCode: returned.code,
      });
      this.seeding.recordReturn({
        payoutId,
        amount,
        currency,
        details: {
          trace_id: traceId,
          return_code: returned.code,
          reason_code: FAILURE_REASONS[returned.code] ?? 'NARR',
          booked_on: bookedOn,
          returned_on: returnedOn,
          entry_reference: entry.reference,
          cause: returned.cause,
        },
      });
    }
    const returnCode = returned?.code;
    return {
      ...base,
      status: returnCode === undefined ? 'paid' : 'returned',
      answerStatus: 201,
      answerText: JSON.stringify({
        payout_id: payoutId,
        trace_id: traceId,
        status: 'accepted',
        expected_on: requestedOn,
      }),
      traceId,
      bookedOn,
      returnedOn,
      failureCode: returnCode ?? null,
    };
  }

  /** Whether a paid payout comes back: the returned test account, a bank fault, then seeding. */
  #returnOf(
    payoutId: string,
    accountNumber: string,
    returnDraw: number,
  ): { code: string; afterDays: number; cause: string } | undefined {
    const faults = this.faults;
    // Seeding draws for every paid payout while it is set, whichever cause wins.
    const seeded = this.seeding.returns(payoutId);
    if (accountNumber === ACCOUNT_RETURNED)
      return { code: 'account_closed', afterDays: RETURN_AFTER_DAYS, cause: 'account' };
    if (faults !== undefined && returnDraw < faults.returnRate)
      return { code: faults.returnCode, afterDays: faults.returnAfterDays, cause: 'bank_fault' };
    return seeded;
  }

  // ---- camt.053.001.08 ----

  statement(date: string, currency?: string): string {
    const opening = new Map<string, number>();
    const movement = new Map<string, number>();
    const signed = (entry: Entry): number => (entry.credit ? entry.amount : -entry.amount);
    for (const entry of this.entries) {
      if (currency !== undefined && entry.currency !== currency) continue;
      if (entry.bookedOn < date)
        opening.set(entry.currency, (opening.get(entry.currency) ?? 0) + signed(entry));
      else if (entry.bookedOn === date)
        movement.set(entry.currency, (movement.get(entry.currency) ?? 0) + signed(entry));
    }
    const currencies = [...new Set([...opening.keys(), ...movement.keys()])].sort();
    // camt.053 needs at least one balance: an account with nothing booked yet shows zero.
    if (currencies.length === 0) currencies.push(currency ?? 'usd');
    const entries = (this.#byDate.get(date) ?? []).filter(
      (entry) => currency === undefined || entry.currency === currency,
    );
    const xml = new XmlWriter();
    xml.open('Document', { xmlns: 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08' });
    xml.open('BkToCstmrStmt');
    xml
      .open('GrpHdr')
      .leaf('MsgId', `SIMBANK-${date}${currency === undefined ? '' : `-${currency.toUpperCase()}`}`)
      .leaf('CreDtTm', `${date}T23:59:59Z`)
      .close();
    xml.open('Stmt');
    xml.leaf('Id', `STMT-${date}${currency === undefined ? '' : `-${currency.toUpperCase()}`}`);
    xml.leaf('CreDtTm', `${date}T23:59:59Z`);
    xml
      .open('FrToDt')
      .leaf('FrDtTm', `${date}T00:00:00Z`)
      .leaf('ToDtTm', `${date}T23:59:59Z`)
      .close();
    xml.open('Acct');
    xml.open('Id').path('Othr', 'Id', STATEMENT_ACCOUNT_ID).close();
    xml.path('Ownr', 'Nm', 'Payrail');
    xml.open('Svcr').path('FinInstnId', 'BICFI', STATEMENT_BIC).close();
    xml.close();
    for (const code of currencies) {
      const open = opening.get(code) ?? 0;
      balance(xml, 'OPBD', open, code, date);
      balance(xml, 'CLBD', open + (movement.get(code) ?? 0), code, date);
    }
    xml
      .open('TxsSummry')
      .open('TtlNtries')
      .leaf('NbOfNtries', String(entries.length))
      .close()
      .close();
    for (const entry of entries) writeEntry(xml, entry);
    xml.close().close().close();
    return xml.toString();
  }

  // ---- ground truth ----

  groundTruth(connector: string | undefined): Record<string, unknown> {
    const payouts: Record<string, unknown> = {};
    for (const payout of this.payouts.values()) {
      payouts[payout.payoutId] = {
        payout_id: payout.payoutId,
        executions: payout.executions,
        requests: payout.requests,
        amount: payout.amount,
        currency: payout.currency,
        status: payout.status,
        trace_id: payout.traceId,
        failure_code: payout.failureCode,
        account_number: payout.accountNumber,
        requested_on: payout.requestedOn,
        booked_on: payout.bookedOn,
        returned_on: payout.returnedOn,
      };
    }
    const credits = this.credits
      .filter((credit) => connector === undefined || credit.connector === connector)
      .map((credit) => ({
        settlement_reference: credit.settlementReference,
        connector: credit.connector,
        batch_id: credit.batchId,
        currency: credit.currency,
        amount: credit.amount,
        entries: credit.entries.map((entry) => ({
          entry_reference: entry.reference,
          amount: entry.credit ? entry.amount : -entry.amount,
          booked_on: entry.bookedOn,
        })),
      }));
    return { payouts, credits };
  }
}

function invalid(field: string, message: string): Answer {
  return { status: 400, text: errorBody('invalid_request', message, { field }) };
}

function entryReference(): string {
  return randomId('BNK', 17).toUpperCase();
}

function money(amount: number, currency: string): [string, Record<string, string>] {
  return [decimalString(amount, currency), { Ccy: currency.toUpperCase() }];
}

function balance(
  xml: XmlWriter,
  code: string,
  amount: number,
  currency: string,
  date: string,
): void {
  xml.open('Bal');
  xml.open('Tp').path('CdOrPrtry', 'Cd', code).close();
  xml.leaf('Amt', ...money(Math.abs(amount), currency));
  xml.leaf('CdtDbtInd', amount < 0 ? 'DBIT' : 'CRDT');
  xml.path('Dt', 'Dt', date);
  xml.close();
}

function writeEntry(xml: XmlWriter, entry: Entry): void {
  const indicator = entry.credit ? 'CRDT' : 'DBIT';
  xml.open('Ntry');
  xml.leaf('NtryRef', String(entry.seq));
  xml.leaf('Amt', ...money(entry.amount, entry.currency));
  xml.leaf('CdtDbtInd', indicator);
  xml.path('Sts', 'Cd', 'BOOK');
  xml.path('BookgDt', 'Dt', entry.bookedOn);
  xml.path('ValDt', 'Dt', entry.bookedOn);
  xml.leaf('AcctSvcrRef', entry.reference);
  const family =
    entry.kind === 'payout'
      ? ['ICDT', 'ESCT']
      : entry.kind === 'return'
        ? ['ICDT', 'RRTN']
        : ['RCDT', 'ESCT'];
  xml
    .open('BkTxCd')
    .open('Domn')
    .leaf('Cd', 'PMNT')
    .open('Fmly')
    .leaf('Cd', family[0] as string)
    .leaf('SubFmlyCd', family[1] as string)
    .close()
    .close()
    .close();
  xml.open('NtryDtls').open('TxDtls');
  xml.open('Refs');
  xml.leaf('AcctSvcrRef', entry.reference);
  if (entry.kind === 'settlement') {
    xml.leaf('EndToEndId', entry.settlementReference as string);
    xml.leaf('TxId', entry.settlementUtr as string);
  } else {
    xml.leaf('InstrId', entry.traceId as string);
    xml.leaf('EndToEndId', entry.payoutId as string);
  }
  xml.close();
  xml.leaf('Amt', ...money(entry.amount, entry.currency));
  xml.leaf('CdtDbtInd', indicator);
  if (entry.kind === 'settlement') {
    xml
      .open('RltdPties')
      .open('Dbtr')
      .path('Pty', 'Nm', PSP_NAMES[entry.connector as string] ?? (entry.connector as string))
      .close()
      .close();
    xml.path('RmtInf', 'Ustrd', entry.settlementReference as string);
  } else {
    xml.path('RmtInf', 'Ustrd', entry.payoutId as string);
  }
  if (entry.kind === 'return') {
    xml.open('RtrInf');
    xml.path('Rsn', 'Cd', FAILURE_REASONS[entry.failureCode as string] ?? 'NARR');
    xml.leaf('AddtlInf', entry.failureCode as string);
    xml.close();
  }
  xml.close().close();
  xml.close();
}

export function parseBankFaults(body: unknown): Parsed<BankFaults> {
  return readSettings(body, { ...NO_BANK_FAULTS, seed: randomSeed() }, (key, value) => {
    if (key === 'seed') return checkInteger(value, 0, 4294967295);
    if (key === 'errorNext' || key === 'loseNext') return checkInteger(value, 0, 1_000_000);
    if (key === 'returnAfterDays' || key === 'lateDays') return checkInteger(value, 0, 60);
    if (key === 'rejectCode' || key === 'returnCode')
      return typeof value === 'string' && value in FAILURE_REASONS
        ? undefined
        : `one of ${Object.keys(FAILURE_REASONS).join(', ')}`;
    return checkRate(value);
  });
}

export type { Answer as BankAnswer };
