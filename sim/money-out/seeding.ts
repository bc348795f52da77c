// Seeded reconciliation discrepancies (CONTRACT.md "Reconciliation seeding"): the simulator's PSPs
// and bank differ from what Payrail expects in known ways, at rates drawn from a seeded PRNG or on
// explicit targets, and the simulator lists exactly what it injected. Each batch's report is
// decided once, when the batch is acknowledged, and kept as a plan (so a report fetched twice is
// the same bytes); every report's lines add up to what the bank credits for it (split credits sum
// to it). Off until configured; then only the configured kinds are drawn.
import { seededRandom } from '../../src/random.ts';
import { isPlainObject } from '../json.ts';
import { checkInteger, randomSeed, writtenDate, type Parsed } from './common.ts';
import { itemFees, type FeeBreakdown, type FeeSchedule } from './fees.ts';

export const SEEDED_KINDS = [
  'missing_line',
  'unexpected_line',
  'duplicate_line',
  'fee_variance',
  'amount_off_by_one',
  'late_line',
  'payout_returned',
  'split_settlement',
] as const;
export type SeededKind = (typeof SEEDED_KINDS)[number];

/** Kinds drawn once per accepted item of a batch (one draw decides among them). */
const LINE_KINDS = [
  'missing_line',
  'unexpected_line',
  'duplicate_line',
  'fee_variance',
  'amount_off_by_one',
  'late_line',
] as const;
type LineKind = (typeof LINE_KINDS)[number];
/** Kinds whose targets are accepted items' PSP references (unexpected_line targets batch ids). */
const ITEM_KINDS = LINE_KINDS.filter((kind) => kind !== 'unexpected_line');

export type SeedingSettings = {
  readonly seed: number;
  readonly rates: Readonly<Record<SeededKind, number>>;
  /** Line kinds: PSP references; unexpected_line and split_settlement: batch ids; payout_returned: payout ids. */
  readonly targets: Readonly<Record<SeededKind, readonly string[]>>;
  /** Minor units added to a fee_variance line's fee (the sign flips if the fee would go below 0). */
  readonly feeVariance: number;
  /** +1 or −1: how an amount_off_by_one line's gross differs. */
  readonly amountOffBy: number;
  /** The gross of an unexpected line; null: drawn from 100 to 99,999. */
  readonly unexpectedAmount: number | null;
  readonly returnCode: string;
  readonly returnAfterDays: number;
};

/** A report line that is not simply an accepted item of the batch in submission order. */
export type ExtraLine = {
  readonly capture: boolean;
  /** Gross, positive. */
  readonly amount: number;
  readonly ref: string;
  readonly fees: FeeBreakdown;
  /** When the line was created: its own batch's cutoff (a carried late line keeps its day). */
  readonly createdMs: number;
};

/** Deltas of one line: gross (in the line's own direction) and fee. */
export type Adjustment = { readonly gross: number; readonly fee: number };

/** A batch's report as decided when it was acknowledged. */
export type ReportPlan = {
  /** The accepted positions the report lists, ascending (missing and late lines left out). */
  readonly order: Int32Array;
  readonly adjustments: ReadonlyMap<number, Adjustment>;
  /** Lines after the listed items: duplicates, carried late lines, unexpected lines. */
  readonly extra: readonly ExtraLine[];
  /** Σ net of every line: what the PSP pays for the settlement. */
  readonly payout: number;
};

/** What the acquirer knows of a batch when it is acknowledged. */
export type PlanInput = {
  readonly batchId: string;
  readonly connector: string;
  readonly currency: string;
  readonly cutoffAt: string;
  readonly cutoffMs: number;
  readonly settlementReference: string;
  readonly itemIds: readonly string[];
  readonly refs: readonly string[];
  readonly types: Uint8Array;
  readonly amounts: Float64Array;
  readonly accepted: Int32Array;
  readonly fees: FeeSchedule;
  /** Accepted amount − fees: the payout of the plain report. */
  readonly payout: number;
};

