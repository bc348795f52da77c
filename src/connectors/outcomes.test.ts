import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  findMismatch,
  paymentMismatch,
  pspText,
  redact,
  scrubPayment,
  scrubRefund,
} from './outcomes.ts';

describe('redact', () => {
  it('removes card-number-shaped digit runs, grouped or not', () => {
    assert.equal(redact('card 4242424242424242 declined'), 'card [redacted] declined');
    assert.equal(redact('card 4242 4242 4242 4242 declined'), 'card [redacted] declined');
    assert.equal(redact('card 4242-4242-4242-4242'), 'card [redacted]');
    assert.equal(redact('amex 378282246310005.'), 'amex [redacted].');
  });

  it('keeps short numbers, and removes given secrets only where they stand alone', () => {
    assert.equal(redact('amount 2000 in 3 parts'), 'amount 2000 in 3 parts');
    assert.equal(redact('cvc 123 wrong, order 1234', ['123']), 'cvc [redacted] wrong, order 1234');
  });

  it('never lets any 12–19 digit card number through, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.stringMatching(/^[0-9]{12,19}$/),
        fc.string(),
        (prefix, number, suffix) => {
          return !redact(`${prefix}${number}${suffix}`, [number]).includes(number);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('bounds PSP texts', () => {
    assert.equal(pspText('x'.repeat(600))?.length, 501);
    assert.equal(pspText(''), undefined);
    assert.equal(pspText(undefined), undefined);
  });
});

describe('scrub', () => {
  it('redacts code and message and drops a pspReference that holds the card number', () => {
    const outcome = scrubPayment(
      {
        status: 'failed',
        pspReference: 'pi_4242424242424242',
        pspCode: 'x4242424242424242',
        message: 'card 4242424242424242',
      },
      ['4242424242424242'],
    );
    assert.deepEqual(outcome, {
      status: 'failed',
      pspCode: 'x[redacted]',
      message: 'card [redacted]',
    });
    assert.deepEqual(scrubRefund({ status: 'failed', message: '5555555555554444' }), {
      status: 'failed',
      message: '[redacted]',
    });
  });

  it('keeps long numeric PSP ids that are not the card', () => {
    const outcome = scrubPayment(
      { status: 'captured', pspReference: '20230101111212800110168470101509706' },
      ['4242424242424242', '123'],
    );
    assert.equal(outcome.pspReference, '20230101111212800110168470101509706');
  });
});

describe('findMismatch', () => {
  it('finds the first field that differs, treating a missing value as different and undefined expectations as unchecked', () => {
    assert.equal(
      findMismatch([
        { field: 'a', expected: 1n, actual: 1n },
        { field: 'b', expected: 'x', actual: undefined },
      ])?.field,
      'b',
    );
    assert.equal(
      findMismatch([{ field: 'a', expected: undefined, actual: 'anything' }]),
      undefined,
    );
    assert.equal(
      findMismatch([
        { field: 'a', expected: 1n, actual: 2n },
        { field: 'b', expected: 'x', actual: 'y' },
      ])?.field,
      'a',
    );
  });

  it('builds an unknown outcome naming the field', () => {
    assert.deepEqual(
      paymentMismatch('stripe', { field: 'amount', expected: 2000n, actual: 1999n }),
      {
        status: 'unknown',
        pspCode: 'response_mismatch',
        message: "stripe response does not match the request: amount (expected '2000', got '1999')",
      },
    );
  });
});
