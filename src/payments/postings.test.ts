import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_AMOUNT_MINOR } from '../money/index.ts';
import { accountIds } from '../accounts/index.ts';
import { feeFor, feeTransfer } from './postings.ts';

const price = (percentBps: bigint, fixedAmount: bigint) => ({ percentBps, fixedAmount });

describe('feeFor', () => {
  test('percentage plus fixed: 2.9 % + 30 of 100.00 is 3.20', () => {
    assert.equal(feeFor(10_000n, price(290n, 30n)), 320n);
  });

  test('the percentage rounds half up (away from zero), as documented, not half to even', () => {
    // 1 % of 1.49, 1.50, 1.51
    assert.equal(feeFor(149n, price(100n, 0n)), 1n);
    assert.equal(feeFor(150n, price(100n, 0n)), 2n);
    assert.equal(feeFor(151n, price(100n, 0n)), 2n);
    // 2.5 % of 100 is 2.5: half up gives 3 where banker's rounding would give 2.
    assert.equal(feeFor(100n, price(250n, 0n)), 3n);
    // 2.5 % of 20 is 0.5: 1, not 0.
    assert.equal(feeFor(20n, price(250n, 0n)), 1n);
    // 2.9 % of 0.50 is 1.45 minor units: 1.
    assert.equal(feeFor(50n, price(290n, 0n)), 1n);
  });

  test('the rounding applies to the percentage alone; the fixed part is added after', () => {
    assert.equal(feeFor(150n, price(100n, 7n)), 2n + 7n);
  });

  test('zero-decimal currencies: the minor unit is the yen, so the percentage rounds to whole yen', () => {
    assert.equal(feeFor(1_000n, price(290n, 0n)), 29n); // ¥1,000 at 2.9 %
    assert.equal(feeFor(1_050n, price(290n, 0n)), 30n); // 30.45 → 30
    assert.equal(feeFor(999n, price(360n, 0n)), 36n); // 35.964 → 36
    assert.equal(feeFor(1n, price(5_000n, 0n)), 1n); // ¥0.5 → ¥1
  });

  test('three-decimal currencies: 2.9 % of 1.000 KWD is 29 fils', () => {
    assert.equal(feeFor(1_000n, price(290n, 0n)), 29n);
  });

  test('the fixed part alone', () => {
    assert.equal(feeFor(10_000n, price(0n, 30n)), 30n);
    assert.equal(feeFor(30n, price(0n, 30n)), 30n);
  });

  test('a fee is never above the captured amount', () => {
    assert.equal(feeFor(20n, price(290n, 30n)), 20n); // 0.58 + 30 > 20
    assert.equal(feeFor(29n, price(0n, 30n)), 29n);
    assert.equal(feeFor(1n, price(10_000n, 0n)), 1n);
    assert.equal(feeFor(500n, price(10_000n, 1n)), 500n);
  });

  test('the largest amount at 100 % is exact (bigint, no overflow)', () => {
    assert.equal(feeFor(MAX_AMOUNT_MINOR, price(10_000n, 0n)), MAX_AMOUNT_MINOR);
    assert.equal(feeFor(MAX_AMOUNT_MINOR, price(1n, 0n)), 10_000_000n); // 99,999,999,999 / 10,000 = 9,999,999.9999 → 10,000,000
  });

  test('no price, no fee', () => {
    assert.equal(feeFor(12_345n, price(0n, 0n)), 0n);
  });

  test('matches an independent half-up computation and stays within 0..captured for any price', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: MAX_AMOUNT_MINOR }),
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.bigInt({ min: 0n, max: MAX_AMOUNT_MINOR }),
        (captured, percentBps, fixedAmount) => {
          const fee = feeFor(captured, price(percentBps, fixedAmount));
          // floor(x + 1/2) with x = captured × bps / 10000, all non-negative.
          const percentage = (2n * captured * percentBps + 10_000n) / 20_000n;
          const uncapped = percentage + fixedAmount;
          assert.equal(fee, uncapped > captured ? captured : uncapped);
          assert.ok(fee >= 0n && fee <= captured);
        },
      ),
    );
  });
});

describe('feeTransfer', () => {
  const movement = { merchantId: 'mch_1', connector: 'stripe', currency: 'usd' };

  test('moves the fee from the merchant to the platform, with an id per attempt', () => {
    assert.deepEqual(feeTransfer('att_1', movement, 320n), {
      kind: 'posted',
      id: 'fee:att_1',
      legs: [
        {
          accountId: accountIds.merchantPending('mch_1', 'usd'),
          direction: 'debit',
          amount: 320n,
          currency: 'usd',
        },
        {
          accountId: accountIds.platformFees('usd'),
          direction: 'credit',
          amount: 320n,
          currency: 'usd',
        },
      ],
      description: 'fee for attempt att_1',
    });
  });

  test('a zero fee posts nothing', () => {
    assert.equal(feeTransfer('att_1', movement, 0n), undefined);
  });
});
