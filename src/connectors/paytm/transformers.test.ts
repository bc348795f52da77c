import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
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
  PAYTM_CAPABILITIES,
  cardInfo,
  declineCodeOf,
  payBody,
  refundApplyBody,
  refundOutcome,
  signature,
  signedRequest,
  statusBody,
  transactionOutcome,
} from './transformers.ts';

const here = import.meta.dirname;
const MID = 'SIMMID00000000000001';
const TXN = '20230101111212800110168470101509706';
const success = (): Record<string, unknown> => fixture(here, 'transaction_status_success');
const failure = (): Record<string, unknown> => fixture(here, 'order_pay_failure');

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
const refundExpectation: RefundExpectation = {
  pspReference: TXN,
  reference: 'att_0001',
  refundReference: 'rfd_0001',
  amount: 9900n,
  currency: 'inr',
};

describe('paytm capabilities', () => {
  it('declares INR only, automatic capture only, full refunds only, no void', () => {
    assert.deepEqual(PAYTM_CAPABILITIES, {
      paymentMethods: ['card'],
      currencies: ['inr'],
      captureModes: ['automatic'],
      partialCapture: false,
      refunds: { full: true, partial: false, multiple: false },
      void: false,
      threeDSecure: false,
      webhooks: true,
      cardVerification: 'none',
    });
  });
});

describe('paytm requests', () => {
  it('pays with a major-unit decimal string, our reference as orderId and the card string', () => {
    assert.deepEqual(payBody(authorizeRequest({ currency: 'inr', amount: 9900n }), MID), {
      mid: MID,
      orderId: 'att_0001',
      txnAmount: { value: '99.00', currency: 'INR' },
      paymentMode: 'CREDIT_CARD',
      cardInfo: `|${VISA}|123|122030`,
    });
  });

  it('formats amounts exactly through src/money, never through a float', () => {
    const value = (amount: bigint): string =>
      payBody(authorizeRequest({ currency: 'inr', amount }), MID).txnAmount.value;
    assert.equal(value(1n), '0.01');
    assert.equal(value(10n), '0.10');
    assert.equal(value(99_999_999_999n), '999999999.99');
    assert.equal(value(BigInt(Number.MAX_SAFE_INTEGER) * 10n + 7n), '900719925474099.17');
  });

  it('writes the expiry as MMYYYY, padding the month and widening a two-digit year', () => {
    assert.equal(cardInfo({ number: VISA, expiryMonth: 3, expiryYear: 31 }), `|${VISA}||032031`);
  });

  it('asks for status by orderId and refunds the whole transaction by refId', () => {
    assert.deepEqual(statusBody(MID, 'att_0001'), { mid: MID, orderId: 'att_0001' });
    assert.deepEqual(
      refundApplyBody(
        {
          pspReference: TXN,
          reference: 'att_0001',
          refundReference: 'rfd_0001',
          amount: 9900n,
          currency: 'inr',
        },
        MID,
      ),
      {
        mid: MID,
        txnType: 'REFUND',
        orderId: 'att_0001',
        txnId: TXN,
        refId: 'rfd_0001',
        refundAmount: '99.00',
      },
    );
  });

  it('signs the exact JSON text of body with HMAC-SHA256 of the merchant key, base64', () => {
    const body = statusBody(MID, 'att_0001');
    const text = signedRequest(body, 'sim_merchant_key');
    const bodyText = JSON.stringify(body);
    const expected = createHmac('sha256', 'sim_merchant_key').update(bodyText).digest('base64');
    assert.equal(text, `{"head":{"signature":"${expected}"},"body":${bodyText}}`);
    assert.equal(signature(bodyText, 'sim_merchant_key'), expected);
    const parsed = JSON.parse(text) as { body: unknown };
    assert.deepEqual(parsed.body, body);
  });
});

