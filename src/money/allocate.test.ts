import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allocate, allocateEvenly } from './allocate.ts';
import { assertMoneyError } from './assert-money-error.ts';

const RUNS = { numRuns: 500 };
const anyAmount = fc.bigInt({ min: -99_999_999_999n, max: 99_999_999_999n });
// Small ratios make ties and zero ratios common; the occasional large one exercises big remainders.
const ratio = fc.oneof(fc.bigInt({ min: 0n, max: 5n }), fc.bigInt({ min: 0n, max: 10n ** 12n }));
const ratios = fc
  .array(ratio, { minLength: 1, maxLength: 12 })
  .filter((list) => list.some((value) => value > 0n));

const sum = (values: readonly bigint[]): bigint =>
  values.reduce((total, value) => total + value, 0n);

describe('allocate', () => {
  const cases: ReadonlyArray<readonly [bigint, readonly bigint[], readonly bigint[]]> = [
    [100n, [1n, 1n, 1n], [34n, 33n, 33n]],
    [100n, [1n, 2n, 3n], [17n, 33n, 50n]], // remainders 4/6, 2/6, 0: the leftover unit goes to index 0
    [5n, [3n, 7n], [2n, 3n]], // 1.5 and 3.5 tie; the earlier index wins
    [1n, [1n, 1n], [1n, 0n]],
    [2n, [1n, 1n, 1n], [1n, 1n, 0n]],
    [10n, [0n, 1n, 0n], [0n, 10n, 0n]],
    [7n, [1n, 0n, 1n], [4n, 0n, 3n]],
    [0n, [1n, 2n], [0n, 0n]],
    [-100n, [1n, 1n, 1n], [-34n, -33n, -33n]],
    [-5n, [1n, 0n, 1n], [-3n, 0n, -2n]],
    [99n, [70n, 20n, 10n], [69n, 20n, 10n]], // 69.3, 19.8, 9.9: the two .8/.9 remainders win the units
    [1000n, [1n], [1000n]],
  ];
  for (const [amount, ratioList, expected] of cases) {
    it(`splits ${amount} by [${ratioList.join(', ')}] into [${expected.join(', ')}]`, () => {
      assert.deepEqual(allocate(amount, ratioList), expected);
    });
  }

  const invalid: ReadonlyArray<readonly [string, readonly bigint[]]> = [
    ['no ratios', []],
    ['all-zero ratios', [0n, 0n]],
    ['a negative ratio', [2n, -1n]],
    ['a number ratio', [1n, 1 as unknown as bigint]],
  ];
  for (const [name, ratioList] of invalid) {
    it(`rejects ${name}`, () => {
      assertMoneyError(() => allocate(100n, ratioList), 'invalid_ratios');
    });
  }

  it('does not modify the ratios it was given', () => {
    const ratioList = [1n, 2n];
    allocate(10n, ratioList);
    assert.deepEqual(ratioList, [1n, 2n]);
  });

  it('never loses or invents a unit (property)', () => {
    fc.assert(
      fc.property(anyAmount, ratios, (amount, ratioList) => {
        const parts = allocate(amount, ratioList);
        assert.equal(parts.length, ratioList.length);
        assert.equal(sum(parts), amount);
      }),
      RUNS,
    );
  });

  it('keeps each part within one unit of its exact share (property)', () => {
    fc.assert(
      fc.property(anyAmount, ratios, (amount, ratioList) => {
        const total = sum(ratioList);
        allocate(amount, ratioList).forEach((part, index) => {
          // |part - amount * ratio / total| < 1, scaled by total to stay in integers.
          const scaledError = part * total - amount * (ratioList[index] ?? 0n);
          assert.ok(scaledError < total && scaledError > -total, `part ${index} is ${part}`);
        });
      }),
      RUNS,
    );
  });

  it('gives a zero ratio a zero part (property)', () => {
    fc.assert(
      fc.property(anyAmount, ratios, (amount, ratioList) => {
        allocate(amount, ratioList).forEach((part, index) => {
          if (ratioList[index] === 0n) assert.equal(part, 0n);
        });
      }),
      RUNS,
    );
  });

  it('gives the extra units to the largest remainders, earlier index on ties (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 99_999_999_999n }), ratios, (amount, ratioList) => {
        const total = sum(ratioList);
        const parts = allocate(amount, ratioList);
        const remainders = ratioList.map((value) => (amount * value) % total);
        const roundedUp = parts.map(
          (part, index) => part * total > amount * (ratioList[index] ?? 0n),
        );
        for (let up = 0; up < parts.length; up += 1) {
          for (let kept = 0; kept < parts.length; kept += 1) {
            if (!roundedUp[up] || roundedUp[kept]) continue;
            const upRemainder = remainders[up] ?? 0n;
            const keptRemainder = remainders[kept] ?? 0n;
            assert.ok(upRemainder > keptRemainder || (upRemainder === keptRemainder && up < kept));
          }
        }
      }),
      RUNS,
    );
  });

  it('mirrors for negative amounts (property)', () => {
    fc.assert(
      fc.property(anyAmount, ratios, (amount, ratioList) => {
        assert.deepEqual(
          allocate(-amount, ratioList),
          allocate(amount, ratioList).map((part) => -part),
        );
      }),
      RUNS,
    );
  });
});

describe('allocateEvenly', () => {
  it('splits into near-equal parts, larger ones first', () => {
    assert.deepEqual(allocateEvenly(100n, 3), [34n, 33n, 33n]);
    assert.deepEqual(allocateEvenly(-100n, 3), [-34n, -33n, -33n]);
    assert.deepEqual(allocateEvenly(2n, 4), [1n, 1n, 0n, 0n]);
    assert.deepEqual(allocateEvenly(9n, 1), [9n]);
  });

  for (const count of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects a count of ${count}`, () => {
      assertMoneyError(() => allocateEvenly(100n, count), 'invalid_ratios');
    });
  }

  it('matches allocate with equal ratios (property)', () => {
    fc.assert(
      fc.property(anyAmount, fc.integer({ min: 1, max: 20 }), (amount, count) => {
        assert.deepEqual(
          allocateEvenly(amount, count),
          allocate(amount, Array<bigint>(count).fill(1n)),
        );
      }),
      RUNS,
    );
  });
});
