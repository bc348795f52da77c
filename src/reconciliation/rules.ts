// The rules a reconciliation run matches by (architecture §13): per-source deadlines and
// tolerances, the one-to-many bound, and the PSPs' fee schedules. Everything that can change a
// run's result is here and hashed into the run's `rules_hash`, so two runs with the same inputs and
// the same hash give the same result.
import crypto from 'node:crypto';
import type { RecordSource } from './tables.ts';

export type SourceRules = {
  /** Days after the expected day a line may still arrive before it is missing (later: late). */
  readonly deadlineDays: number;
  /** Largest |difference| in minor units that still counts as the same amount. */
  readonly amountBand: bigint;
  /** Largest |days| between expected and actual day for the tolerance pass. */
  readonly dateWindowDays: number;
};

/** A PSP's fee contract, as the simulator computes it (sim/money-out/fees.ts). */
export type FeeSchedule = {
  readonly commissionBps: number;
  readonly commissionFixed: bigint;
  readonly markupBps: number;
  readonly schemeFeeBps: number;
  readonly interchangeBps: number;
  readonly taxBps: number;
  readonly refundFixed: bigint;
};

export type ReconRules = {
  readonly sources: Readonly<Record<'psp_report' | 'bank_statement', SourceRules>>;
  /** At most this many credits make up one batch, or batches one credit (aggregate pass). */
  readonly aggregateMembersMax: number;
  /** The aggregate pass looks at most at this many candidate links (the small remainder). */
  readonly aggregateLinksMax: number;
  readonly feeSchedules: Readonly<Record<string, FeeSchedule>>;
};

/** A schedule that charges nothing: the base of every default and of a connector set anew. */
export const zeroFees: FeeSchedule = {
  commissionBps: 0,
  commissionFixed: 0n,
  markupBps: 0,
  schemeFeeBps: 0,
  interchangeBps: 0,
  taxBps: 0,
  refundFixed: 0n,
};

/** The simulator's DEFAULT_FEES (sim/money-out/fees.ts): what the PSPs' contracts say by default. */
export const defaultFeeSchedules: Readonly<Record<string, FeeSchedule>> = {
  stripe: { ...zeroFees, commissionBps: 290, commissionFixed: 30n },
  adyen: { ...zeroFees, commissionFixed: 11n, markupBps: 60, schemeFeeBps: 2, interchangeBps: 30 },
  razorpay: { ...zeroFees, commissionBps: 200, taxBps: 1800 },
  paytm: { ...zeroFees, commissionBps: 199, taxBps: 1800 },
};

export const defaultRules: ReconRules = {
  sources: {
    psp_report: { deadlineDays: 0, amountBand: 0n, dateWindowDays: 0 },
    bank_statement: { deadlineDays: 0, amountBand: 0n, dateWindowDays: 3 },
  },
  aggregateMembersMax: 4,
  aggregateLinksMax: 100_000,
  feeSchedules: defaultFeeSchedules,
};

export const ruleLimits = { deadlineDaysMax: 60, dateWindowDaysMax: 31, aggregateMembersMax: 16 };

/** Throws on rules outside their bounds (a bug or a bad configuration, not a caller's input). */
export function assertRules(rules: ReconRules): void {
  for (const [source, rule] of Object.entries(rules.sources)) {
    const ok =
      Number.isInteger(rule.deadlineDays) &&
      rule.deadlineDays >= 0 &&
      rule.deadlineDays <= ruleLimits.deadlineDaysMax &&
      Number.isInteger(rule.dateWindowDays) &&
      rule.dateWindowDays >= 0 &&
      rule.dateWindowDays <= ruleLimits.dateWindowDaysMax &&
      rule.amountBand >= 0n;
    if (!ok) throw new Error(`reconciliation rules: ${source} out of bounds`);
  }
  const members = rules.aggregateMembersMax;
  if (!Number.isInteger(members) || members < 2 || members > ruleLimits.aggregateMembersMax)
    throw new Error('reconciliation rules: aggregateMembersMax out of bounds');
}

/** Fee schedules in force: the defaults, each replaced by a stored row (recon_fee_schedules). */
export function withStoredSchedules(
  rules: ReconRules,
  stored: ReadonlyMap<string, FeeSchedule>,
): ReconRules {
  return { ...rules, feeSchedules: { ...rules.feeSchedules, ...Object.fromEntries(stored) } };
}

export function ruleFor(rules: ReconRules, source: RecordSource): SourceRules {
  return source === 'bank_statement' ? rules.sources.bank_statement : rules.sources.psp_report;
}

/** sha256 of the rules in a canonical form (keys sorted, bigints as strings). */
export function rulesHash(rules: ReconRules): string {
  return crypto.createHash('sha256').update(canonical(rules)).digest('hex');
}

function canonical(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fee schedules as an SQL relation `(connector, commission_bps, …)` over parameters from
 * `first`: one row per connector, so expectations compute their fee set-based.
 */
export function feeSchedulesSql(
  rules: ReconRules,
  first: number,
): { sql: string; parameters: unknown[] } {
  const entries = Object.entries(rules.feeSchedules).sort(([a], [b]) => (a < b ? -1 : 1));
  const column = (pick: (schedule: FeeSchedule) => number | bigint) =>
    entries.map(([, schedule]) => String(pick(schedule)));
  const parameters = [
    entries.map(([connector]) => connector),
    column((s) => s.commissionBps),
    column((s) => s.commissionFixed),
    column((s) => s.markupBps),
    column((s) => s.schemeFeeBps),
    column((s) => s.interchangeBps),
    column((s) => s.taxBps),
    column((s) => s.refundFixed),
  ];
  const types = ['text', 'int', 'bigint', 'int', 'int', 'int', 'int', 'bigint'];
  const sql = `(SELECT * FROM unnest(${types.map((type, index) => `$${first + index}::${type}[]`).join(', ')})
    AS fees (connector, commission_bps, commission_fixed, markup_bps, scheme_fee_bps,
             interchange_bps, tax_bps, refund_fixed))`;
  return { sql, parameters };
}

/** amount × bps / 10000 rounded half up, in SQL (amount ≥ 0), as the simulator rounds. */
const bps = (amount: string, points: string) => `((${amount}) * ${points} + 5000) / 10000`;

/**
 * The fee a line is expected to carry, in SQL over an item's signed `amount` and a row `f` of
 * `feeSchedulesSql`: a charge pays each component rounded half up and tax on their sum; a refund
 * pays the fixed refund fee and its tax.
 */
export function expectedFeeSql(amount: string, f: string): string {
  const components = `(${bps(amount, `${f}.commission_bps`)} + ${f}.commission_fixed
    + ${bps(amount, `${f}.markup_bps`)} + ${bps(amount, `${f}.scheme_fee_bps`)}
    + ${bps(amount, `${f}.interchange_bps`)})`;
  const refund = `(${f}.refund_fixed + ${bps(`${f}.refund_fixed`, `${f}.tax_bps`)})`;
  return `CASE WHEN ${f}.connector IS NULL THEN NULL
               WHEN ${amount} < 0 THEN ${refund}
               ELSE ${components} + ${bps(components, `${f}.tax_bps`)} END`;
}