export type Injected = {
  readonly seq: number;
  readonly kind: SeededKind;
  readonly connector: string | null;
  readonly currency: string;
  readonly subject: {
    psp_reference?: string;
    settlement_reference?: string;
    payout_id?: string;
    batch_id?: string;
  };
  readonly amount?: number;
  readonly details: Record<string, unknown>;
};

type PendingLate = {
  readonly line: ExtraLine;
  readonly cutoffOn: string;
  readonly entry: Injected;
};

const UNEXPECTED_PREFIX: Readonly<Record<string, { prefix: string; length: number }>> = {
  stripe: { prefix: 'pi_', length: 24 },
  adyen: { prefix: '', length: 16 },
  razorpay: { prefix: 'pay_', length: 14 },
  paytm: { prefix: 'txn_', length: 24 },
};
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The signed net of a line: capture gross − fee, refund −(gross + fee). */
function lineNet(capture: boolean, amount: number, fee: number): number {
  return capture ? amount - fee : -amount - fee;
}

/** The report's line number as Payrail's parsers number it: CSV file line, or index + 1. */
export function reportLine(connector: string, position: number): number {
  return connector === 'adyen' ? position + 2 : position + 1;
}

export class ReconSeeding {
  settings: SeedingSettings | undefined;
  #random: () => number = Math.random;
  #targets = new Map<string, SeededKind>();
  #batchTargets = new Map<string, { unexpected: number; split: boolean }>();
  #payoutTargets = new Set<string>();
  readonly #injected: Injected[] = [];
  readonly #pending = new Map<string, PendingLate[]>();
  #seq = 0;

  reset(): void {
    this.configure(undefined);
    this.#injected.length = 0;
    this.#pending.clear();
    this.#seq = 0;
  }

  /** Replaces the settings and restarts the PRNG from the seed; what was injected stays listed. */
  configure(settings: SeedingSettings | undefined): void {
    this.settings = settings;
    this.#random = settings === undefined ? Math.random : seededRandom(settings.seed);
    this.#targets = new Map();
    this.#batchTargets = new Map();
    this.#payoutTargets = new Set(settings?.targets.payout_returned ?? []);
    if (settings === undefined) return;
    for (const kind of ITEM_KINDS)
      for (const ref of settings.targets[kind])
        if (!this.#targets.has(ref)) this.#targets.set(ref, kind);
    const batchTarget = (id: string) => {
      let target = this.#batchTargets.get(id);
      if (target === undefined)
        this.#batchTargets.set(id, (target = { unexpected: 0, split: false }));
      return target;
    };
    for (const id of settings.targets.unexpected_line) batchTarget(id).unexpected += 1;
    for (const id of settings.targets.split_settlement) batchTarget(id).split = true;
  }

  #record(entry: Omit<Injected, 'seq'>): Injected {
    this.#seq += 1;
    const recorded: Injected = { ...entry, seq: this.#seq };
    this.#injected.push(recorded);
    return recorded;
  }

  /**
   * The report of a batch being acknowledged, or undefined for the plain report (seeding off and
   * no late line waiting for this connector and currency): one decision per batch, kept with it.
   */
  plan(input: PlanInput): ReportPlan | undefined {
    const pendingKey = `${input.connector}:${input.currency}`;
    const cutoffOn = writtenDate(input.cutoffAt);
    const waiting = this.#pending.get(pendingKey) ?? [];
    const carried = waiting.filter((late) => late.cutoffOn < cutoffOn);
    if (this.settings === undefined && carried.length === 0) return undefined;
    const kinds = this.#drawLineKinds(input);
    const omitted = new Set<number>();
    for (const [k, kind] of kinds)
      if (kind === 'missing_line' || kind === 'late_line') omitted.add(k);
    const order = new Int32Array(input.accepted.length - omitted.size);
    for (let k = 0, position = 0; k < input.accepted.length; k += 1)
      if (!omitted.has(k)) order[position++] = k;
    const builder = new PlanBuilder(input, order, reportLine);
    this.#applyItemKinds(input, kinds, builder, cutoffOn, pendingKey);
    if (carried.length > 0) {
      this.#pending.set(
        pendingKey,
        waiting.filter((late) => !carried.includes(late)),
      );
      for (const late of carried) {
        const position = builder.add(late.line);
        late.entry.details.reported_in = {
          batch_id: input.batchId,
          settlement_reference: input.settlementReference,
          cutoff_on: cutoffOn,
          line: reportLine(input.connector, position),
        };
      }
    }
    this.#addUnexpected(input, kinds.unexpected, builder);
    return builder.finish();
  }

