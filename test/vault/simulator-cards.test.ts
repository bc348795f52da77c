// The simulator answers every number of the test card catalogue as Stripe documents it
// (test/support/test-card-outcomes.ts), and knows no scenario card the catalogue does not list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TEST_CARDS, cardOutcome, normalizeCardNumber } from '../../sim/cards.ts';
import { testCard, testCardNumbers, testPaymentMethodIds } from '../../src/vault/test-cards.ts';
import { documentedDeclineNumbers, documentedOutcome } from '../support/test-card-outcomes.ts';

test('the simulator accepts every catalogue number and answers it as documented', () => {
  for (const number of testCardNumbers) {
    assert.equal(normalizeCardNumber(number), number, `${number}: the simulator refuses it`);
    const expected = documentedOutcome(number);
    const actual = cardOutcome(number);
    if (expected.kind === 'decline') {
      assert.deepEqual(actual, { kind: 'decline', code: expected.declineCode }, number);
    } else {
      assert.equal(actual.kind, expected.kind, number);
    }
  }
  for (const id of testPaymentMethodIds) assert.ok(testCard(id) !== undefined, id);
});

test("the simulator's scenario cards and the documented table are both within the catalogue", () => {
  for (const number of TEST_CARDS.keys()) assert.ok(testCardNumbers.includes(number), number);
  for (const number of documentedDeclineNumbers)
    assert.ok(testCardNumbers.includes(number), number);
  assert.equal(TEST_CARDS.size, documentedDeclineNumbers.length);
});

test("Stripe's incorrect-number card is refused by the simulator too", () => {
  assert.equal(normalizeCardNumber('4242424242424241'), undefined);
});
