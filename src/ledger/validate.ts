// Checks a transfer request on its own, before any database work. Returns the first problem
// found as a LedgerError naming the field, or undefined.
import { isCurrency, maxAmountMinor } from '../money/index.ts';
import { LedgerError } from './errors.ts';
import type { AccountSpec, Leg, Metadata, TransferRequest } from './types.ts';
import { accountTypes, ledgerLimits, limitRules } from './types.ts';

const idPattern = /^[A-Za-z0-9_:.-]{1,200}$/;
export const expiryIdPrefix = 'expire:';

export function checkId(value: unknown, param: string): LedgerError | undefined {
  if (typeof value !== 'string' || !idPattern.test(value)) {
    return new LedgerError(
      'invalid_id',
      `${param} must be 1-200 characters of letters, digits, '_', ':', '.' or '-'`,
      param,
    );
  }
  return undefined;
}

export function checkAmount(
  value: unknown,
  currency: string,
  param: string,
): LedgerError | undefined {
  if (typeof value !== 'bigint')
    return new LedgerError(
      'invalid_amount',
      `${param} must be an integer number of minor units`,
      param,
    );
  if (value <= 0n)
    return new LedgerError('invalid_amount', `${param} must be greater than zero`, param);
  const maximum = maxAmountMinor(currency);
  if (value > maximum)
    return new LedgerError(
      'amount_too_large',
      `${param} must be at most ${maximum} ${currency} minor units`,
      param,
    );
  return undefined;
}

function checkCurrency(value: unknown, param: string): LedgerError | undefined {
  if (typeof value !== 'string' || !isCurrency(value)) {
    return new LedgerError(
      'unknown_currency',
      `${param} must be a lowercase ISO-4217 currency code such as "usd"`,
      param,
    );
  }
  return undefined;
}

export function checkMetadata(
  metadata: Metadata | undefined,
  param = 'metadata',
): LedgerError | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return new LedgerError('invalid_request', `${param} must be an object of string values`, param);
  }
  const keys = Object.keys(metadata);
  if (keys.length > ledgerLimits.metadataKeysMax) {
    return new LedgerError(
      'invalid_request',
      `${param} may have at most ${ledgerLimits.metadataKeysMax} keys`,
      param,
    );
  }
  for (const key of keys) {
    const value = metadata[key];
    if (key.length === 0 || key.length > ledgerLimits.metadataKeyLengthMax) {
      return new LedgerError(
        'invalid_request',
        `${param} keys must be 1-${ledgerLimits.metadataKeyLengthMax} characters`,
        `${param}[${key}]`,
      );
    }
    if (typeof value !== 'string' || value.length > ledgerLimits.metadataValueLengthMax) {
      return new LedgerError(
        'invalid_request',
        `${param}[${key}] must be a string of at most ${ledgerLimits.metadataValueLengthMax} characters`,
        `${param}[${key}]`,
      );
    }
  }
  return undefined;
}

function checkLeg(leg: Leg, index: number): LedgerError | undefined {
  const param = `legs[${index}]`;
  if (typeof leg !== 'object' || leg === null)
    return new LedgerError('invalid_request', `${param} must be an object`, param);
  return (
    checkId(leg.accountId, `${param}.account_id`) ??
    (leg.direction === 'debit' || leg.direction === 'credit'
      ? undefined
      : new LedgerError(
          'invalid_request',
          `${param}.direction must be "debit" or "credit"`,
          `${param}.direction`,
        )) ??
    checkCurrency(leg.currency, `${param}.currency`) ??
    checkAmount(leg.amount, leg.currency, `${param}.amount`)
  );
}

/** Sum of debits equals sum of credits in every currency. */
export function checkBalanced(legs: readonly Leg[], param = 'legs'): LedgerError | undefined {
  const net = new Map<string, bigint>();
  for (const leg of legs) {
    const signed = leg.direction === 'debit' ? leg.amount : -leg.amount;
    net.set(leg.currency, (net.get(leg.currency) ?? 0n) + signed);
  }
  for (const [currency, difference] of net) {
    if (difference !== 0n) {
      return new LedgerError(
        'unbalanced',
        `${param} do not balance in ${currency}: debits minus credits is ${difference}`,
        param,
      );
    }
  }
  return undefined;
}

