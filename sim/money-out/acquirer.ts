// The acquirer (CONTRACT.md "Acquirer clearing"): Payrail submits a clearing batch per connector,
// currency and cutoff as streamed NDJSON; the acquirer checks every item against the PSPs' own books
// (sim/store.ts) or the bulk-seeded records, accepts or rejects each with a reason code, and answers
// once per batch id (a resubmission gets the first answer, byte for byte, and nothing is done again).
// Accepted items settle under a PSP-side settlement reference, which the PSP reports itemize and the
// bank credits. Parsing streams line by line; judging is one synchronous step at the end (the header
// must agree with the lines first), O(1) per item.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomDigits, randomId } from '../ids.ts';
import { isPlainObject } from '../json.ts';
import type { SimStore } from '../store.ts';
import { seededRandom } from '../../src/random.ts';
import { AMOUNT_MAX } from '../psps/common.ts';
import type { Bank } from './bank.ts';
import {
  drawCallFault,
  DAY_MS,
  checkInteger,
  checkRate,
  errorBody,
  parseTimestamp,
  randomSeed,
  readLines,
  readSettings,
  type Parsed,
} from './common.ts';
import { DEFAULT_FEES, itemFeeTotal, type FeeSchedule } from './fees.ts';
import type { ReportPlan } from './seeding.ts';

