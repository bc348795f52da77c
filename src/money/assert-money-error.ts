// Shared by the money tests only; not part of the public API.
import assert from 'node:assert/strict';
import { MoneyError } from './errors.ts';
import type { MoneyErrorCode } from './errors.ts';

export function assertMoneyError(
  action: () => unknown,
  code: MoneyErrorCode,
  param?: string,
): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof MoneyError, `expected a MoneyError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.param, param);
    return true;
  });
}