describe('paytm transaction results', () => {
  it('maps TXN_SUCCESS to captured with the parsed amounts', () => {
    assert.deepEqual(transactionOutcome(reply(200, success()), authorize), {
      status: 'captured',
      pspReference: TXN,
      amountAuthorized: 9900n,
      amountCaptured: 9900n,
      amountRefunded: 0n,
    });
  });

  const declines: ReadonlyArray<readonly [string, string]> = [
    ['235', 'insufficient_funds'],
    ['295', 'lost_card'],
    ['296', 'stolen_card'],
    ['227', 'do_not_honor'],
    ['267', 'expired_card'],
    ['999', 'generic_decline'],
    ['', 'generic_decline'],
  ];
  for (const [code, expected] of declines) {
    it(`maps TXN_FAILURE code '${code}' to failed ${expected}`, () => {
      const outcome = transactionOutcome(
        reply(200, setPath(failure(), 'body.resultInfo.resultCode', code)),
        authorize,
      );
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.declineCode, expected);
      assert.equal(declineCodeOf(code), expected);
    });
  }

  it('keeps the PSP code, message and txnId of a decline', () => {
    assert.deepEqual(transactionOutcome(reply(200, failure()), authorize), {
      status: 'failed',
      pspReference: '20230101111212800110168470101509799',
      declineCode: 'insufficient_funds',
      pspCode: '235',
      message: 'Insufficient funds',
    });
  });

  it('maps PENDING (code 400) to pending', () => {
    const pending = setPath(
      setPath(success(), 'body.resultInfo.resultStatus', 'PENDING'),
      'body.resultInfo.resultCode',
      '400',
    );
    assert.equal(transactionOutcome(reply(200, pending), sync).status, 'pending');
  });

  it('maps unknown resultStatus strings to unknown', () => {
    for (const status of ['TXN_MAYBE', 'SUCCESS', '', undefined]) {
      const body = setPath(success(), 'body.resultInfo.resultStatus', status);
      assert.equal(transactionOutcome(reply(200, body), sync).status, 'unknown', String(status));
    }
  });

  it('maps an unknown orderId (334) on sync to unknown not_found, never failed', () => {
    assert.deepEqual(transactionOutcome(reply(200, fixture(here, 'invalid_order_id')), sync), {
      status: 'unknown',
      pspCode: 'not_found',
      message: 'Invalid Order Id.',
    });
  });

  it('maps a bad checksum (330) to failed on pay (refused) and unknown on sync', () => {
    const body = {
      head: {},
      body: {
        resultInfo: {
          resultStatus: 'TXN_FAILURE',
          resultCode: '330',
          resultMsg: 'Checksum provided is invalid',
        },
      },
    };
    assert.equal(transactionOutcome(reply(200, body), authorize).status, 'failed');
    assert.equal(transactionOutcome(reply(200, body), authorize).declineCode, undefined);
    assert.equal(transactionOutcome(reply(200, body), sync).status, 'unknown');
  });

  it('maps a system error (HTTP 500 / code 810) to unknown', () => {
    const body = {
      body: {
        resultInfo: { resultStatus: 'TXN_FAILURE', resultCode: '810', resultMsg: 'System error' },
      },
    };
    assert.deepEqual(transactionOutcome(reply(500, body), authorize), {
      status: 'unknown',
      pspCode: '810',
      message: 'System error',
    });
    assert.equal(transactionOutcome(reply(200, body), authorize).status, 'unknown');
    assert.equal(transactionOutcome(reply(503, undefined), authorize).pspCode, 'http_503');
  });

  it('maps no response, an unparseable body and a missing resultInfo to unknown', () => {
    assert.equal(transactionOutcome(TIMEOUT, authorize).pspCode, 'timeout');
    assert.equal(transactionOutcome(NETWORK, authorize).pspCode, 'network_error');
    assert.equal(
      transactionOutcome(
        { kind: 'response', status: 200, body: undefined, text: 'oops' },
        authorize,
      ).pspCode,
      'unparseable_response',
    );
    assert.equal(transactionOutcome(reply(200, { body: {} }), authorize).status, 'unknown');
    assert.equal(
      transactionOutcome(
        reply(404, { body: { resultInfo: { resultStatus: 'TXN_FAILURE', resultCode: '235' } } }),
        authorize,
      ).status,
      'unknown',
    );
  });
});

describe('paytm responses are checked against the request', () => {
  const mismatches: ReadonlyArray<readonly [string, string, unknown]> = [
    ['orderId', 'body.orderId', 'att_9999'],
    ['orderId', 'body.orderId', undefined],
    ['txnAmount', 'body.txnAmount', '99.01'],
    ['txnAmount', 'body.txnAmount', '9.9e1'],
    ['txnAmount', 'body.txnAmount', 99],
    ['txnAmount', 'body.txnAmount', undefined],
    ['currency', 'body.currency', 'USD'],
    ['txnId', 'body.txnId', undefined],
  ];
  for (const [field, path, value] of mismatches) {
    it(`refuses a success whose ${path} is ${JSON.stringify(value) ?? 'missing'}`, () => {
      const outcome = transactionOutcome(reply(200, setPath(success(), path, value)), authorize);
      assert.equal(outcome.status, 'unknown');
      assert.equal(outcome.pspCode, 'response_mismatch');
      assert.match(outcome.message ?? '', new RegExp(`: ${field} \\(`));
    });
  }

  it('accepts the same amount written with fewer places ("99.0", "99")', () => {
    assert.equal(
      transactionOutcome(reply(200, setPath(success(), 'body.txnAmount', '99.0')), authorize)
        .status,
      'captured',
    );
    assert.equal(
      transactionOutcome(reply(200, setPath(success(), 'body.txnAmount', '99')), authorize).status,
      'captured',
    );
  });

  it('refuses an answer about another txnId when sync names one', () => {
    const outcome = transactionOutcome(reply(200, success()), {
      ...sync,
      pspReference: '2023_other',
    });
    assert.equal(outcome.pspCode, 'response_mismatch');
    assert.match(outcome.message ?? '', /txnId/);
  });

  it('refuses a decline about another order or amount (checked where present)', () => {
    assert.equal(
      transactionOutcome(reply(200, setPath(failure(), 'body.orderId', 'att_2')), authorize)
        .pspCode,
      'response_mismatch',
    );
    assert.equal(
      transactionOutcome(reply(200, setPath(failure(), 'body.txnAmount', '1.00')), authorize)
        .pspCode,
      'response_mismatch',
    );
    assert.equal(
      transactionOutcome(reply(200, setPath(failure(), 'body.orderId', undefined)), authorize)
        .status,
      'failed',
    );
  });
});

