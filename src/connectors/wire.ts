// Small, total readers for PSP JSON (a field that is missing or of the wrong type reads as
// undefined, never throws) and the integer-amount edge shared by the minor-unit PSPs.
import { ConnectorError } from './errors.ts';

export type JsonObject = { readonly [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(object: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
}

export function stringAt(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function booleanAt(object: JsonObject | undefined, key: string): boolean | undefined {
  const value = object?.[key];
  return typeof value === 'boolean' ? value : undefined;
}

export function arrayAt(
  object: JsonObject | undefined,
  key: string,
): readonly unknown[] | undefined {
  const value = object?.[key];
  return Array.isArray(value) ? value : undefined;
}

/**
 * A non-negative JSON integer as bigint. JSON.parse has already turned it into a float, so
 * anything beyond Number.MAX_SAFE_INTEGER may have lost digits and is refused (undefined).
 */
export function integerAt(object: JsonObject | undefined, key: string): bigint | undefined {
  const value = object?.[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return undefined;
  return BigInt(value);
}

/** A minor-unit amount as a JSON number for the wire; refuses what a double cannot hold exactly. */
export function toWireNumber(connector: string, amount: bigint, field: string): number {
  if (amount <= 0n) {
    throw new ConnectorError(
      connector,
      'invalid_amount',
      `${field} must be a positive number of minor units, got ${amount}`,
    );
  }
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ConnectorError(
      connector,
      'invalid_amount',
      `${field} ${amount} exceeds Number.MAX_SAFE_INTEGER and cannot be sent as an exact JSON number`,
    );
  }
  return Number(amount);
}

/** Strips trailing slashes so that `${base}/v1/…` never has `//`. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}
