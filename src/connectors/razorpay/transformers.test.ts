import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
  RAZORPAY_CAPABILITIES,
  basicAuthorization,
  captureBody,
  collectionOutcome,
  createPaymentBody,
  declineCodeOf,
  paymentOutcome,
  paymentPath,
  receiptSearchPath,
  refundBody,
  refundOutcome,
} from './transformers.ts';

const here = import.meta.dirname;
const captured = (): Record<string, unknown> => fixture(here, 'payment_captured');
const PAY = 'pay_L0nSsccovt6zyp';

const authorize: PaymentExpectation = {
  operation: 'authorize',
  reference: 'att_0001',
  currency: 'inr',
  amount: 9900n,
  secrets: [VISA, '123'],
};
const sync: PaymentExpectation = {
  operation: 'sync',
  reference: 'att_0001',
  currency: 'inr',
  amount: 9900n,
};
const capture: PaymentExpectation = {
  operation: 'capture',
  pspReference: PAY,
  reference: 'att_0001',
  currency: 'inr',
  amount: 9900n,
};
const refundExpectation: RefundExpectation = {
  pspReference: PAY,
  reference: 'att_0001',
  refundReference: 'rfd_0001',
  amount: 500n,
  currency: 'inr',
};

describe('razorpay capabilities', () => {
  it('declares its currencies, both capture modes, no partial capture, every refund kind, no void', () => {
    assert.deepEqual(RAZORPAY_CAPABILITIES, {
      paymentMethods: ['card'],
      currencies: ['inr', 'usd', 'eur', 'gbp', 'sgd', 'aed', 'myr'],
      captureModes: ['automatic', 'manual'],
      partialCapture: false,
      refunds: { full: true, partial: true, multiple: true },
      void: false,
      threeDSecure: false,
      webhooks: true,
      cardVerification: 'none',
    });
    assert.ok(Object.isFrozen(RAZORPAY_CAPABILITIES.currencies));
  });
});

describe('razorpay requests', () => {
  it('creates a card payment with uppercase currency, integer amount, receipt and notes', () => {
    const body = createPaymentBody(
      authorizeRequest({
        currency: 'inr',
        amount: 9900n,
        captureMode: 'manual',
        description: 'Order 1001',
      }),
    );
    assert.deepEqual(body, {
      amount: 9900,
      currency: 'INR',
      method: 'card',
      card: {
        number: VISA,
        expiry_month: '12',
        expiry_year: '2030',
        cvv: '123',
        name: 'Ada Lovelace',
      },
      receipt: 'att_0001',
      notes: { reference: 'att_0001' },
      capture: false,
      description: 'Order 1001',
    });
    assert.equal(
      createPaymentBody(
        authorizeRequest({ card: { number: VISA, expiryMonth: 3, expiryYear: 2031 } }),
      ).card.expiry_month,
      '03',
    );
    assert.equal(createPaymentBody(authorizeRequest()).capture, true);
  });

  it('captures and refunds naming the amount', () => {
    assert.deepEqual(
      captureBody({ pspReference: PAY, reference: 'att_0001', amount: 9900n, currency: 'usd' }),
      { amount: 9900, currency: 'USD' },
    );
    assert.deepEqual(
      refundBody({
        pspReference: PAY,
        reference: 'att_0001',
        refundReference: 'rfd_0001',
        amount: 500n,
        currency: 'inr',
      }),
      {
        amount: 500,
        receipt: 'rfd_0001',
        notes: { reference: 'rfd_0001' },
      },
    );
  });

  it('refuses an amount above Number.MAX_SAFE_INTEGER with a clear error', () => {
    const tooLarge = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
    assert.throws(
      () => createPaymentBody(authorizeRequest({ amount: tooLarge })),
      (error: unknown) =>
        error instanceof ConnectorError &&
        error.code === 'invalid_amount' &&
        /MAX_SAFE_INTEGER/.test(error.message) &&
        !error.message.includes(VISA),
    );
    assert.equal(
      captureBody({
        pspReference: PAY,
        reference: 'r',
        amount: BigInt(Number.MAX_SAFE_INTEGER),
        currency: 'inr',
      }).amount,
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('builds paths, the receipt query and HTTP Basic credentials', () => {
    assert.equal(paymentPath(PAY, 'capture'), `/v1/payments/${PAY}/capture`);
    assert.equal(paymentPath('pay_1/x'), '/v1/payments/pay_1%2Fx');
    assert.equal(receiptSearchPath('att 1&x'), '/v1/payments?receipt=att+1%26x');
    assert.equal(
      basicAuthorization('rzp_test_sim', 'sim_secret'),
      `Basic ${Buffer.from('rzp_test_sim:sim_secret').toString('base64')}`,
    );
  });
});

describe('razorpay payment statuses', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['captured', 'captured'],
    ['refunded', 'captured'],
    ['authorized', 'authorized'],
    ['failed', 'failed'],
    ['created', 'pending'],
    ['pending', 'unknown'],
    ['disputed', 'unknown'],
    ['', 'unknown'],
  ];
  for (const [razorpayStatus, expected] of cases) {
    it(`maps '${razorpayStatus}' to ${expected}`, () => {
      const outcome = paymentOutcome(
        reply(200, setPath(captured(), 'status', razorpayStatus)),
        sync,
      );
      assert.equal(outcome.status, expected);
      assert.equal(outcome.pspReference, PAY);
    });
  }

  it('reports a captured payment with its amounts', () => {
    assert.deepEqual(paymentOutcome(reply(200, captured()), authorize), {
      status: 'captured',
      pspReference: PAY,
      amountAuthorized: 9900n,
      amountCaptured: 9900n,
      amountRefunded: 0n,
    });
  });

  it('reports an authorized payment without a captured amount', () => {
    const authorized = setPath(setPath(captured(), 'status', 'authorized'), 'captured', false);
    assert.deepEqual(paymentOutcome(reply(200, authorized), authorize), {
      status: 'authorized',
      pspReference: PAY,
      amountAuthorized: 9900n,
      amountRefunded: 0n,
    });
  });

  it('reports a refunded payment as captured with the refunded amount', () => {
    const refunded = setPath(setPath(captured(), 'status', 'refunded'), 'amount_refunded', 9900);
    assert.equal(paymentOutcome(reply(200, refunded), sync).amountRefunded, 9900n);
  });

  it('maps a failed payment entity to failed with its decline code', () => {
    const outcome = paymentOutcome(reply(200, fixture(here, 'payment_failed')), sync);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.declineCode, 'insufficient_funds');
    assert.equal(outcome.pspCode, 'insufficient_balance');
  });
});