describe('paytm refunds', () => {
  it('maps TXN_SUCCESS (code 10) to succeeded with the refund id', () => {
    assert.deepEqual(
      refundOutcome(reply(200, fixture(here, 'refund_success')), refundExpectation),
      {
        status: 'succeeded',
        pspRefundReference: '2019090212310012345678',
        amount: 9900n,
      },
    );
  });

  it('maps PENDING (601) to pending', () => {
    const outcome = refundOutcome(
      reply(200, fixture(here, 'refund_apply_pending')),
      refundExpectation,
    );
    assert.equal(outcome.status, 'pending');
    assert.equal(outcome.pspRefundReference, '2019090212310012345678');
  });

  it('maps refusals (617 partial, 626 already refunded) to failed', () => {
    for (const [code, message] of [
      ['617', 'Partial refund is not allowed'],
      ['626', 'Refund already raised'],
    ] as const) {
      const body = {
        body: {
          resultInfo: { resultStatus: 'TXN_FAILURE', resultCode: code, resultMsg: message },
          refId: 'rfd_0001',
          orderId: 'att_0001',
        },
      };
      assert.deepEqual(refundOutcome(reply(200, body), refundExpectation), {
        status: 'failed',
        pspCode: code,
        message,
      });
    }
  });

  it('maps system errors, unknown statuses and no response to unknown', () => {
    const system = {
      body: {
        resultInfo: { resultStatus: 'TXN_FAILURE', resultCode: '810', resultMsg: 'System error' },
      },
    };
    assert.equal(refundOutcome(reply(500, system), refundExpectation).status, 'unknown');
    assert.equal(
      refundOutcome(
        reply(
          200,
          setPath(fixture(here, 'refund_success'), 'body.resultInfo.resultStatus', 'REFUNDED?'),
        ),
        refundExpectation,
      ).status,
      'unknown',
    );
    assert.equal(refundOutcome(TIMEOUT, refundExpectation).status, 'unknown');
    assert.equal(
      refundOutcome(reply(200, undefined), refundExpectation).pspCode,
      'unparseable_response',
    );
  });

  const mismatches: ReadonlyArray<readonly [string, unknown]> = [
    ['refId', 'rfd_other'],
    ['orderId', 'att_other'],
    ['txnId', 'other'],
    ['refundAmount', '98.00'],
    ['refundId', undefined],
  ];
  for (const [field, value] of mismatches) {
    it(`refuses a refund whose ${field} is ${JSON.stringify(value) ?? 'missing'}`, () => {
      const outcome = refundOutcome(
        reply(200, setPath(fixture(here, 'refund_success'), `body.${field}`, value)),
        refundExpectation,
      );
      assert.equal(outcome.status, 'unknown');
      assert.equal(outcome.pspCode, 'response_mismatch');
      assert.match(outcome.message ?? '', new RegExp(field));
    });
  }
});

describe('paytm never returns card data', () => {
  it('scrubs a card number echoed in resultMsg', () => {
    const body = setPath(
      failure(),
      'body.resultInfo.resultMsg',
      `Card ${VISA} declined, cvv 123, cardInfo |${VISA}|123|122030`,
    );
    const outcome = transactionOutcome(reply(200, body), authorize);
    assert.equal(outcome.status, 'failed');
    assert.ok(!serialized(outcome).includes(VISA), serialized(outcome));
    assert.ok(!/\b123\b/.test(serialized(outcome)));
  });

  it('keeps long numeric Paytm ids as pspReference (only an exact card number is removed)', () => {
    assert.equal(transactionOutcome(reply(200, success()), authorize).pspReference, TXN);
    const echoed = setPath(failure(), 'body.txnId', VISA);
    assert.equal(transactionOutcome(reply(200, echoed), authorize).pspReference, undefined);
  });
});
