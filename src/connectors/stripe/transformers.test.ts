import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listCurrencies } from '../../money/index.ts';
import { ConnectorError } from '../errors.ts';
import type { PaymentExpectation, RefundExpectation } from '../outcomes.ts';
import {
  NETWORK,
  TIMEOUT,
  VISA,
  authorizeRequest,
  fixture,
  reply,
  serialized,
  setPath,
} from '../testing.ts';
import {
  STRIPE_CAPABILITIES,
  authorizeForm,
  captureForm,
  declineCodeOf,
  fromStripeAmount,
  paymentIntentPath,
  paymentOutcome,
  refundForm,
  refundOutcome,
  searchOutcome,
  searchPath,
  toStripeAmount,
} from './transformers.ts';

const here = import.meta.dirname;
const succeeded = (): Record<string, unknown> => fixture(here, 'payment_intent_succeeded');
const requiresCapture = (): Record<string, unknown> =>
  fixture(here, 'payment_intent_requires_capture');
const declined = (): Record<string, unknown> => fixture(here, 'card_declined_insufficient_funds');
const PI = 'pi_3MtwBwLkdIwHu7ix28a3tqPa';

const authorize: PaymentExpectation = {
  operation: 'authorize',
  reference: 'att_0001',
  currency: 'usd',
  amount: 2000n,
  secrets: [VISA, '123'],
};
const sync: PaymentExpectation = {
  operation: 'sync',
  reference: 'att_0001',
  currency: 'usd',
  amount: 2000n,
};
const refundExpectation: RefundExpectation = {
  pspReference: PI,
  reference: 'att_0001',
  refundReference: 'rfd_0001',
  amount: 500n,
  currency: 'usd',
};

describe('stripe capabilities', () => {
  it('declares card, both capture modes, partial capture, every refund kind, void and webhooks, no 3DS', () => {
    assert.deepEqual(STRIPE_CAPABILITIES.paymentMethods, ['card']);
    assert.deepEqual(STRIPE_CAPABILITIES.captureModes, ['automatic', 'manual']);
    assert.equal(STRIPE_CAPABILITIES.partialCapture, true);
    assert.deepEqual(STRIPE_CAPABILITIES.refunds, { full: true, partial: true, multiple: true });
    assert.equal(STRIPE_CAPABILITIES.void, true);
    assert.equal(STRIPE_CAPABILITIES.webhooks, true);
    assert.equal(STRIPE_CAPABILITIES.threeDSecure, true);
  });

  it("supports every Payrail currency except ugx (ambiguous scale in Stripe's API)", () => {
    const expected = listCurrencies().filter((code) => code !== 'ugx');
    assert.deepEqual(STRIPE_CAPABILITIES.currencies, expected);
    assert.ok(
      STRIPE_CAPABILITIES.currencies.includes('usd') &&
        STRIPE_CAPABILITIES.currencies.includes('jpy'),
    );
  });

  it('is frozen all the way down', () => {
    assert.ok(Object.isFrozen(STRIPE_CAPABILITIES));
    assert.ok(Object.isFrozen(STRIPE_CAPABILITIES.currencies));
    assert.ok(Object.isFrozen(STRIPE_CAPABILITIES.refunds));
  });
});