  /** Per accepted item: a targeted kind, or one draw among the line kinds' rates. */
  #drawLineKinds(input: PlanInput): Map<number, LineKind> & { unexpected: number } {
    const kinds = Object.assign(new Map<number, LineKind>(), { unexpected: 0 });
    const settings = this.settings;
    if (settings === undefined) return kinds;
    const drawing = LINE_KINDS.some((kind) => settings.rates[kind] > 0);
    for (let k = 0; k < input.accepted.length; k += 1) {
      const draw = drawing ? this.#random() : 1;
      const ref = input.refs[input.accepted[k] as number] as string;
      const targeted = this.#targets.get(ref);
      if (targeted !== undefined) {
        kinds.set(k, targeted as LineKind);
        continue;
      }
      let band = 0;
      for (const kind of LINE_KINDS) {
        band += settings.rates[kind];
        if (draw >= band) continue;
        if (kind === 'unexpected_line') kinds.unexpected += 1;
        else kinds.set(k, kind);
        break;
      }
    }
    kinds.unexpected += this.#batchTargets.get(input.batchId)?.unexpected ?? 0;
    return kinds;
  }

  #applyItemKinds(
    input: PlanInput,
    kinds: ReadonlyMap<number, LineKind>,
    builder: PlanBuilder,
    cutoffOn: string,
    pendingKey: string,
  ): void {
    const settings = this.settings as SeedingSettings;
    const sorted = [...kinds.keys()].sort((left, right) => left - right);
    for (const k of sorted) {
      const kind = kinds.get(k) as LineKind;
      const line = builder.itemLine(k);
      const index = input.accepted[k] as number;
      const base = {
        kind,
        connector: input.connector,
        currency: input.currency,
        subject: {
          psp_reference: line.ref,
          settlement_reference: input.settlementReference,
          batch_id: input.batchId,
        },
        amount: line.capture ? line.amount : -line.amount,
      };
      const item = { item_id: input.itemIds[index], type: line.capture ? 'charge' : 'refund' };
      if (kind === 'missing_line') {
        builder.omit(line);
        this.#record({ ...base, details: { ...item, fee: line.fees.total } });
      } else if (kind === 'late_line') {
        builder.omit(line);
        const entry = this.#record({
          ...base,
          details: { ...item, fee: line.fees.total, reported_in: null },
        });
        const queue = this.#pending.get(pendingKey) ?? [];
        queue.push({ line, cutoffOn, entry });
        this.#pending.set(pendingKey, queue);
      } else if (kind === 'duplicate_line') {
        const position = builder.add(line);
        const lines = [builder.lineOf(k), reportLine(input.connector, position)];
        this.#record({ ...base, details: { ...item, fee: line.fees.total, lines } });
      } else if (kind === 'fee_variance') {
        const delta =
          line.fees.total + settings.feeVariance < 0
            ? Math.abs(settings.feeVariance)
            : settings.feeVariance;
        builder.adjust(k, { gross: 0, fee: delta });
        this.#record({
          ...base,
          details: {
            ...item,
            line: builder.lineOf(k),
            expected_fee: line.fees.total,
            reported_fee: line.fees.total + delta,
            difference: delta,
          },
        });
      } else {
        // amount_off_by_one: the gross moves away from the item's (never to 0); the fee stays.
        const delta = line.amount + settings.amountOffBy < 1 ? 1 : settings.amountOffBy;
        builder.adjust(k, { gross: delta, fee: 0 });
        const signed = line.capture ? delta : -delta;
        this.#record({
          ...base,
          details: {
            ...item,
            line: builder.lineOf(k),
            expected_amount: base.amount,
            reported_amount: base.amount + signed,
            difference: signed,
          },
        });
      }
    }
  }

  /** Lines for PSP references Payrail never captured: charges, amounts unlike the batch's items. */
  #addUnexpected(input: PlanInput, count: number, builder: PlanBuilder): void {
    if (count === 0) return;
    const settings = this.settings as SeedingSettings;
    const taken = new Set<number>();
    for (const index of input.accepted) taken.add(input.amounts[index] as number);
    const shape = UNEXPECTED_PREFIX[input.connector] ?? { prefix: 'ref_', length: 24 };
    const alphabet = input.connector === 'adyen' ? UPPER_ALPHANUMERIC : ALPHANUMERIC;
    for (let n = 0; n < count; n += 1) {
      let amount = settings.unexpectedAmount ?? 100 + Math.floor(this.#random() * 99_900);
      // An amount equal to an item's could pair with that item's missing expectation in a
      // tolerance pass: keep it apart from every item of the batch.
      while (taken.has(amount)) amount += 1;
      taken.add(amount);
      let ref = shape.prefix;
      for (let c = 0; c < shape.length; c += 1)
        ref += alphabet.charAt(Math.floor(this.#random() * alphabet.length));
      const fees = itemFees(input.fees, 'capture', amount);
      const position = builder.add({ capture: true, amount, ref, fees, createdMs: input.cutoffMs });
      this.#record({
        kind: 'unexpected_line',
        connector: input.connector,
        currency: input.currency,
        subject: {
          psp_reference: ref,
          settlement_reference: input.settlementReference,
          batch_id: input.batchId,
        },
        amount,
        details: {
          type: 'charge',
          line: reportLine(input.connector, position),
          fee: fees.total,
          net: amount - fees.total,
        },
      });
    }
  }

  // ---- the bank's side ----

  /** Why seeding splits a settlement credit ('target' | 'rate'), or undefined (one draw per settlement while set). */
  splits(batchId: string): string | undefined {
    const settings = this.settings;
    if (settings === undefined) return undefined;
    const draw = this.#random();
    if (this.#batchTargets.get(batchId)?.split === true) return 'target';
    return draw < settings.rates.split_settlement ? 'rate' : undefined;
  }

  /** The return seeding gives a payout being paid, or undefined (one draw per paid payout while set). */
  returns(payoutId: string): { code: string; afterDays: number; cause: string } | undefined {
    const settings = this.settings;
    if (settings === undefined) return undefined;
    const draw = this.#random();
    const targeted = this.#payoutTargets.has(payoutId);
    if (!targeted && draw >= settings.rates.payout_returned) return undefined;
    return {
      code: settings.returnCode,
      afterDays: settings.returnAfterDays,
      cause: targeted ? 'target' : 'rate',
    };
  }

  recordSplit(split: {
    batchId: string;
    connector: string;
    currency: string;
    settlementReference: string;
    amount: number;
    entries: { entry_reference: string; amount: number; booked_on: string }[];
    cause: string;
  }): void {
    this.#record({
      kind: 'split_settlement',
      connector: split.connector,
      currency: split.currency,
      subject: { settlement_reference: split.settlementReference, batch_id: split.batchId },
      amount: split.amount,
      details: { entries: split.entries, cause: split.cause },
    });
  }

  recordReturn(returned: {
    payoutId: string;
    amount: number;
    currency: string;
    details: Record<string, unknown>;
  }): void {
    this.#record({
      kind: 'payout_returned',
      connector: null,
      currency: returned.currency,
      subject: { payout_id: returned.payoutId },
      amount: returned.amount,
      details: returned.details,
    });
  }

  /** Everything injected, in a stable order (kind, connector, currency, batch, reference, payout). */
  injected(filter: { connector?: string; kind?: string } = {}): Record<string, unknown>[] {
    const key = (entry: Injected): string[] => [
      String(SEEDED_KINDS.indexOf(entry.kind)).padStart(2, '0'),
      entry.connector ?? '',
      entry.currency,
      entry.subject.batch_id ?? '',
      entry.subject.psp_reference ?? '',
      entry.subject.payout_id ?? '',
      String(entry.seq).padStart(12, '0'),
    ];
    const compare = (left: Injected, right: Injected): number => {
      const a = key(left);
      const b = key(right);
      for (let index = 0; index < a.length; index += 1) {
        if ((a[index] as string) < (b[index] as string)) return -1;
        if ((a[index] as string) > (b[index] as string)) return 1;
      }
      return 0;
    };
    return this.#injected
      .filter(
        (entry) =>
          (filter.connector === undefined || entry.connector === filter.connector) &&
          (filter.kind === undefined || entry.kind === filter.kind),
      )
      .sort(compare)
      .map(({ seq: _seq, ...entry }) => ({ ...entry, details: { ...entry.details } }));
  }
}