export const ACQUIRER_TOKEN = 'acq_test_sim';
export const REASON_CODES = [
  'duplicate',
  'unknown_reference',
  'authorization_expired',
  'amount_invalid',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
/** results[i]: 0 accepted, else 1 + the index of the reason in REASON_CODES. */
const ACCEPTED = 0;
const CAPTURE = 0;
const REFUND = 1;
export const ITEMS_PER_BATCH_MAX = 2_000_000;
export const SEEDS_MAX = 5_000_000;
const ANSWER_CHUNK_LINES = 2000;

export type AcquirerSettings = { captureWindowDays: number };
export const DEFAULT_ACQUIRER_SETTINGS: AcquirerSettings = { captureWindowDays: 7 };

export type AcquirerFaults = {
  seed: number;
  errorRate: number;
  lostResponseRate: number;
  errorNext: number;
  loseNext: number;
  rejectRate: number;
  rejectReason: ReasonCode;
  rejectReferences: Record<string, ReasonCode>;
};
const NO_ACQUIRER_FAULTS: AcquirerFaults = {
  seed: 0,
  errorRate: 0,
  lostResponseRate: 0,
  errorNext: 0,
  loseNext: 0,
  rejectRate: 0,
  rejectReason: 'amount_invalid',
  rejectReferences: {},
};

/** What the acquirer knows of one capture or refund at a PSP. */
export type Known = {
  readonly amount: number;
  readonly currency: string;
  /** Authorization time (captures), ms since the epoch. */
  readonly authorizedMs: number;
  /** Payrail's reference (the payment's for a capture, the refund's own for a refund). */
  readonly reference: string | null;
  /** For a refund: the PSP's payment id it refunds, when known. */
  readonly paymentId: string | null;
  /** Seeded records only: accepted in some batch already (book records use a set per type). */
  accepted?: boolean;
};

export type Batch = {
  readonly id: string;
  readonly seq: number;
  readonly connector: string;
  readonly currency: string;
  readonly cutoffAt: string;
  readonly cutoffMs: number;
  readonly acquirerReference: string;
  readonly settlementReference: string;
  readonly settlementUtr: string;
  readonly itemIds: string[];
  readonly refs: string[];
  readonly types: Uint8Array;
  readonly amounts: Float64Array;
  readonly results: Uint8Array;
  readonly accepted: Int32Array;
  readonly netAmount: number;
  readonly acceptedAmount: number;
  readonly fees: FeeSchedule;
  readonly feeTotal: number;
  /**
   * What the PSP pays out for the batch: Σ net of its report, accepted amount − fees unless
   * reconciliation seeding changed the report (may be negative).
   */
  readonly payoutAmount: number;
  /** The report as seeding decided it when the batch was acknowledged; undefined: the plain one. */
  readonly report: ReportPlan | undefined;
  readonly headerText: string;
  executions: number;
  submissions: number;
};

type Draft = {
  header:
    | {
        connector: string;
        currency: string;
        cutoffAt: string;
        cutoffMs: number;
        itemCount: number;
        netAmount: number;
      }
    | undefined;
  itemIds: string[];
  refs: string[];
  types: number[];
  amounts: number[];
  currencyOk: boolean[];
  authorizedMs: number[];
  net: number;
};

export class Acquirer {
  readonly #store: SimStore;
  readonly #bank: Bank;
  readonly #connectors: readonly string[];
  readonly batches = new Map<string, Batch>();
  readonly #bySettlement = new Map<string, Batch>();
  readonly #inProgress = new Map<string, Promise<void>>();
  /** Per connector: accepted capture ids and refund ids known from the PSPs' books. */
  readonly #acceptedCaptures = new Map<string, Set<string>>();
  readonly #acceptedRefunds = new Map<string, Set<string>>();
  readonly #seededCaptures = new Map<string, Map<string, Known>>();
  readonly #seededRefunds = new Map<string, Map<string, Known>>();
  #seedCount = 0;
  #seq = 0;
  #adyenBatchNumber = 0;
  settings: AcquirerSettings = { ...DEFAULT_ACQUIRER_SETTINGS };
  faults: AcquirerFaults | undefined;
  #random: () => number = Math.random;
  readonly fees = new Map<string, FeeSchedule>();

  constructor(store: SimStore, bank: Bank, connectors: readonly string[]) {
    this.#store = store;
    this.#bank = bank;
    this.#connectors = connectors;
    this.reset();
  }

  reset(): void {
    this.batches.clear();
    this.#bySettlement.clear();
    this.#acceptedCaptures.clear();
    this.#acceptedRefunds.clear();
    this.#seededCaptures.clear();
    this.#seededRefunds.clear();
    this.#seedCount = 0;
    this.#seq = 0;
    // Adyen batch numbers are small integers; a random start keeps them apart across restarts.
    this.#adyenBatchNumber = 1000 + Math.floor(Math.random() * 9_000_000);
    this.settings = { ...DEFAULT_ACQUIRER_SETTINGS };
    this.faults = undefined;
    this.fees.clear();
    for (const connector of this.#connectors) {
      this.#acceptedCaptures.set(connector, new Set());
      this.#acceptedRefunds.set(connector, new Set());
      this.#seededCaptures.set(connector, new Map());
      this.#seededRefunds.set(connector, new Map());
      this.fees.set(connector, DEFAULT_FEES[connector] ?? (DEFAULT_FEES.stripe as FeeSchedule));
    }
  }

  configureFaults(faults: AcquirerFaults | undefined): void {
    this.faults = faults;
    this.#random = faults === undefined ? Math.random : seededRandom(faults.seed);
  }

  /** The batch whose settlement reference (or Adyen batch number) this is, at this connector. */
  bySettlement(connector: string, reference: string): Batch | undefined {
    const batch = this.#bySettlement.get(reference);
    return batch?.connector === connector ? batch : undefined;
  }

  /** A capture (type 0) or refund (type 1) the PSP has: bulk-seeded first, then the PSP's book. */
  lookup(connector: string, type: number, reference: string): Known | undefined {
    const seeded = (type === CAPTURE ? this.#seededCaptures : this.#seededRefunds)
      .get(connector)
      ?.get(reference);
    if (seeded !== undefined) return seeded;
    const book = this.#store.bookOf(connector);
    if (book === undefined) return undefined;
    if (type === CAPTURE) {
      const payment = book.payments.get(reference);
      if (payment === undefined || payment.captured <= 0) return undefined;
      return {
        amount: payment.captured,
        currency: payment.currency,
        authorizedMs: payment.createdMs,
        reference: payment.reference,
        paymentId: payment.id,
      };
    }
    const refund = book.refunds.get(reference);
    if (refund === undefined) return undefined;
    return {
      amount: refund.amount,
      currency: refund.currency,
      authorizedMs: Number.NaN,
      reference: refund.reference,
      paymentId: refund.paymentId,
    };
  }

  // ---- POST /acquirer/v1/clearing_batches/:batch_id ----

  handle(req: IncomingMessage, res: ServerResponse, segments: readonly string[]): void {
    const method = req.method ?? 'GET';
    const [version, resource, batchId, extra] = segments;
    if (
      version !== 'v1' ||
      resource !== 'clearing_batches' ||
      batchId === undefined ||
      extra !== undefined
    ) {
      drainThen(req, () => answer(res, 404, errorBody('not_found', 'no such acquirer route')));
      return;
    }
    if (req.headers.authorization !== `Bearer ${ACQUIRER_TOKEN}`) {
      drainThen(req, () =>
        answer(
          res,
          401,
          errorBody('unauthorized', 'Authorization: Bearer acq_test_sim is required'),
        ),
      );
      return;
    }
    if (method === 'GET') {
      drainThen(req, () => {
        const batch = this.batches.get(batchId);
        if (batch === undefined) answer(res, 404, errorBody('not_found', `no batch ${batchId}`));
        else this.#sendAnswer(res, batch);
      });
      return;
    }
    if (method !== 'POST') {
      drainThen(req, () => answer(res, 404, errorBody('not_found', 'no such acquirer route')));
      return;
    }
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(batchId)) {
      drainThen(req, () =>
        answer(res, 400, errorBody('invalid_batch_id', 'batch id: 1–255 letters, digits, _ or -')),
      );
      return;
    }
    this.#submit(req, res, batchId);
  }

  #submit(req: IncomingMessage, res: ServerResponse, batchId: string): void {
    const pending = this.#inProgress.get(batchId);
    if (pending !== undefined) {
      // Another submission of this batch id is being read: wait for its outcome (pause this body).
      req.pause();
      void pending.then(() => this.#submit(req, res, batchId));
      return;
    }
    const fault = this.#drawSubmissionFault();
    const existing = this.batches.get(batchId);
    if (existing !== undefined) {
      drainThen(req, () => {
        existing.submissions += 1;
        if (fault.error) answer(res, 500, errorBody('server_error', 'acquirer error (fault)'));
        else if (fault.lost) res.socket?.destroy();
        else this.#sendAnswer(res, existing);
      });
      return;
    }
    let finish: () => void = () => undefined;
    this.#inProgress.set(batchId, new Promise<void>((resolve) => (finish = resolve)));
    const draft: Draft = {
      header: undefined,
      itemIds: [],
      refs: [],
      types: [],
      amounts: [],
      currencyOk: [],
      authorizedMs: [],
      net: 0,
    };
    readLines(
      req,
      (line, lineNumber) => (fault.error ? 'fault' : this.#parseLine(draft, line, lineNumber)),
      (error) => {
        try {
          if (fault.error) {
            answer(
              res,
              500,
              errorBody('server_error', 'acquirer error (fault); nothing was recorded'),
            );
            return;
          }
          const problem = error ?? checkHeader(draft);
          if (problem !== undefined) {
            answer(
              res,
              400,
              errorBody(
                problem.startsWith('header_mismatch') ? 'header_mismatch' : 'invalid_batch',
                problem,
              ),
            );
            return;
          }
          const batch = this.#commit(batchId, draft);
          if (fault.lost) res.socket?.destroy();
          else this.#sendAnswer(res, batch);
        } catch (bug) {
          console.error('simulator bug (acquirer):', bug);
          answer(res, 500, errorBody('server_error', 'acquirer error'));
        } finally {
          this.#inProgress.delete(batchId);
          finish();
        }
      },
    );
  }

  #drawSubmissionFault(): { error: boolean; lost: boolean } {
    return drawCallFault(this.faults, this.#random);
  }

  #parseLine(draft: Draft, line: string, lineNumber: number): string | undefined {
    let value: unknown;
    try {
      value = JSON.parse(line) as unknown;
    } catch {
      return `line ${lineNumber}: not JSON`;
    }
    if (!isPlainObject(value)) return `line ${lineNumber}: not a JSON object`;
    if (draft.header === undefined) {
      const {
        connector,
        currency,
        cutoff_at: cutoffAt,
        item_count: itemCount,
        net_amount: netAmount,
      } = value;
      if (typeof connector !== 'string' || !this.#connectors.includes(connector))
        return `header: connector must be one of ${this.#connectors.join(', ')}`;
      if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))
        return 'header: currency must be a 3-letter code';
      const cutoffMs = parseTimestamp(cutoffAt);
      if (Number.isNaN(cutoffMs)) return 'header: cutoff_at must be an ISO-8601 timestamp';
      if (
        typeof itemCount !== 'number' ||
        !Number.isSafeInteger(itemCount) ||
        itemCount < 0 ||
        itemCount > ITEMS_PER_BATCH_MAX
      )
        return `header: item_count must be an integer from 0 to ${ITEMS_PER_BATCH_MAX}`;
      if (typeof netAmount !== 'number' || !Number.isSafeInteger(netAmount))
        return 'header: net_amount must be an integer';
      draft.header = {
        connector,
        currency: currency.toLowerCase(),
        cutoffAt: cutoffAt as string,
        cutoffMs,
        itemCount,
        netAmount,
      };
      return undefined;
    }
    const {
      item_id: itemId,
      psp_reference: ref,
      type,
      amount,
      currency,
      authorized_at: authorizedAt,
    } = value;
    const where = `line ${lineNumber}`;
    if (typeof itemId !== 'string' || itemId === '' || itemId.length > 255)
      return `${where}: item_id must be a string of 1–255 characters`;
    if (typeof ref !== 'string' || ref === '' || ref.length > 255)
      return `${where}: psp_reference must be a string of 1–255 characters`;
    if (type !== 'capture' && type !== 'refund') return `${where}: type must be capture or refund`;
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount))
      return `${where}: amount must be an integer`;
    if (typeof currency !== 'string') return `${where}: currency must be a string`;
    let authorized = Number.NaN;
    if (authorizedAt !== undefined && authorizedAt !== null) {
      authorized = parseTimestamp(authorizedAt);
      if (Number.isNaN(authorized)) return `${where}: authorized_at must be an ISO-8601 timestamp`;
    }
    if (draft.itemIds.length >= ITEMS_PER_BATCH_MAX)
      return `more than ${ITEMS_PER_BATCH_MAX} items in one batch`;
    draft.itemIds.push(itemId);
    draft.refs.push(ref);
    draft.types.push(type === 'capture' ? CAPTURE : REFUND);
    draft.amounts.push(amount);
    draft.currencyOk.push(currency.toLowerCase() === draft.header.currency);
    draft.authorizedMs.push(authorized);
    draft.net += type === 'capture' ? amount : -amount;
    return undefined;
  }

  /** Judges every item and records the batch: one synchronous step. */
  #commit(batchId: string, draft: Draft): Batch {
    const header = draft.header as NonNullable<Draft['header']>;
    const { connector, currency } = header;
    const count = draft.itemIds.length;
    const acceptedCaptures = this.#acceptedCaptures.get(connector) as Set<string>;
    const acceptedRefunds = this.#acceptedRefunds.get(connector) as Set<string>;
    const windowMs = this.settings.captureWindowDays * DAY_MS;
    const faults = this.faults;
    const results = new Uint8Array(count);
    const types = Uint8Array.from(draft.types);
    const amounts = Float64Array.from(draft.amounts);
    const acceptedIndexes: number[] = [];
    const schedule = this.fees.get(connector) as FeeSchedule;
    let acceptedAmount = 0;
    let feeTotal = 0;
    for (let index = 0; index < count; index += 1) {
      const ref = draft.refs[index] as string;
      const type = types[index] as number;
      const amount = amounts[index] as number;
      const known = this.lookup(connector, type, ref);
      const acceptedSet = type === CAPTURE ? acceptedCaptures : acceptedRefunds;
      let reason: ReasonCode | undefined;
      if (known === undefined) reason = 'unknown_reference';
      else if (known.accepted ?? acceptedSet.has(ref)) reason = 'duplicate';
      else if (
        amount !== known.amount ||
        amount <= 0 ||
        amount > AMOUNT_MAX ||
        !(draft.currencyOk[index] as boolean) ||
        known.currency !== currency
      )
        reason = 'amount_invalid';
      else if (type === CAPTURE) {
        const claimed = draft.authorizedMs[index] as number;
        const authorizedMs = Number.isNaN(claimed) ? known.authorizedMs : claimed;
        if (header.cutoffMs - authorizedMs > windowMs) reason = 'authorization_expired';
      }
      if (faults !== undefined) {
        const draw = faults.rejectRate > 0 ? this.#random() : 1;
        if (reason === undefined) {
          const targeted = faults.rejectReferences[ref];
          if (targeted !== undefined) reason = targeted;
          else if (draw < faults.rejectRate) reason = faults.rejectReason;
        }
      }
      if (reason === undefined) {
        if (known?.accepted === undefined) acceptedSet.add(ref);
        else known.accepted = true;
        acceptedIndexes.push(index);
        acceptedAmount += type === CAPTURE ? amount : -amount;
        feeTotal += itemFeeTotal(schedule, type === CAPTURE, amount);
      } else results[index] = 1 + REASON_CODES.indexOf(reason);
    }
    this.#seq += 1;
    const settlementReference =
      connector === 'stripe'
        ? randomId('po_')
        : connector === 'adyen'
          ? String((this.#adyenBatchNumber += 1))
          : randomId('setl_', 14);
    const acquirerReference = randomId('acq_');
    const acceptedCount = acceptedIndexes.length;
    const accepted = Int32Array.from(acceptedIndexes);
    const report = this.#bank.seeding.plan({
      batchId,
      connector,
      currency,
      cutoffAt: header.cutoffAt,
      cutoffMs: header.cutoffMs,
      settlementReference,
      itemIds: draft.itemIds,
      refs: draft.refs,
      types,
      amounts,
      accepted,
      fees: schedule,
      payout: acceptedAmount - feeTotal,
    });
    const headerText = JSON.stringify({
      batch_id: batchId,
      acquirer_reference: acquirerReference,
      status: 'accepted',
      accepted_count: acceptedCount,
      rejected_count: count - acceptedCount,
      accepted_amount: acceptedAmount,
      settlement_reference: settlementReference,
    });
    const batch: Batch = {
      id: batchId,
      seq: this.#seq,
      connector,
      currency,
      cutoffAt: header.cutoffAt,
      cutoffMs: header.cutoffMs,
      acquirerReference,
      settlementReference,
      settlementUtr: `SIMB${randomDigits(18)}`,
      itemIds: draft.itemIds,
      refs: draft.refs,
      types,
      amounts,
      results,
      accepted,
      netAmount: header.netAmount,
      acceptedAmount,
      fees: schedule,
      feeTotal,
      payoutAmount: report?.payout ?? acceptedAmount - feeTotal,
      report,
      headerText,
      executions: 1,
      submissions: 1,
    };
    this.batches.set(batchId, batch);
    this.#bySettlement.set(settlementReference, batch);
    this.#bank.recordSettlement(batch);
    return batch;
  }

  /** The answer of a batch, regenerated from what was recorded: the same bytes every time. */
  *answerChunks(batch: Batch): Generator<string> {
    let lines: string[] = [batch.headerText];
    const count = batch.itemIds.length;
    for (let index = 0; index < count; index += 1) {
      const result = batch.results[index] as number;
      lines.push(
        result === ACCEPTED
          ? `{"item_id":${JSON.stringify(batch.itemIds[index])},"result":"accepted"}`
          : `{"item_id":${JSON.stringify(batch.itemIds[index])},"result":"rejected","reason_code":"${REASON_CODES[result - 1]}"}`,
      );
      if (lines.length >= ANSWER_CHUNK_LINES) {
        yield `${lines.join('\n')}\n`;
        lines = [];
      }
    }
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
  }

  #sendAnswer(res: ServerResponse, batch: Batch): void {
    streamChunks(res, 200, 'application/x-ndjson', this.answerChunks(batch));
  }

  // ---- POST /_sim/ground_truth/bulk ----

  seedBulk(req: IncomingMessage, res: ServerResponse): void {
    let seeded = 0;
    readLines(
      req,
      (line, lineNumber) => {
        const problem = this.#seedLine(line);
        if (problem !== undefined) return `line ${lineNumber}: ${problem}`;
        seeded += 1;
        return undefined;
      },
      (error) => {
        if (error === undefined) answer(res, 200, JSON.stringify({ seeded }));
        else if (error.includes('capacity'))
          answer(res, 503, JSON.stringify({ error: { message: error }, seeded }));
        else answer(res, 400, JSON.stringify({ error: { message: error }, seeded }));
      },
    );
  }

  #seedLine(line: string): string | undefined {
    let value: unknown;
    try {
      value = JSON.parse(line) as unknown;
    } catch {
      return 'not JSON';
    }
    if (!isPlainObject(value)) return 'not a JSON object';
    const { psp, psp_reference: ref, type, amount, currency, authorized_at: authorizedAt } = value;
    if (typeof psp !== 'string' || !this.#connectors.includes(psp))
      return `psp must be one of ${this.#connectors.join(', ')}`;
    if (typeof ref !== 'string' || ref === '' || ref.length > 255)
      return 'psp_reference must be a string of 1–255 characters';
    if (type !== 'capture' && type !== 'refund') return 'type must be capture or refund';
    if (
      typeof amount !== 'number' ||
      !Number.isSafeInteger(amount) ||
      amount <= 0 ||
      amount > AMOUNT_MAX
    )
      return `amount must be an integer from 1 to ${AMOUNT_MAX}`;
    if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))
      return 'currency must be a 3-letter code';
    const authorizedMs =
      authorizedAt === undefined || authorizedAt === null
        ? Number.NaN
        : parseTimestamp(authorizedAt);
    if (type === 'capture' && Number.isNaN(authorizedMs))
      return 'authorized_at must be an ISO-8601 timestamp';
    const reference = typeof value.reference === 'string' ? value.reference : null;
    const paymentId = typeof value.payment_reference === 'string' ? value.payment_reference : null;
    const map = (type === 'capture' ? this.#seededCaptures : this.#seededRefunds).get(psp) as Map<
      string,
      Known
    >;
    if (!map.has(ref)) {
      if (this.#seedCount >= SEEDS_MAX)
        return `the simulator is at its capacity of ${SEEDS_MAX} seeded records`;
      this.#seedCount += 1;
    }
    map.set(ref, {
      amount,
      currency: currency.toLowerCase(),
      authorizedMs,
      reference,
      paymentId,
      accepted: false,
    });
    return undefined;
  }

  get seedCount(): number {
    return this.#seedCount;
  }

  // ---- ground truth ----

  *groundTruthChunks(connector: string | undefined, withItems: boolean): Generator<string> {
    let first = true;
    yield '{"batches":{';
    for (const batch of this.batches.values()) {
      if (connector !== undefined && batch.connector !== connector) continue;
      const summary = JSON.stringify(batchSummary(batch));
      const head = `${first ? '' : ','}${JSON.stringify(batch.id)}:${summary.slice(0, -1)}`;
      first = false;
      if (!withItems) {
        yield `${head}}`;
        continue;
      }
      yield `${head},"items":[`;
      let parts: string[] = [];
      for (let index = 0; index < batch.itemIds.length; index += 1) {
        const result = batch.results[index] as number;
        parts.push(
          JSON.stringify({
            item_id: batch.itemIds[index],
            psp_reference: batch.refs[index],
            type: batch.types[index] === CAPTURE ? 'capture' : 'refund',
            amount: batch.amounts[index],
            result: result === ACCEPTED ? 'accepted' : 'rejected',
            ...(result === ACCEPTED ? {} : { reason_code: REASON_CODES[result - 1] }),
          }),
        );
        if (parts.length >= ANSWER_CHUNK_LINES) {
          yield (index + 1 > parts.length ? ',' : '') + parts.join(',');
          parts = [];
        }
      }
      if (parts.length > 0)
        yield (batch.itemIds.length > parts.length ? ',' : '') + parts.join(',');
      yield ']}';
    }
    yield `},"seeded":${this.#seedCount}}`;
  }
}