describe('razorpay declines and errors', () => {
  const reasons: ReadonlyArray<readonly [string, string]> = [
    ['insufficient_balance', 'insufficient_funds'],
    ['insufficient_funds', 'insufficient_funds'],
    ['card_reported_lost', 'lost_card'],
    ['card_reported_stolen', 'stolen_card'],
    ['payment_declined_by_bank', 'do_not_honor'],
    ['card_expired', 'expired_card'],
    ['incorrect_cvv', 'incorrect_cvc'],
    ['card_declined', 'generic_decline'],
    ['payment_risk_check_failed', 'fraudulent'],
    ['bank_technical_error', 'processing_error'],
    ['card_velocity_exceeded', 'card_velocity_exceeded'],
    ['authentication_required', 'authentication_required'],
    ['payment_failed', 'generic_decline'],
    ['something_new', 'generic_decline'],
  ];
  for (const [reason, expected] of reasons) {
    it(`maps a 400 decline with reason ${reason} to failed ${expected}`, () => {
      const outcome = paymentOutcome(
        reply(400, setPath(fixture(here, 'decline_error'), 'error.reason', reason)),
        authorize,
      );
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.declineCode, expected);
      assert.equal(outcome.pspReference, 'pay_L0nUe7cWYVvxzF');
      assert.equal(outcome.pspCode, reason);
      assert.equal(declineCodeOf(reason), expected);
    });
  }

  it('maps a 400 request error on create to failed without a decline code (nothing was done)', () => {
    assert.deepEqual(paymentOutcome(reply(400, fixture(here, 'request_error')), authorize), {
      status: 'failed',
      pspCode: 'input_validation_failed',
      message: 'The amount must be at least INR 1.00',
    });
  });

  it('maps authentication failure to failed', () => {
    const body = { error: { code: 'BAD_REQUEST_ERROR', description: 'Authentication failed' } };
    assert.equal(paymentOutcome(reply(401, body), authorize).status, 'failed');
  });

  it('maps a reused idempotency key, 409, gateway and server errors, 5xx to unknown', () => {
    const reused = {
      error: { code: 'BAD_REQUEST_ERROR', reason: 'idempotency_key_reused', description: 'reused' },
    };
    assert.equal(paymentOutcome(reply(400, reused), authorize).status, 'unknown');
    assert.equal(paymentOutcome(reply(409, undefined), authorize).status, 'unknown');
    assert.equal(
      paymentOutcome(
        reply(400, { error: { code: 'GATEWAY_ERROR', description: 'gateway' } }),
        authorize,
      ).status,
      'unknown',
    );
    const server = paymentOutcome(
      reply(500, {
        error: { code: 'SERVER_ERROR', description: 'The server encountered an error.' },
      }),
      authorize,
    );
    assert.deepEqual(server, {
      status: 'unknown',
      pspCode: 'SERVER_ERROR',
      message: 'The server encountered an error.',
    });
    assert.equal(paymentOutcome(reply(502, undefined), authorize).status, 'unknown');
    assert.equal(paymentOutcome(reply(504, undefined), authorize).pspCode, 'http_504');
  });

  it('maps a refused capture (400) to failed and its uncertain answers to unknown', () => {
    const body = {
      error: {
        code: 'BAD_REQUEST_ERROR',
        description: 'Capture amount must be equal to the amount authorized',
      },
    };
    assert.equal(paymentOutcome(reply(400, body), capture).status, 'failed');
    assert.equal(paymentOutcome(reply(500, undefined), capture).status, 'unknown');
  });

  it('maps an unknown id on sync to unknown not_found, other sync errors to unknown', () => {
    const missing = {
      error: { code: 'BAD_REQUEST_ERROR', description: 'The id provided does not exist' },
    };
    assert.equal(
      paymentOutcome(reply(400, missing), { ...sync, pspReference: 'pay_x' }).pspCode,
      'not_found',
    );
    assert.equal(
      paymentOutcome(reply(400, missing), { ...sync, pspReference: 'pay_x' }).status,
      'unknown',
    );
    assert.equal(
      paymentOutcome(reply(401, { error: { code: 'BAD_REQUEST_ERROR' } }), sync).status,
      'unknown',
    );
  });

  it('maps no response and unparseable bodies to unknown', () => {
    assert.equal(paymentOutcome(TIMEOUT, authorize).pspCode, 'timeout');
    assert.equal(paymentOutcome(NETWORK, authorize).pspCode, 'network_error');
    assert.equal(
      paymentOutcome({ kind: 'response', status: 200, body: undefined, text: '{"id":' }, authorize)
        .pspCode,
      'unparseable_response',
    );
  });
});

