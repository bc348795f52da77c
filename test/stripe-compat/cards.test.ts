// Stripe's test cards through Stripe's own Node SDK: brands, countries, tokens as card[token],
// and the declines as StripeCardError with Stripe's `code` and `decline_code`. A representative
// subset; test/integration/cards.test.ts drives the whole catalogue over raw HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { startStripeStack, type StripeStack } from '../support/stripe.ts';

describe("Stripe's test cards through Stripe's SDK", () => {
  let stack: StripeStack;
  let stripe: Stripe;

  before(async () => {
    stack = await startStripeStack();
    ({ stripe } = stack);
  });
  after(() => stack.stop());

  test('cards by brand: Discover (and debit), Diners (14 digits), JCB, UnionPay (19 digits), Mastercard 2-series and debit, Carnet', async () => {
    const cases: [string, string, string][] = [
      ['6011111111111117', 'discover', 'US'],
      ['6011981111111113', 'discover', 'US'],
      ['3056930009020004', 'diners', 'US'],
      ['36227206271667', 'diners', 'US'],
      ['3566002020360505', 'jcb', 'JP'],
      ['6200000000000005', 'unionpay', 'CN'],
      ['6205500000000000004', 'unionpay', 'CN'],
      ['2223003122003222', 'mastercard', 'US'],
      ['5200828282828210', 'mastercard', 'US'],
      ['5062210000000009', 'unknown', 'MX'],
    ];
    for (const [number, brand, country] of cases) {
      const method = await stripe.paymentMethods.create({
        type: 'card',
        card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
      } as Stripe.PaymentMethodCreateParams);
      assert.deepEqual(
        [method.card?.brand, method.card?.last4, method.card?.country],
        [brand, number.slice(-4), country],
        number,
      );
      const intent = await stripe.paymentIntents.create({
        amount: 1_000,
        currency: 'usd',
        payment_method: method.id,
        confirm: true,
      });
      assert.equal(intent.status, 'succeeded', number);
    }
  });

  test('test tokens as card[token] become stored payment methods with their cards', async () => {
    const cases: [string, string, string, string][] = [
      ['tok_visa', 'visa', '4242', 'US'],
      ['tok_mastercard_prepaid', 'mastercard', '5100', 'US'],
      ['tok_amex', 'amex', '0005', 'US'],
      ['tok_cn', 'visa', '0002', 'CN'],
      ['tok_gb_debit', 'visa', '0005', 'GB'],
    ];
    for (const [token, brand, last4, country] of cases) {
      const method = await stripe.paymentMethods.create({ type: 'card', card: { token } });
      assert.match(method.id, /^pm_/);
      assert.deepEqual(
        [method.card?.brand, method.card?.last4, method.card?.country, method.card?.exp_year],
        [brand, last4, country, 2034],
        token,
      );
    }
    await assert.rejects(
      stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_nope' } }),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeError);
        assert.equal(error.code, 'resource_missing');
        assert.equal(error.param, 'card[token]');
        return true;
      },
    );
  });

  test("declines are StripeCardErrors with Stripe's code and decline_code, and the intent", async () => {
    const cases: [string, string, string][] = [
      ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
      ['pm_card_visa_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
      ['pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
      ['pm_card_visa_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
      ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
      ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
      ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
      [
        'pm_card_visa_chargeDeclinedVelocityLimitExceeded',
        'card_declined',
        'card_velocity_exceeded',
      ],
      ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline'],
      ['pm_card_radarBlock', 'card_declined', 'fraudulent'],
      ['pm_card_riskLevelHighest', 'card_declined', 'fraudulent'],
      ['pm_card_threeDSecureRequiredProcessingError', 'card_declined', 'generic_decline'],
    ];
    for (const [paymentMethod, code, declineCode] of cases) {
      await assert.rejects(
        stripe.paymentIntents.create({
          amount: 1_000,
          currency: 'usd',
          payment_method: paymentMethod,
          confirm: true,
        }),
        (error: unknown) => {
          assert.ok(error instanceof Stripe.errors.StripeCardError, paymentMethod);
          assert.equal(error.statusCode, 402, paymentMethod);
          assert.equal(error.code, code, paymentMethod);
          assert.equal(error.decline_code, declineCode, paymentMethod);
          assert.equal(error.payment_intent?.status, 'requires_payment_method', paymentMethod);
          assert.equal(error.payment_intent?.last_payment_error?.code, code, paymentMethod);
          return true;
        },
      );
    }
  });

  test("Radar's elevated risk and optional 3-D Secure succeed; an incorrect number is refused at creation", async () => {
    for (const paymentMethod of ['pm_card_riskLevelElevated', 'pm_card_threeDSecureOptional']) {
      const intent = await stripe.paymentIntents.create({
        amount: 1_000,
        currency: 'usd',
        payment_method: paymentMethod,
        confirm: true,
      });
      assert.equal(intent.status, 'succeeded', paymentMethod);
    }
    // A card whose issuer wants authentication: the card holder is asked (3-D Secure).
    const authenticating = await stripe.paymentIntents.create({
      amount: 1_000,
      currency: 'usd',
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
    });
    assert.equal(authenticating.status, 'requires_action');
    assert.equal(authenticating.next_action?.type, 'redirect_to_url');
    await assert.rejects(
      stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424241', exp_month: 12, exp_year: 2034, cvc: '123' },
      } as Stripe.PaymentMethodCreateParams),
      (error: unknown) => {
        assert.ok(error instanceof Stripe.errors.StripeCardError);
        assert.equal(error.code, 'incorrect_number');
        return true;
      },
    );
  });
});
