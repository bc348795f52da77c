// Strict field readers shared by the report parsers: each returns the value or throws a
// ReportFormatError naming the line and the field. Amounts become bigint minor units: JSON
// integers only when exact (safe integers), decimal strings only through the one exponent table
// (money/parseDecimal), never through a float.
import { isCurrency, MoneyError, parseDecimal } from '../../money/index.ts';
import { ReportFormatError, reportLimits } from './types.ts';

export type Where = { readonly connector: string; readonly line: number };

export function fail(where: Where, field: string, message: string): never {
  throw new ReportFormatError(where.connector, message, where.line, field);
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty identifier string of bounded length. */
export function identifierField(
  object: Readonly<Record<string, unknown>>,
  field: string,
  where: Where,
): string {
  const value = object[field];
  if (typeof value !== 'string' || value.length === 0)
    fail(where, field, 'must be a non-empty string');
  return identifier(value, field, where);
}

const controlCharacter = /[\u0000-\u001f\u007f]/;

export function identifier(value: string, field: string, where: Where): string {
  if (value.length === 0) fail(where, field, 'must not be empty');
  if (value.length > reportLimits.referenceLengthMax)
    fail(where, field, `must be at most ${reportLimits.referenceLengthMax} characters`);
  // A control character (U+0000 above all, which no database text holds) is no reference.
  if (controlCharacter.test(value)) fail(where, field, 'must not hold control characters');
  return value;
}

/** A JSON integer (minor units) as bigint; a fraction or an unsafe integer is refused. */
export function integerField(
  object: Readonly<Record<string, unknown>>,
  field: string,
  where: Where,
): bigint {
  const value = object[field];
  if (typeof value !== 'number' || !Number.isInteger(value))
    fail(where, field, `must be an integer number of minor units, got ${describe(value)}`);
  if (!Number.isSafeInteger(value))
    fail(where, field, `${value} is beyond the exact integers of JSON numbers`);
  return BigInt(value);
}

/** A currency code in any case, as Payrail's lowercase code (it must be in the exponent table). */
export function currencyValue(value: unknown, field: string, where: Where): string {
  if (typeof value !== 'string' || !/^[A-Za-z]{3}$/.test(value))
    fail(where, field, `must be a three-letter currency code, got ${describe(value)}`);
  const currency = value.toLowerCase();
  if (!isCurrency(currency)) fail(where, field, `unknown currency '${value}'`);
  return currency;
}

/** A major-unit decimal string ('12.34') as minor units of `currency`; '' reads as 0 if allowed. */
export function decimalValue(
  text: string,
  currency: string,
  field: string,
  where: Where,
  options: { readonly emptyIsZero?: boolean; readonly signed?: boolean } = {},
): bigint {
  if (text === '' && options.emptyIsZero === true) return 0n;
  let amount: bigint;
  try {
    amount = parseDecimal(text, currency);
  } catch (error) {
    if (error instanceof MoneyError) fail(where, field, error.message);
    throw error;
  }
  if (amount < 0n && options.signed !== true)
    fail(where, field, `must not be negative, got '${text}'`);
  return amount;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? typeof value;
}
