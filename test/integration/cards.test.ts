// Stripe's whole test card catalogue through Payrail's HTTP API and the simulator: every number
// stored with payment_methods.create, every pm_card_* id, every tok_* token (card[token]), each
// paid and answered as Stripe documents it (test/support/test-card-outcomes.ts); the declines
// through every connector the simulator serves, with Stripe's error code and decline code.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { brandOf } from '../../src/vault/card.ts';
import {
  invalidTestCardNumbers,
  testCard,
  testCardByNumber,
  testCardNumbers,
  testPaymentMethodIds,
  testToken,
  testTokenIds,
} from '../../src/vault/test-cards.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, type Call } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { documentedApiOutcome, type DocumentedOutcome } from '../support/test-card-outcomes.ts';

/** Payrail's own fault cards: answered late or not at all; their own tests cover them. */
const faultKinds: ReadonlySet<string> = new Set(['error', 'timeout', 'lost']);

describe("Stripe's test card catalogue through the HTTP API", () => {
  let stack: SimulatedStack;
  let merchant: Merchant;

  before(async () => {
    stack = await startSimulatedStack();
    merchant = await stack.merchant('Card catalogue shop');
  });
  after(() => stack.stop());

  const post = (path: string, body: unknown): Promise<Call> =>
    call(stack.server, 'POST', path, { key: merchant.key, body });

  async function pay(
    paymentMethod: string,
    connector = 'stripe',
    currency = connector === 'razorpay' || connector === 'paytm' ? 'inr' : 'usd',
  ): Promise<Call> {
    return post('/v1/payment_intents', {
      amount: 2_000,
      currency,
      confirm: true,
      payment_method: paymentMethod,
      connector,
    });
  }

  function assertOutcome(reply: Call, expected: DocumentedOutcome, what: string): void {
    const shown = `${what}: ${JSON.stringify(reply.body)}`;
    if (expected.kind === 'approve') {
      assert.equal(reply.status, 200, shown);
      assert.equal(reply.body.status, 'succeeded', shown);
      return;
    }
    if (expected.kind === 'requires_action') {
      assert.equal(reply.status, 200, shown);
      assert.equal(reply.body.status, 'requires_action', shown);
      assert.equal((reply.body.next_action as { type: string }).type, 'redirect_to_url', shown);
      return;
    }
    assert.equal(expected.kind, 'decline', what);
    if (expected.kind !== 'decline') return;
    assert.equal(reply.status, 402, shown);
    const error = reply.body.error as Record<string, unknown>;
    assert.equal(error.type, 'card_error', shown);
    assert.equal(error.code, expected.code, shown);
    assert.equal(error.decline_code, expected.declineCode, shown);
    const intent = error.payment_intent as Record<string, unknown>;
    assert.equal(intent.status, 'requires_payment_method', shown);
    const last = intent.last_payment_error as Record<string, unknown>;
    assert.deepEqual([last.code, last.decline_code], [expected.code, expected.declineCode], shown);
  }

  test('every number: stored with its brand, last4 and documented country, then paid as documented', async () => {
    for (const number of testCardNumbers) {
      const expected = documentedApiOutcome(number);
      if (faultKinds.has(expected.kind)) continue;
      const created = await post('/v1/payment_methods', {
        type: 'card',
        card: {
          number,
          exp_month: 12,
          exp_year: 2034,
          cvc: brandOf(number) === 'amex' ? '1234' : '123',
        },
      });
      assert.equal(created.status, 200, `${number}: ${JSON.stringify(created.body)}`);
      const card = created.body.card as Record<string, unknown>;
      assert.equal(card.last4, number.slice(-4));
      assert.equal(card.country, testCardByNumber(number)?.country, number);
      assertOutcome(await pay(String(created.body.id)), expected, number);
    }
  });

  test("Stripe's incorrect number is refused at creation with incorrect_number; nothing is stored", async () => {
    for (const number of invalidTestCardNumbers) {
      const refused = await post('/v1/payment_methods', {
        type: 'card',
        card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
      });
      assert.equal(refused.status, 402);
      const error = refused.body.error as Record<string, unknown>;
      assert.deepEqual(
        [error.type, error.code, error.param],
        ['card_error', 'incorrect_number', 'card[number]'],
      );
      assert.equal(JSON.stringify(refused.body).includes(number), false);
    }
  });

  test('every pm_card_* id: retrieved as its card, and paid as its number is documented', async () => {
    for (const id of testPaymentMethodIds) {
      const card = testCard(id);
      assert.ok(card !== undefined);
      const expected = documentedApiOutcome(card.number);
      const retrieved = await call(stack.server, 'GET', `/v1/payment_methods/${id}`, {
        key: merchant.key,
      });
      assert.equal(retrieved.status, 200, id);
      assert.deepEqual(
        [retrieved.body.id, retrieved.body.card],
        [
          id,
          {
            ...(retrieved.body.card as object),
            brand: card.brand,
            last4: card.number.slice(-4),
            country: card.country,
          },
        ],
        id,
      );
      if (faultKinds.has(expected.kind)) continue;
      assertOutcome(await pay(id), expected, id);
    }
  });

  test('every tok_* token as card[token]: a stored payment method with its card, paid as documented', async () => {
    for (const token of testTokenIds) {
      const card = testToken(token);
      assert.ok(card !== undefined);
      const created = await post('/v1/payment_methods', { type: 'card', card: { token } });
      assert.equal(created.status, 200, `${token}: ${JSON.stringify(created.body)}`);
      assert.match(String(created.body.id), /^pm_[A-Za-z0-9]+$/);
      assert.deepEqual(
        created.body.card,
        {
          ...(created.body.card as object),
          brand: card.brand,
          last4: card.number.slice(-4),
          country: card.country,
          exp_month: 12,
          exp_year: 2034,
        },
        token,
      );
      assertOutcome(await pay(String(created.body.id)), documentedApiOutcome(card.number), token);
    }
  });

  test('card[token]: an unknown token is a 404 naming card[token]; a token beside card details, or a malformed one, a 400; nothing is stored', async () => {
    const unknown = await post('/v1/payment_methods', {
      type: 'card',
      card: { token: 'tok_doesNotExist' },
    });
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      [
        (unknown.body.error as Record<string, unknown>).code,
        (unknown.body.error as Record<string, unknown>).param,
      ],
      ['resource_missing', 'card[token]'],
    );
    for (const card of [
      { token: 'tok_visa', number: '4242424242424242', exp_month: 12, exp_year: 2034 },
      { token: 'not a token' },
      { token: '' },
      { token: `tok_${'a'.repeat(200)}` },
    ]) {
      const refused = await post('/v1/payment_methods', { type: 'card', card });
      assert.equal(refused.status, 400, JSON.stringify(card));
      assert.match(String((refused.body.error as Record<string, unknown>).param), /^card/);
    }
  });

  // Every decline and every connector: the merchant sees Stripe's code and decline code, whatever
  // the PSP's own words for it.
  const declineIds = [
    'pm_card_chargeDeclined',
    'pm_card_visa_chargeDeclinedInsufficientFunds',
    'pm_card_visa_chargeDeclinedLostCard',
    'pm_card_visa_chargeDeclinedStolenCard',
    'pm_card_chargeDeclinedExpiredCard',
    'pm_card_chargeDeclinedIncorrectCvc',
    'pm_card_chargeDeclinedProcessingError',
    'pm_card_visa_chargeDeclinedVelocityLimitExceeded',
    'pm_card_chargeCustomerFail',
    'pm_card_radarBlock',
    'pm_card_riskLevelHighest',
    'pm_card_authenticationRequired',
    'pm_card_threeDSecure2Required',
    'pm_card_threeDSecureRequiredProcessingError',
  ];
  const approvedIds = ['pm_card_riskLevelElevated', 'pm_card_threeDSecureOptional', 'pm_card_visa'];
  for (const connector of ['stripe', 'adyen', 'razorpay', 'paytm']) {
    test(`${connector}: every decline answers with Stripe's code and decline_code, a card that needs 3DS requires action; Radar's elevated risk and optional 3DS succeed`, async () => {
      for (const id of [...declineIds, ...approvedIds]) {
        const card = testCard(id);
        assert.ok(card !== undefined, id);
        assertOutcome(
          await pay(id, connector),
          documentedApiOutcome(card.number),
          `${connector} ${id}`,
        );
      }
    });
  }
});