describe('stripe amounts at the edge', () => {
  it('sends ISO minor units unchanged for ordinary 0-, 2- and 3-decimal currencies', () => {
    assert.equal(toStripeAmount(2000n, 'usd'), '2000');
    assert.equal(toStripeAmount(500n, 'jpy'), '500');
    assert.equal(toStripeAmount(1230n, 'kwd'), '1230');
  });

  it("scales isk up (two-decimal in Stripe's API) and mga down (zero-decimal in Stripe's API)", () => {
    assert.equal(toStripeAmount(5n, 'isk'), '500');
    assert.equal(fromStripeAmount(500n, 'isk'), 5n);
    assert.equal(fromStripeAmount(550n, 'isk'), undefined);
    assert.equal(toStripeAmount(1200n, 'mga'), '12');
    assert.equal(fromStripeAmount(12n, 'mga'), 1200n);
    assert.throws(
      () => toStripeAmount(1250n, 'mga'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'invalid_amount',
    );
  });

  it('refuses an amount a JSON number cannot hold exactly, with a clear error', () => {
    assert.equal(
      toStripeAmount(BigInt(Number.MAX_SAFE_INTEGER), 'usd'),
      String(Number.MAX_SAFE_INTEGER),
    );
    assert.throws(
      () => toStripeAmount(BigInt(Number.MAX_SAFE_INTEGER) + 1n, 'usd'),
      (error: unknown) =>
        error instanceof ConnectorError &&
        error.code === 'invalid_amount' &&
        /MAX_SAFE_INTEGER/.test(error.message),
    );
    assert.throws(() => toStripeAmount(0n, 'usd'), ConnectorError);
  });
});

describe('stripe requests', () => {
  it('creates a confirmed PaymentIntent with the card, capture method and our reference', () => {
    const form = new URLSearchParams(
      authorizeForm(authorizeRequest({ captureMode: 'manual', description: 'Order 1001' })),
    );
    assert.deepEqual(Object.fromEntries(form), {
      amount: '2000',
      currency: 'usd',
      confirm: 'true',
      capture_method: 'manual',
      'payment_method_data[type]': 'card',
      'payment_method_data[card][number]': VISA,
      'payment_method_data[card][exp_month]': '12',
      'payment_method_data[card][exp_year]': '2030',
      'payment_method_data[card][cvc]': '123',
      'metadata[reference]': 'att_0001',
      description: 'Order 1001',
    });
  });

  it('leaves out the optional cvc and description', () => {
    const { cvc: _cvc, ...card } = authorizeRequest().card;
    const form = new URLSearchParams(authorizeForm(authorizeRequest({ card })));
    assert.equal(form.has('payment_method_data[card][cvc]'), false);
    assert.equal(form.has('description'), false);
  });

  it('sends a 3-D Secure authentication as payment_method_options[card][three_d_secure]', () => {
    const threeDSecure = {
      transactionStatus: 'Y',
      eci: '05',
      authenticationValue: 'AAABBJkZUQAAAABjRWWZEEFgFz+=',
      dsTransactionId: 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b',
      version: '2.2.0',
      authenticationFlow: 'challenge',
    } as const;
    const form = new URLSearchParams(authorizeForm(authorizeRequest({ threeDSecure })));
    const field = (name: string) =>
      form.get(`payment_method_options[card][three_d_secure][${name}]`);
    assert.equal(field('cryptogram'), threeDSecure.authenticationValue);
    assert.equal(field('electronic_commerce_indicator'), '05');
    assert.equal(field('transaction_id'), threeDSecure.dsTransactionId);
    assert.equal(field('version'), '2.2.0');
    assert.equal(field('ares_trans_status'), 'Y');
    const without = new URLSearchParams(authorizeForm(authorizeRequest()));
    assert.ok([...without.keys()].every((key) => !key.startsWith('payment_method_options')));
  });

  it('always names the amount to capture and to refund', () => {
    assert.equal(
      captureForm({ pspReference: PI, reference: 'att_0001', amount: 1500n, currency: 'usd' }),
      'amount_to_capture=1500',
    );
    const refund = new URLSearchParams(
      refundForm({
        pspReference: PI,
        reference: 'att_0001',
        refundReference: 'rfd_0001',
        amount: 500n,
        currency: 'usd',
      }),
    );
    assert.deepEqual(Object.fromEntries(refund), {
      payment_intent: PI,
      amount: '500',
      'metadata[reference]': 'rfd_0001',
    });
  });

  it('encodes ids in paths and quotes the search value', () => {
    assert.equal(
      paymentIntentPath('pi_1/../x', 'capture'),
      '/v1/payment_intents/pi_1%2F..%2Fx/capture',
    );
    assert.equal(paymentIntentPath(PI), `/v1/payment_intents/${PI}`);
    const query = new URL(`http://x${searchPath("att_'1\\")}`).searchParams.get('query');
    assert.equal(query, "metadata['reference']:'att_\\'1\\\\'");
  });
});

describe('stripe PaymentIntent statuses', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['succeeded', 'captured'],
    ['requires_capture', 'authorized'],
    ['canceled', 'voided'],
    ['requires_payment_method', 'failed'],
    ['processing', 'pending'],
    ['requires_action', 'pending'],
    ['requires_confirmation', 'pending'],
    ['requires_magic', 'unknown'],
    ['', 'unknown'],
  ];
  for (const [stripeStatus, expected] of cases) {
    it(`maps '${stripeStatus}' (sync) to ${expected}`, () => {
      const outcome = paymentOutcome(
        reply(200, setPath(succeeded(), 'status', stripeStatus)),
        sync,
      );
      assert.equal(outcome.status, expected);
      assert.equal(outcome.pspReference, PI);
    });
  }

  it('maps a missing status to unknown', () => {
    assert.equal(
      paymentOutcome(reply(200, setPath(succeeded(), 'status', undefined)), sync).status,
      'unknown',
    );
  });

  it('reports an automatic capture as captured with the amounts', () => {
    assert.deepEqual(paymentOutcome(reply(200, succeeded()), authorize), {
      status: 'captured',
      pspReference: PI,
      amountAuthorized: 2000n,
      amountCaptured: 2000n,
      amountRefunded: 0n,
    });
  });

  it('reports a manual authorization as authorized', () => {
    assert.deepEqual(
      paymentOutcome(reply(200, requiresCapture()), { ...authorize, operation: 'authorize' }),
      {
        status: 'authorized',
        pspReference: 'pi_3MtwDqLkdIwHu7ix0Wn5rIgk',
        amountAuthorized: 2000n,
      },
    );
  });

  it('reports a partial capture with the captured amount', () => {
    const intent = setPath(
      setPath(requiresCapture(), 'status', 'succeeded'),
      'amount_received',
      1500,
    );
    setPath(intent, 'amount_capturable', 0);
    const outcome = paymentOutcome(reply(200, intent), {
      operation: 'capture',
      pspReference: 'pi_3MtwDqLkdIwHu7ix0Wn5rIgk',
      reference: 'att_0001',
      currency: 'usd',
      amount: 1500n,
    });
    assert.deepEqual(outcome, {
      status: 'captured',
      pspReference: 'pi_3MtwDqLkdIwHu7ix0Wn5rIgk',
      amountAuthorized: 2000n,
      amountCaptured: 1500n,
    });
  });

  it('takes the decline code of a failed intent from last_payment_error', () => {
    const intent = setPath(
      declined(),
      'error.payment_intent.last_payment_error.decline_code',
      'stolen_card',
    );
    const body = (intent.error as Record<string, unknown>).payment_intent;
    const outcome = paymentOutcome(reply(200, body), sync);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.declineCode, 'stolen_card');
  });

  it('reads an intent with no last_payment_error in requires_payment_method as a generic decline', () => {
    const outcome = paymentOutcome(
      reply(200, setPath(succeeded(), 'status', 'requires_payment_method')),
      sync,
    );
    assert.equal(outcome.declineCode, 'generic_decline');
  });
});