/** Builds a plan: the listed items, their adjustments, the extra lines and the payout. */
class PlanBuilder {
  readonly #input: PlanInput;
  readonly #order: Int32Array;
  readonly #adjustments = new Map<number, Adjustment>();
  readonly #extra: ExtraLine[] = [];
  readonly #numbering: (connector: string, position: number) => number;
  #payout: number;

  constructor(
    input: PlanInput,
    order: Int32Array,
    numbering: (connector: string, position: number) => number,
  ) {
    this.#input = input;
    this.#order = order;
    this.#numbering = numbering;
    this.#payout = input.payout;
  }

  itemLine(k: number): ExtraLine {
    const index = this.#input.accepted[k] as number;
    const capture = this.#input.types[index] === 0;
    const amount = this.#input.amounts[index] as number;
    return {
      capture,
      amount,
      ref: this.#input.refs[index] as string,
      fees: itemFees(this.#input.fees, capture ? 'capture' : 'refund', amount),
      createdMs: this.#input.cutoffMs,
    };
  }

  /** The report line number of accepted position k (which must be listed). */
  lineOf(k: number): number {
    let low = 0;
    let high = this.#order.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.#order[middle] as number) < k) low = middle + 1;
      else high = middle;
    }
    return this.#numbering(this.#input.connector, low);
  }

