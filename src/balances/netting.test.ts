import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balanceAccountIds } from './accounts.ts';
import { netGroup } from './netting.ts';

const accounts = balanceAccountIds('mch_Netting0001', 'usd');
const legsOf = (net: bigint, available: bigint, receivable: bigint, bps = 0n) => {
  const netting = netGroup(net, 'usd', accounts, { available, receivable }, bps);
  return {
    legs: netting.legs.map(
      (leg) => `${leg.direction} ${leg.accountId.split(':')[2]} ${leg.amount}`,
    ),
    reserve: netting.reserve,
    after: netting.after,
  };
};

describe('netting one availability group', () => {
  test('a positive day credits available', () => {
    assert.deepEqual(legsOf(900n, 0n, 0n), {
      legs: ['debit pending 900', 'credit available 900'],
      reserve: 0n,
      after: { available: 900n, receivable: 0n },
    });
  });

  test('a positive day recovers what the merchant owes first', () => {
    assert.deepEqual(legsOf(900n, 0n, 300n).legs, [
      'debit pending 900',
      'credit receivable 300',
      'credit available 600',
    ]);
    assert.deepEqual(legsOf(200n, 50n, 300n), {
      legs: ['debit pending 200', 'credit receivable 200'],
      reserve: 0n,
      after: { available: 50n, receivable: 100n },
    });
  });

  test('a negative day takes what available has and puts the rest on the receivable', () => {
    assert.deepEqual(legsOf(-500n, 200n, 0n), {
      legs: ['debit available 200', 'debit receivable 300', 'credit pending 500'],
      reserve: 0n,
      after: { available: 0n, receivable: 300n },
    });
    assert.deepEqual(legsOf(-500n, 800n, 0n).legs, ['debit available 500', 'credit pending 500']);
    assert.deepEqual(legsOf(-500n, 0n, 100n).legs, ['debit receivable 500', 'credit pending 500']);
    // Available already short (held more than it has): it gives nothing, never goes below zero.
    assert.deepEqual(legsOf(-500n, -20n, 0n).legs, ['debit receivable 500', 'credit pending 500']);
  });

  test('a zero day moves nothing', () => {
    assert.deepEqual(legsOf(0n, 100n, 100n), {
      legs: [],
      reserve: 0n,
      after: { available: 100n, receivable: 100n },
    });
  });

  test('the reserve: a share of a positive net, half up, capped by what available will hold', () => {
    assert.equal(legsOf(9_705n, 0n, 0n, 1_000n).reserve, 971n);
    assert.equal(legsOf(9_704n, 0n, 0n, 1_000n).reserve, 970n);
    assert.deepEqual(legsOf(1_000n, 0n, 900n, 5_000n).after, { available: 0n, receivable: 0n });
    assert.equal(legsOf(1_000n, 0n, 900n, 5_000n).reserve, 100n);
    assert.equal(legsOf(-1_000n, 5_000n, 0n, 5_000n).reserve, 0n, 'never on a negative day');
    assert.equal(legsOf(1_000n, 0n, 0n, 10_000n).reserve, 1_000n);
  });
});