describe('stripe declines and errors', () => {
  const declineCases: ReadonlyArray<readonly [string | undefined, string, string]> = [
    ['insufficient_funds', 'card_declined', 'insufficient_funds'],
    ['lost_card', 'card_declined', 'lost_card'],
    ['stolen_card', 'card_declined', 'stolen_card'],
    ['do_not_honor', 'card_declined', 'do_not_honor'],
    ['expired_card', 'expired_card', 'expired_card'],
    [undefined, 'expired_card', 'expired_card'],
    [undefined, 'incorrect_cvc', 'incorrect_cvc'],
    ['generic_decline', 'card_declined', 'generic_decline'],
    ['fraudulent', 'card_declined', 'fraudulent'],
    ['card_velocity_exceeded', 'card_declined', 'card_velocity_exceeded'],
    ['processing_error', 'processing_error', 'processing_error'],
    [undefined, 'processing_error', 'processing_error'],
    ['authentication_required', 'authentication_required', 'authentication_required'],
    ['something_new', 'card_declined', 'generic_decline'],
  ];
  for (const [declineCode, code, expected] of declineCases) {
    it(`maps a 402 card_error ${code}/${declineCode ?? '-'} to failed ${expected}`, () => {
      const body = setPath(
        setPath(declined(), 'error.decline_code', declineCode),
        'error.code',
        code,
      );
      const outcome = paymentOutcome(reply(402, body), authorize);
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.declineCode, expected);
      assert.equal(outcome.pspReference, 'pi_3MtwEaLkdIwHu7ix1ZvWbBxD');
      assert.equal(declineCodeOf(declineCode, code), expected);
    });
  }

  it('keeps the PSP code and message of a decline', () => {
    const outcome = paymentOutcome(reply(402, declined()), authorize);
    assert.equal(outcome.pspCode, 'insufficient_funds');
    assert.equal(outcome.message, 'Your card has insufficient funds.');
  });

  it('maps a 400 invalid_request_error on create to failed with the PSP code (nothing was done)', () => {
    const outcome = paymentOutcome(reply(400, fixture(here, 'invalid_request')), authorize);
    assert.deepEqual(outcome, {
      status: 'failed',
      pspCode: 'parameter_invalid_integer',
      message: 'Invalid integer: 20.5',
    });
  });

  const statusCases: ReadonlyArray<readonly [number, string | undefined, string]> = [
    [401, 'invalid_request_error', 'failed'],
    [403, 'invalid_request_error', 'failed'],
    [404, 'invalid_request_error', 'failed'],
    [429, 'invalid_request_error', 'failed'],
    [400, 'idempotency_error', 'unknown'],
    [409, 'invalid_request_error', 'unknown'],
    [424, 'invalid_request_error', 'unknown'],
    [500, 'api_error', 'unknown'],
    [502, undefined, 'unknown'],
    [503, undefined, 'unknown'],
    [504, undefined, 'unknown'],
    [302, undefined, 'unknown'],
  ];
  for (const [status, type, expected] of statusCases) {
    it(`maps HTTP ${status} ${type ?? '(no body)'} on authorize to ${expected}`, () => {
      const body = type === undefined ? undefined : { error: { type, code: 'x', message: 'm' } };
      assert.equal(paymentOutcome(reply(status, body), authorize).status, expected);
    });
  }

  it('maps a 400 on capture (unexpected state) to failed: the capture was refused', () => {
    const body = {
      error: {
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: 'This PaymentIntent could not be captured because it has a status of canceled.',
      },
    };
    const outcome = paymentOutcome(reply(400, body), {
      operation: 'capture',
      pspReference: PI,
      reference: 'att_0001',
      currency: 'usd',
      amount: 2000n,
    });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.pspCode, 'payment_intent_unexpected_state');
  });

  it('never calls a sync error final: 404 is unknown not_found, everything else unknown', () => {
    const missing = {
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: "No such payment_intent: 'pi_x'",
      },
    };
    assert.deepEqual(paymentOutcome(reply(404, missing), { ...sync, pspReference: 'pi_x' }), {
      status: 'unknown',
      pspCode: 'not_found',
      message: "No such payment_intent: 'pi_x'",
    });
    assert.equal(
      paymentOutcome(reply(400, fixture(here, 'invalid_request')), sync).status,
      'unknown',
    );
    assert.equal(
      paymentOutcome(reply(401, { error: { type: 'invalid_request_error' } }), sync).status,
      'unknown',
    );
  });

  it('maps a timeout and a lost connection to unknown, never failed', () => {
    assert.deepEqual(paymentOutcome(TIMEOUT, authorize), {
      status: 'unknown',
      pspCode: 'timeout',
      message: 'stripe call timed out before a response; the outcome is unknown until sync',
    });
    assert.equal(paymentOutcome(NETWORK, authorize).status, 'unknown');
    assert.equal(paymentOutcome(NETWORK, authorize).pspCode, 'network_error');
  });

  it('maps a 200 with an unparseable or non-object body to unknown', () => {
    assert.equal(
      paymentOutcome({ kind: 'response', status: 200, body: undefined, text: '<html>' }, authorize)
        .status,
      'unknown',
    );
    assert.equal(paymentOutcome(reply(200, [1, 2]), authorize).pspCode, 'unparseable_response');
    assert.equal(paymentOutcome(reply(200, 'ok'), authorize).status, 'unknown');
  });
});