  omit(line: ExtraLine): void {
    this.#payout -= lineNet(line.capture, line.amount, line.fees.total);
  }

  adjust(k: number, adjustment: Adjustment): void {
    this.#adjustments.set(k, adjustment);
    const capture = this.#input.types[this.#input.accepted[k] as number] === 0;
    this.#payout += (capture ? adjustment.gross : -adjustment.gross) - adjustment.fee;
  }

  /** Appends a line; returns its position in the report (0-based). */
  add(line: ExtraLine): number {
    this.#extra.push(line);
    this.#payout += lineNet(line.capture, line.amount, line.fees.total);
    return this.#order.length + this.#extra.length - 1;
  }

  finish(): ReportPlan {
    return {
      order: this.#order,
      adjustments: this.#adjustments,
      extra: this.#extra,
      payout: this.#payout,
    };
  }
}

/** Fees of an adjusted line: a fee delta goes into the commission (and so the total). */
export function adjustedFees(fees: FeeBreakdown, adjustment: Adjustment | undefined): FeeBreakdown {
  if (adjustment === undefined || adjustment.fee === 0) return fees;
  return {
    ...fees,
    commission: fees.commission + adjustment.fee,
    total: fees.total + adjustment.fee,
  };
}

const TARGETS_MAX = 100_000;
const NO_RATES = Object.fromEntries(SEEDED_KINDS.map((kind) => [kind, 0])) as Record<
  SeededKind,
  number
>;
const NO_TARGETS = Object.fromEntries(SEEDED_KINDS.map((kind) => [kind, [] as string[]])) as Record<
  SeededKind,
  string[]
>;