export function batchSummary(batch: Batch): Record<string, unknown> {
  return {
    batch_id: batch.id,
    connector: batch.connector,
    currency: batch.currency,
    cutoff_at: batch.cutoffAt,
    executions: batch.executions,
    submissions: batch.submissions,
    item_count: batch.itemIds.length,
    net_amount: batch.netAmount,
    accepted_count: batch.accepted.length,
    rejected_count: batch.itemIds.length - batch.accepted.length,
    accepted_amount: batch.acceptedAmount,
    fee_amount: batch.feeTotal,
    payout_amount: batch.payoutAmount,
    acquirer_reference: batch.acquirerReference,
    settlement_reference: batch.settlementReference,
    settlement_utr: batch.settlementUtr,
  };
}

function checkHeader(draft: Draft): string | undefined {
  const header = draft.header;
  if (header === undefined) return 'the body has no header line';
  if (draft.itemIds.length !== header.itemCount)
    return `header_mismatch: item_count is ${header.itemCount} but the batch has ${draft.itemIds.length} items`;
  if (draft.net !== header.netAmount)
    return `header_mismatch: net_amount is ${header.netAmount} but the items net ${draft.net}`;
  return undefined;
}

export function parseAcquirerSettings(
  body: unknown,
  current: AcquirerSettings,
): Parsed<AcquirerSettings> {
  return readSettings(body, current, (_key, value) => checkInteger(value, 0, 3650));
}