export function checkLegs(
  legs: readonly Leg[] | undefined,
  minimum: number,
): LedgerError | undefined {
  if (!Array.isArray(legs))
    return new LedgerError('invalid_request', 'legs must be a list', 'legs');
  if (legs.length < minimum)
    return new LedgerError('too_few_legs', `legs must have at least ${minimum} entries`, 'legs');
  if (legs.length > ledgerLimits.legsPerTransferMax) {
    return new LedgerError(
      'too_many_legs',
      `legs may have at most ${ledgerLimits.legsPerTransferMax} entries`,
      'legs',
    );
  }
  for (const [index, leg] of legs.entries()) {
    const problem = checkLeg(leg, index);
    if (problem !== undefined) return problem;
  }
  return checkBalanced(legs);
}

function checkCommon(request: TransferRequest): LedgerError | undefined {
  if (request.description !== undefined) {
    if (
      typeof request.description !== 'string' ||
      request.description.length > ledgerLimits.descriptionLengthMax
    ) {
      return new LedgerError(
        'invalid_request',
        `description must be a string of at most ${ledgerLimits.descriptionLengthMax} characters`,
        'description',
      );
    }
  }
  return checkMetadata(request.metadata);
}

export function validateTransfer(request: TransferRequest): LedgerError | undefined {
  if (typeof request !== 'object' || request === null)
    return new LedgerError('invalid_request', 'a transfer must be an object');
  const problem = checkId(request.id, 'id') ?? checkCommon(request);
  if (problem !== undefined) return problem;
  if (request.id.startsWith(expiryIdPrefix) && request.kind !== 'expire_pending') {
    return new LedgerError(
      'invalid_id',
      `ids starting with "${expiryIdPrefix}" are reserved for expiries of holds`,
      'id',
    );
  }
  switch (request.kind) {
    case 'posted':
      return checkLegs(request.legs, 2);
    case 'pending':
      if (
        request.expiresAt !== undefined &&
        !(request.expiresAt instanceof Date && Number.isFinite(request.expiresAt.getTime()))
      ) {
        return new LedgerError('invalid_request', 'expires_at must be a valid time', 'expires_at');
      }
      return checkLegs(request.legs, 2);
    case 'post_pending':
      if (request.amount !== undefined && request.legs !== undefined) {
        return new LedgerError(
          'invalid_request',
          'give either amount or legs to post, not both',
          'amount',
        );
      }
      if (request.legs !== undefined)
        return checkId(request.pendingId, 'pending_id') ?? checkLegs(request.legs, 2);
      if (
        request.amount !== undefined &&
        (typeof request.amount !== 'bigint' || request.amount <= 0n)
      ) {
        return new LedgerError('invalid_amount', 'amount must be greater than zero', 'amount');
      }
      return checkId(request.pendingId, 'pending_id');
    case 'void_pending':
    case 'expire_pending':
      return checkId(request.pendingId, 'pending_id');
    default:
      return new LedgerError(
        'invalid_request',
        'kind must be posted, pending, post_pending, void_pending or expire_pending',
        'kind',
      );
  }
}

export function validateAccountSpec(spec: AccountSpec): LedgerError | undefined {
  if (typeof spec !== 'object' || spec === null)
    return new LedgerError('invalid_request', 'an account must be an object');
  if (!accountTypes.includes(spec.type))
    return new LedgerError(
      'invalid_request',
      `type must be one of ${accountTypes.join(', ')}`,
      'type',
    );
  if (spec.limit !== undefined && !limitRules.includes(spec.limit)) {
    return new LedgerError(
      'invalid_request',
      `limit must be one of ${limitRules.join(', ')}`,
      'limit',
    );
  }
  if (typeof spec.owner !== 'string' || spec.owner.length === 0 || spec.owner.length > 200) {
    return new LedgerError('invalid_request', 'owner must be 1-200 characters', 'owner');
  }
  return (
    checkId(spec.id, 'id') ??
    checkCurrency(spec.currency, 'currency') ??
    checkMetadata(spec.metadata)
  );
}