/** Validates a PUT /_sim/reconciliation body; absent fields take their defaults. */
export function parseSeeding(
  body: unknown,
  returnCodes: readonly string[],
  amountMax: number,
): Parsed<SeedingSettings> {
  if (!isPlainObject(body)) return { ok: false, message: 'body must be a JSON object' };
  const fields = [
    'seed',
    'rates',
    'targets',
    'feeVariance',
    'amountOffBy',
    'unexpectedAmount',
    'returnCode',
    'returnAfterDays',
  ];
  const unknown = Object.keys(body).find((key) => !fields.includes(key));
  if (unknown !== undefined)
    return { ok: false, message: `unknown field "${unknown}"; fields are ${fields.join(', ')}` };
  const rates = readKinds(body.rates, 'rates', NO_RATES, (value) =>
    typeof value === 'number' && value >= 0 && value <= 1 ? value : undefined,
  );
  if (typeof rates === 'string') return { ok: false, message: rates };
  const lineRates = LINE_KINDS.reduce((sum, kind) => sum + rates[kind], 0);
  if (lineRates > 1)
    return { ok: false, message: `rates: the line kinds' rates add up to ${lineRates}, above 1` };
  const targets = readTargets(body.targets);
  if (typeof targets === 'string') return { ok: false, message: targets };
  const problem =
    optionalCheck(body.seed, (value) => checkInteger(value, 0, 4294967295), 'seed') ??
    optionalCheck(body.feeVariance, checkFeeVariance, 'feeVariance') ??
    optionalCheck(
      body.amountOffBy,
      (value) => (value === 1 || value === -1 ? undefined : 'must be 1 or -1'),
      'amountOffBy',
    ) ??
    optionalCheck(
      body.unexpectedAmount,
      (value) => (value === null ? undefined : checkInteger(value, 1, amountMax)),
      'unexpectedAmount',
    ) ??
    optionalCheck(
      body.returnCode,
      (value) =>
        typeof value === 'string' && returnCodes.includes(value)
          ? undefined
          : `one of ${returnCodes.join(', ')}`,
      'returnCode',
    ) ??
    optionalCheck(body.returnAfterDays, (value) => checkInteger(value, 0, 60), 'returnAfterDays');
  if (problem !== undefined) return { ok: false, message: problem };
  return {
    ok: true,
    value: {
      seed: (body.seed as number | undefined) ?? randomSeed(),
      rates,
      targets,
      feeVariance: (body.feeVariance as number | undefined) ?? 1,
      amountOffBy: (body.amountOffBy as number | undefined) ?? 1,
      unexpectedAmount: (body.unexpectedAmount as number | null | undefined) ?? null,
      returnCode: (body.returnCode as string | undefined) ?? 'account_closed',
      returnAfterDays: (body.returnAfterDays as number | undefined) ?? 2,
    },
  };
}

function checkFeeVariance(value: unknown): string | undefined {
  return checkInteger(value, -1_000_000, 1_000_000) ?? (value === 0 ? 'must not be 0' : undefined);
}

function optionalCheck(
  value: unknown,
  check: (value: unknown) => string | undefined,
  field: string,
): string | undefined {
  if (value === undefined) return undefined;
  const problem = check(value);
  return problem === undefined ? undefined : `${field}: ${problem}`;
}

/** An object keyed by seeded kinds (unknown kinds refused), each value read by read. */
function readKinds<T>(
  value: unknown,
  field: string,
  defaults: Readonly<Record<SeededKind, T>>,
  read: (value: unknown) => T | undefined,
): Record<SeededKind, T> | string {
  const result = { ...defaults };
  if (value === undefined) return result;
  if (!isPlainObject(value)) return `${field} must be an object keyed by kind`;
  for (const [key, raw] of Object.entries(value)) {
    if (!SEEDED_KINDS.includes(key as SeededKind))
      return `${field}: unknown kind "${key}"; kinds are ${SEEDED_KINDS.join(', ')}`;
    const parsed = read(raw);
    if (parsed === undefined)
      return `${field}.${key}: ${field === 'rates' ? 'must be a number from 0 to 1' : 'must be an array of strings of 1–255 characters'}`;
    result[key as SeededKind] = parsed;
  }
  return result;
}

function readTargets(value: unknown): Record<SeededKind, string[]> | string {
  let total = 0;
  const targets = readKinds(value, 'targets', NO_TARGETS, (raw) => {
    if (!Array.isArray(raw)) return undefined;
    total += raw.length;
    return raw.every((id) => typeof id === 'string' && id.length >= 1 && id.length <= 255)
      ? [...(raw as string[])]
      : undefined;
  });
  if (typeof targets !== 'string' && total > TARGETS_MAX)
    return `targets: at most ${TARGETS_MAX} in all`;
  return targets;
}