export function parseAcquirerFaults(body: unknown): Parsed<AcquirerFaults> {
  const parsed = readSettings(body, { ...NO_ACQUIRER_FAULTS, seed: randomSeed() }, (key, value) => {
    if (key === 'seed') return checkInteger(value, 0, 4294967295);
    if (key === 'errorNext' || key === 'loseNext') return checkInteger(value, 0, 1_000_000);
    if (key === 'rejectReason')
      return REASON_CODES.includes(value as ReasonCode)
        ? undefined
        : `one of ${REASON_CODES.join(', ')}`;
    if (key === 'rejectReferences') {
      if (!isPlainObject(value)) return 'must be an object {psp_reference: reason_code}';
      const bad = Object.values(value).find(
        (reason) => !REASON_CODES.includes(reason as ReasonCode),
      );
      return bad === undefined ? undefined : `reasons are ${REASON_CODES.join(', ')}`;
    }
    return checkRate(value);
  });
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    value: { ...parsed.value, rejectReferences: { ...parsed.value.rejectReferences } },
  };
}

/** Reads and drops the rest of a body, then acts (so keep-alive stays usable). */
export function drainThen(req: IncomingMessage, then: () => void): void {
  if (req.readableEnded) {
    then();
    return;
  }
  req.on('error', () => undefined);
  req.on('end', then);
  req.resume();
}

export function answer(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'application/json',
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes chunks with backpressure (a 350,000-line answer is not built in memory at once). */
export function streamChunks(
  res: ServerResponse,
  status: number,
  contentType: string,
  chunks: Iterator<string>,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, ...headers });
  const pump = (): void => {
    for (;;) {
      if (res.destroyed) return;
      const next = chunks.next();
      if (next.done === true) {
        res.end();
        return;
      }
      if (!res.write(next.value)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}