describe('razorpay responses are checked against the request', () => {
  const mismatches: ReadonlyArray<readonly [string, string, unknown]> = [
    ['amount', 'amount', 9800],
    ['amount', 'amount', 99.0001],
    ['currency', 'currency', 'USD'],
    ['receipt', 'receipt', 'att_9999'],
    ['id', 'id', 'pay_other'],
  ];
  for (const [field, path, value] of mismatches) {
    it(`refuses a payment whose ${path} is ${JSON.stringify(value)}`, () => {
      const outcome = paymentOutcome(reply(200, setPath(captured(), path, value)), capture);
      assert.equal(outcome.status, 'unknown');
      assert.equal(outcome.pspCode, 'response_mismatch');
      assert.match(outcome.message ?? '', new RegExp(`: ${field} \\(`));
    });
  }

  it('falls back to notes.reference when there is no receipt, and refuses when neither is ours', () => {
    const noReceipt = setPath(captured(), 'receipt', undefined);
    assert.equal(paymentOutcome(reply(200, noReceipt), authorize).status, 'captured');
    assert.equal(
      paymentOutcome(reply(200, setPath(noReceipt, 'notes', {})), authorize).pspCode,
      'response_mismatch',
    );
  });

  it('accepts the currency in either case (Razorpay writes it uppercase)', () => {
    assert.equal(
      paymentOutcome(reply(200, setPath(captured(), 'currency', 'inr')), authorize).status,
      'captured',
    );
  });

  it('refuses a payment without an id', () => {
    assert.equal(
      paymentOutcome(reply(200, setPath(captured(), 'id', undefined)), authorize).pspCode,
      'response_mismatch',
    );
  });
});