describe('stripe responses are checked against the request', () => {
  const mismatches: ReadonlyArray<readonly [string, string, unknown]> = [
    ['amount', 'amount', 1999],
    ['amount_received', 'amount_received', 1999],
    ['currency', 'currency', 'eur'],
    ['metadata.reference', 'metadata.reference', 'att_9999'],
    ['metadata.reference', 'metadata', undefined],
    ['amount', 'amount', 2000.5],
    ['amount', 'amount', '2000'],
  ];
  for (const [field, path, value] of mismatches) {
    it(`refuses a captured intent whose ${path} is ${JSON.stringify(value) ?? 'missing'}`, () => {
      const outcome = paymentOutcome(reply(200, setPath(succeeded(), path, value)), authorize);
      assert.equal(outcome.status, 'unknown');
      assert.equal(outcome.pspCode, 'response_mismatch');
      assert.match(outcome.message ?? '', new RegExp(`: ${field.replace('.', '\\.')} \\(`));
      assert.equal(outcome.pspReference, undefined);
    });
  }

  it('refuses an answer about another PaymentIntent id', () => {
    const outcome = paymentOutcome(reply(200, succeeded()), { ...sync, pspReference: 'pi_other' });
    assert.equal(outcome.pspCode, 'response_mismatch');
    assert.match(outcome.message ?? '', /: id \(expected 'pi_other', got 'pi_3Mtw/);
  });

  it('refuses a manual authorization whose capturable amount differs', () => {
    const outcome = paymentOutcome(
      reply(200, setPath(requiresCapture(), 'amount_capturable', 1000)),
      authorize,
    );
    assert.equal(outcome.status, 'unknown');
    assert.match(outcome.message ?? '', /amount_capturable/);
  });

  it('refuses a capture whose received amount is not what was captured', () => {
    const outcome = paymentOutcome(reply(200, succeeded()), {
      operation: 'capture',
      pspReference: PI,
      reference: 'att_0001',
      currency: 'usd',
      amount: 1500n,
    });
    assert.equal(outcome.pspCode, 'response_mismatch');
    assert.match(outcome.message ?? '', /amount_received/);
  });

  it('refuses a successful intent without an id', () => {
    assert.equal(
      paymentOutcome(reply(200, setPath(succeeded(), 'id', undefined)), authorize).pspCode,
      'response_mismatch',
    );
  });

  it('refuses a decline that names another payment', () => {
    const outcome = paymentOutcome(
      reply(402, setPath(declined(), 'error.payment_intent.metadata.reference', 'att_other')),
      authorize,
    );
    assert.equal(outcome.status, 'unknown');
    assert.equal(outcome.pspCode, 'response_mismatch');
  });

  it('checks converted amounts for currencies whose Stripe scale differs (isk)', () => {
    const intent = setPath(
      setPath(setPath(succeeded(), 'currency', 'isk'), 'amount', 500),
      'amount_received',
      500,
    );
    const expectation: PaymentExpectation = { ...authorize, currency: 'isk', amount: 5n };
    assert.equal(paymentOutcome(reply(200, intent), expectation).status, 'captured');
    assert.equal(
      paymentOutcome(reply(200, intent), { ...expectation, amount: 500n }).pspCode,
      'response_mismatch',
    );
  });
});

describe('stripe search (sync by reference)', () => {
  it('maps an empty result to unknown not_found', () => {
    assert.deepEqual(searchOutcome(reply(200, fixture(here, 'search_result')), sync), {
      status: 'unknown',
      pspCode: 'not_found',
      message: "stripe has no payment with reference 'att_0001' (yet)",
    });
  });

  it('maps the one match through the PaymentIntent rules', () => {
    const result = setPath(fixture(here, 'search_result'), 'data', [succeeded()]);
    assert.equal(searchOutcome(reply(200, result), sync).status, 'captured');
    const wrong = setPath(fixture(here, 'search_result'), 'data', [
      setPath(succeeded(), 'metadata.reference', 'att_2'),
    ]);
    assert.equal(searchOutcome(reply(200, wrong), sync).pspCode, 'response_mismatch');
  });

  it('maps several matches, a missing data array and errors to unknown', () => {
    const two = setPath(fixture(here, 'search_result'), 'data', [succeeded(), succeeded()]);
    assert.equal(searchOutcome(reply(200, two), sync).pspCode, 'multiple_matches');
    assert.equal(
      searchOutcome(reply(200, { object: 'search_result' }), sync).pspCode,
      'unparseable_response',
    );
    assert.equal(searchOutcome(reply(500, undefined), sync).status, 'unknown');
    assert.equal(searchOutcome(TIMEOUT, sync).status, 'unknown');
  });
});

describe('stripe refunds', () => {
  const refund = (): Record<string, unknown> => fixture(here, 'refund_succeeded');

  const statuses: ReadonlyArray<readonly [string, string]> = [
    ['succeeded', 'succeeded'],
    ['pending', 'pending'],
    ['requires_action', 'pending'],
    ['failed', 'failed'],
    ['canceled', 'failed'],
    ['reversed_by_magic', 'unknown'],
  ];
  for (const [stripeStatus, expected] of statuses) {
    it(`maps refund status '${stripeStatus}' to ${expected}`, () => {
      assert.equal(
        refundOutcome(reply(200, setPath(refund(), 'status', stripeStatus)), refundExpectation)
          .status,
        expected,
      );
    });
  }

  it('returns the refund id and amount', () => {
    assert.deepEqual(refundOutcome(reply(200, refund()), refundExpectation), {
      status: 'succeeded',
      pspRefundReference: 're_1Nispe2eZvKYlo2Cd31jOCgZ',
      amount: 500n,
    });
  });

  const mismatches: ReadonlyArray<readonly [string, unknown]> = [
    ['amount', 499],
    ['currency', 'eur'],
    ['payment_intent', 'pi_other'],
    ['metadata.reference', 'rfd_other'],
    ['id', undefined],
  ];
  for (const [path, value] of mismatches) {
    it(`refuses a refund whose ${path} is ${JSON.stringify(value) ?? 'missing'}`, () => {
      const outcome = refundOutcome(reply(200, setPath(refund(), path, value)), refundExpectation);
      assert.equal(outcome.status, 'unknown');
      assert.equal(outcome.pspCode, 'response_mismatch');
      assert.match(outcome.message ?? '', new RegExp(path.split('.')[0] ?? ''));
    });
  }

  it('maps refusals to failed and everything uncertain to unknown', () => {
    const refused = {
      error: {
        type: 'invalid_request_error',
        code: 'charge_already_refunded',
        message: 'Charge ch_1 has already been refunded.',
      },
    };
    assert.deepEqual(refundOutcome(reply(400, refused), refundExpectation), {
      status: 'failed',
      pspCode: 'charge_already_refunded',
      message: 'Charge ch_1 has already been refunded.',
    });
    assert.equal(
      refundOutcome(
        reply(400, { error: { type: 'invalid_request_error', code: 'amount_too_large' } }),
        refundExpectation,
      ).status,
      'failed',
    );
    assert.equal(
      refundOutcome(reply(400, { error: { type: 'idempotency_error' } }), refundExpectation).status,
      'unknown',
    );
    assert.equal(refundOutcome(reply(409, undefined), refundExpectation).status, 'unknown');
    assert.equal(refundOutcome(reply(500, undefined), refundExpectation).status, 'unknown');
    assert.equal(refundOutcome(TIMEOUT, refundExpectation).status, 'unknown');
    assert.equal(
      refundOutcome(reply(200, undefined), refundExpectation).pspCode,
      'unparseable_response',
    );
  });
});

describe('stripe never returns card data', () => {
  it('scrubs a card number echoed in a decline message, code and param', () => {
    const body = setPath(
      declined(),
      'error.message',
      `Your card ${VISA} (4242 4242 4242 4242, cvc 123) was declined.`,
    );
    setPath(body, 'error.param', `payment_method_data[card][number]=${VISA}`);
    setPath(body, 'error.decline_code', `bad_${VISA}`);
    const outcome = paymentOutcome(reply(402, body), authorize);
    const text = serialized(outcome);
    assert.equal(outcome.status, 'failed');
    assert.ok(!text.includes(VISA), text);
    assert.ok(!text.includes('4242 4242 4242 4242'), text);
    assert.ok(!/\b123\b/.test(text), text);
    assert.match(outcome.message ?? '', /\[redacted\]/);
  });

  it('scrubs a card number echoed in an invalid_request error, an unexpected status and a mismatch', () => {
    const invalid = {
      error: {
        type: 'invalid_request_error',
        code: 'incorrect_number',
        message: `The card number ${VISA} is incorrect.`,
      },
    };
    const odd = setPath(succeeded(), 'status', `weird_${VISA}`);
    const mismatched = setPath(succeeded(), 'metadata.reference', VISA);
    for (const outcome of [
      paymentOutcome(reply(400, invalid), authorize),
      paymentOutcome(reply(200, odd), authorize),
      paymentOutcome(reply(200, mismatched), authorize),
    ]) {
      assert.ok(!serialized(outcome).includes(VISA), serialized(outcome));
    }
  });
});
