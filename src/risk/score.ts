// The risk score: 0–100, the capped sum of the weights of the signals a payment shows. No opaque
// model: each signal is a plain test on the decision's attributes (below, with its threshold),
// and a merchant tunes how much each counts (`weights`, posted as risk settings and checked by
// `checkRiskWeights`). The level follows from the score with Stripe's default thresholds
// (elevated from 65, highest from 75), also tunable. Velocity signals read velocity attributes:
// when the store is unavailable those are missing and their signals stay silent (the decision
// then says risk_level 'unknown' instead, see engine.ts).
import type { Attributes } from './attributes.ts';
import { DomainError } from '../errors.ts';
import type { RiskLevel } from './types.ts';

type Signal = {
  readonly name: string;
  /** What the signal means, for the documentation and the settings page. */
  readonly description: string;
  readonly present: (attributes: Attributes) => boolean;
};

function numberOf(attributes: Attributes, name: string): number | undefined {
  const value = attributes[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function atLeast(name: string, threshold: number): (attributes: Attributes) => boolean {
  return (attributes) => (numberOf(attributes, name) ?? 0) >= threshold;
}

function missing(name: string): (attributes: Attributes) => boolean {
  return (attributes) => {
    const value = attributes[name];
    return value === undefined || value === '';
  };
}

/** Every signal, in the order they are reported. */
export const riskSignals = [
  {
    name: 'card_country_differs_from_ip_country',
    description: 'The card was issued in another country than the one its IP address is in.',
    present: (attributes) => {
      const card = attributes.card_country;
      const ip = attributes.ip_country;
      return typeof card === 'string' && typeof ip === 'string' && card !== ip;
    },
  },
  {
    name: 'ip_country_missing',
    description:
      'The country of the IP address is not known (no IP address given, or not located).',
    present: missing('ip_country'),
  },
  {
    name: 'email_missing',
    description: 'No email address is known for the payment.',
    present: missing('email'),
  },
  {
    name: 'high_amount',
    description: 'The amount is 1,000 US dollars or more.',
    present: atLeast('amount_in_usd', 1000),
  },
  {
    name: 'declines_per_card',
    description: 'The card was declined 3 times or more in the last 24 hours.',
    present: atLeast('declined_charges_per_card_number_daily', 3),
  },
  {
    name: 'charges_per_card_hourly',
    description: 'The card was charged 5 times or more in the last hour.',
    present: atLeast('total_charges_per_card_number_hourly', 5),
  },
  {
    name: 'cards_per_ip_address',
    description: 'The IP address used 3 different cards or more in the last 24 hours.',
    present: atLeast('cards_per_ip_address_daily', 3),
  },
  {
    name: 'cards_per_email',
    description: 'The email address used 3 different cards or more in the last 24 hours.',
    present: atLeast('cards_per_email_daily', 3),
  },
  {
    name: 'declines_per_email',
    description: 'Payments with this email address were declined 3 times or more in 24 hours.',
    present: atLeast('declined_charges_per_email_daily', 3),
  },
  {
    name: 'first_seen_card',
    description: 'The card had no payment in the last week (known only when velocity is read).',
    present: (attributes) => numberOf(attributes, 'total_charges_per_card_number_weekly') === 0,
  },
] as const satisfies readonly Signal[];

export type RiskSignalName = (typeof riskSignals)[number]['name'];

/** How much each signal adds to the score (integers 0–100; 0 turns a signal off). */
export type RiskWeights = Readonly<Record<RiskSignalName, number>>;

/**
 * The defaults: a country mismatch with a card declined repeatedly (25 + 35 = 60) stays below
 * elevated; add many cards on the IP address (+ 30) and it is highest. One missing piece of data
 * alone (5) never raises the level; a server-side integration that gives neither IP nor email
 * starts at 10, so repeated declines of one card alone (35 + 20) stay below elevated.
 */
export const defaultRiskWeights: RiskWeights = {
  card_country_differs_from_ip_country: 25,
  ip_country_missing: 5,
  email_missing: 5,
  high_amount: 15,
  declines_per_card: 35,
  charges_per_card_hourly: 20,
  cards_per_ip_address: 30,
  cards_per_email: 25,
  declines_per_email: 20,
  first_seen_card: 5,
};

/** From which score a payment is elevated and highest (Stripe's defaults: 65 and 75). */
export type RiskThresholds = { readonly elevated: number; readonly highest: number };
export const defaultRiskThresholds: RiskThresholds = { elevated: 65, highest: 75 };

export const riskScoreMax = 100;

export type RiskSignal = { readonly name: RiskSignalName; readonly weight: number };
export type RiskScore = { readonly score: number; readonly signals: readonly RiskSignal[] };

/** The score of a payment's attributes: the signals present (weight > 0) and their capped sum. */
export function scoreOf(attributes: Attributes, weights: RiskWeights): RiskScore {
  const signals: RiskSignal[] = [];
  let sum = 0;
  for (const signal of riskSignals) {
    const weight = weights[signal.name];
    if (weight > 0 && signal.present(attributes)) {
      signals.push({ name: signal.name, weight });
      sum += weight;
    }
  }
  return { score: Math.min(sum, riskScoreMax), signals };
}

/** The level of a score (the velocity-unavailable 'unknown' is the engine's to say). */
export function riskLevelOf(score: number, thresholds: RiskThresholds): RiskLevel {
  if (score >= thresholds.highest) return 'highest';
  if (score >= thresholds.elevated) return 'elevated';
  return 'normal';
}

/** Settings a merchant posted that cannot be used: a 400 naming the field. */
export class RiskSettingsError extends DomainError<'parameter_invalid' | 'parameter_unknown'> {
  constructor(code: 'parameter_invalid' | 'parameter_unknown', message: string, param: string) {
    super(code, 'invalid', message, param);
    this.name = 'RiskSettingsError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkScore(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > riskScoreMax) {
    throw new RiskSettingsError(
      'parameter_invalid',
      `${param} must be an integer from 0 to ${riskScoreMax}`,
      param,
    );
  }
  return value;
}

/**
 * Checks weights a merchant posted: an object of signal names to integers 0–100. Signals left out
 * keep their default weight; an unknown name is refused (a typo would otherwise do nothing).
 */
export function checkRiskWeights(value: unknown, param = 'weights'): RiskWeights {
  if (!isRecord(value)) {
    throw new RiskSettingsError('parameter_invalid', `${param} must be an object`, param);
  }
  const weights: Record<string, number> = { ...defaultRiskWeights };
  for (const [name, weight] of Object.entries(value)) {
    if (!Object.hasOwn(defaultRiskWeights, name)) {
      throw new RiskSettingsError(
        'parameter_unknown',
        `${param} has no signal named ${JSON.stringify(name.slice(0, 64))}`,
        `${param}[${name.slice(0, 64)}]`,
      );
    }
    weights[name] = checkScore(weight, `${param}[${name}]`);
  }
  return weights as RiskWeights;
}

/** Checks thresholds a merchant posted: integers 0–100, elevated not above highest. */
export function checkRiskThresholds(value: unknown, param = 'thresholds'): RiskThresholds {
  if (!isRecord(value)) {
    throw new RiskSettingsError('parameter_invalid', `${param} must be an object`, param);
  }
  for (const name of Object.keys(value)) {
    if (name !== 'elevated' && name !== 'highest') {
      throw new RiskSettingsError(
        'parameter_unknown',
        `${param} has elevated and highest only`,
        `${param}[${name.slice(0, 64)}]`,
      );
    }
  }
  const elevated = checkScore(
    value.elevated ?? defaultRiskThresholds.elevated,
    `${param}[elevated]`,
  );
  const highest = checkScore(value.highest ?? defaultRiskThresholds.highest, `${param}[highest]`);
  if (elevated > highest) {
    throw new RiskSettingsError(
      'parameter_invalid',
      `${param}[elevated] must not be above ${param}[highest]`,
      `${param}[elevated]`,
    );
  }
  return { elevated, highest };
}
