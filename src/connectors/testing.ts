// Shared by the connector tests only; not part of the connectors' API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpResult } from './http.ts';
import type { AuthorizeRequest } from './types.ts';

/** A JSON fixture from `<directory>/fixtures/<name>.json`, fresh on every call (tests mutate it). */
export function fixture(directory: string, name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(directory, 'fixtures', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** An HTTP reply as http.ts produces it. */
export function reply(status: number, body: unknown): HttpResult {
  const text = body === undefined ? '' : JSON.stringify(body);
  return { kind: 'response', status, body, text };
}

export const TIMEOUT: HttpResult = { kind: 'no_response', reason: 'timeout' };
export const NETWORK: HttpResult = { kind: 'no_response', reason: 'network' };

/** Everything an outcome says, as text (bigints included), to search for leaked card data. */
export function serialized(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    typeof field === 'bigint' ? field.toString() : field,
  );
}

export const VISA = '4242424242424242';

export function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    reference: 'att_0001',
    amount: 2000n,
    currency: 'usd',
    captureMode: 'automatic',
    card: {
      number: VISA,
      expiryMonth: 12,
      expiryYear: 2030,
      cvc: '123',
      holderName: 'Ada Lovelace',
    },
    ...overrides,
  };
}

/** Sets `value` at a dotted path inside a parsed JSON object (fixtures only). */
export function setPath(
  target: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const keys = path.split('.');
  const last = keys.pop();
  if (last === undefined) throw new Error('empty path');
  let node: Record<string, unknown> = target;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return target;
}