describe('razorpay collection (sync by receipt)', () => {
  it('maps no items to unknown not_found, one item through the payment rules, several to unknown', () => {
    const empty = fixture(here, 'collection');
    assert.equal(collectionOutcome(reply(200, empty), sync).pspCode, 'not_found');
    assert.equal(collectionOutcome(reply(200, empty), sync).status, 'unknown');
    assert.equal(
      collectionOutcome(
        reply(200, setPath(fixture(here, 'collection'), 'items', [captured()])),
        sync,
      ).status,
      'captured',
    );
    assert.equal(
      collectionOutcome(
        reply(200, setPath(fixture(here, 'collection'), 'items', [captured(), captured()])),
        sync,
      ).pspCode,
      'multiple_matches',
    );
    assert.equal(
      collectionOutcome(reply(200, { entity: 'collection' }), sync).pspCode,
      'unparseable_response',
    );
    assert.equal(collectionOutcome(reply(500, undefined), sync).status, 'unknown');
    assert.equal(collectionOutcome(NETWORK, sync).status, 'unknown');
  });
});

describe('razorpay refunds', () => {
  const refund = (): Record<string, unknown> => fixture(here, 'refund_processed');

  const statuses: ReadonlyArray<readonly [string, string]> = [
    ['processed', 'succeeded'],
    ['pending', 'pending'],
    ['failed', 'failed'],
    ['created', 'unknown'],
  ];
  for (const [razorpayStatus, expected] of statuses) {
    it(`maps refund status '${razorpayStatus}' to ${expected}`, () => {
      assert.equal(
        refundOutcome(reply(200, setPath(refund(), 'status', razorpayStatus)), refundExpectation)
          .status,
        expected,
      );
    });
  }

  it('returns the refund id and amount', () => {
    assert.deepEqual(refundOutcome(reply(200, refund()), refundExpectation), {
      status: 'succeeded',
      pspRefundReference: 'rfnd_FP8QHiV938haTz',
      amount: 500n,
    });
  });

  const mismatches: ReadonlyArray<readonly [string, unknown]> = [
    ['amount', 600],
    ['currency', 'USD'],
    ['payment_id', 'pay_other'],
    ['receipt', 'rfd_other'],
    ['id', undefined],
  ];
  for (const [path, value] of mismatches) {
    it(`refuses a refund whose ${path} is ${JSON.stringify(value) ?? 'missing'}`, () => {
      const outcome = refundOutcome(reply(200, setPath(refund(), path, value)), refundExpectation);
      assert.equal(outcome.status, 'unknown');
      assert.equal(outcome.pspCode, 'response_mismatch');
      assert.match(outcome.message ?? '', new RegExp(path));
    });
  }

  it('maps refusals to failed and uncertain answers to unknown', () => {
    const tooMuch = {
      error: {
        code: 'BAD_REQUEST_ERROR',
        description: 'The refund amount provided is greater than amount captured',
      },
    };
    assert.equal(refundOutcome(reply(400, tooMuch), refundExpectation).status, 'failed');
    assert.equal(
      refundOutcome(
        reply(400, { error: { code: 'BAD_REQUEST_ERROR', reason: 'idempotency_key_reused' } }),
        refundExpectation,
      ).status,
      'unknown',
    );
    assert.equal(
      refundOutcome(reply(500, { error: { code: 'SERVER_ERROR' } }), refundExpectation).status,
      'unknown',
    );
    assert.equal(refundOutcome(TIMEOUT, refundExpectation).status, 'unknown');
  });
});

describe('razorpay never returns card data', () => {
  it('scrubs a card number echoed in an error description, reason and metadata', () => {
    const body = setPath(
      fixture(here, 'decline_error'),
      'error.description',
      `Card ${VISA} with cvv 123 is reported lost`,
    );
    setPath(body, 'error.field', `card[number]=${VISA}`);
    const outcome = paymentOutcome(reply(400, body), authorize);
    assert.equal(outcome.status, 'failed');
    assert.ok(!serialized(outcome).includes(VISA), serialized(outcome));
    assert.ok(!/\b123\b/.test(serialized(outcome)));
    const request = paymentOutcome(
      reply(
        400,
        setPath(
          fixture(here, 'request_error'),
          'error.description',
          `Invalid card number 4242-4242-4242-4242`,
        ),
      ),
      authorize,
    );
    assert.ok(!serialized(request).includes('4242-4242-4242-4242'));
    const payment = paymentOutcome(
      reply(200, setPath(fixture(here, 'payment_failed'), 'error_description', `declined ${VISA}`)),
      sync,
    );
    assert.ok(!serialized(payment).includes(VISA));
  });
});
