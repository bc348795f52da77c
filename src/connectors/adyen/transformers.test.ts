import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectorError } from '../errors.ts';
import { authorizationExpectation } from '../guards.ts';
import {
  authorizeRequest,
  fixture,
  NETWORK,
  reply,
  serialized,
  setPath,
  TIMEOUT,
  VISA,
} from '../testing.ts';
import {
  ADYEN_CAPABILITIES,
  captureBody,
  declineCodeOf,
  modificationAnswer,
  modificationPath,
  modificationPaymentOutcome,
  modificationRefundOutcome,
  paymentBody,
  paymentOutcome,
  refundBody,
  type ModificationExpectation,
} from './transformers.ts';

const here = import.meta.dirname;
const load = (name: string) => fixture(here, name);
const MERCHANT = 'PayrailSimECOM';

function authorize(body: unknown, status = 200, captureMode: 'automatic' | 'manual' = 'automatic') {
  const request = authorizeRequest({ captureMode });
  const expectation = authorizationExpectation('adyen', ADYEN_CAPABILITIES, request);
  return paymentOutcome(reply(status, body), expectation, captureMode);
}

const capture: ModificationExpectation = {
  pspReference: 'V4HZ4RBFJGXXGN82',
  reference: 'att_0001',
  amount: 2000n,
  currency: 'usd',
};

describe('adyen requests', () => {
  it('a payment names the amount in minor units, the currency in capitals, our reference and the account', () => {
    const body = paymentBody(authorizeRequest(), MERCHANT);
    assert.deepEqual(body.amount, { value: 2000, currency: 'USD' });
    assert.equal(body.reference, 'att_0001');
    assert.equal(body.merchantAccount, MERCHANT);
    assert.deepEqual(body.paymentMethod, {
      type: 'scheme',
      number: VISA,
      expiryMonth: '12',
      expiryYear: '2030',
      cvc: '123',
      holderName: 'Ada Lovelace',
    });
    assert.equal(body.additionalData, undefined, 'automatic capture is the account default');
  });

  it('manual capture is asked per payment; a one-digit month is zero-padded', () => {
    const request = authorizeRequest({
      captureMode: 'manual',
      card: { number: VISA, expiryMonth: 3, expiryYear: 2031 },
    });
    const body = paymentBody(request, MERCHANT);
    assert.deepEqual(body.additionalData, { manualCapture: 'true' });
    assert.equal(body.paymentMethod.expiryMonth, '03');
    assert.equal(body.paymentMethod.cvc, undefined);
  });

  it('modifications: captures, cancels and refunds under the payment pspReference', () => {
    assert.equal(
      modificationPath('V4HZ4RBFJGXXGN82', 'captures'),
      '/v71/payments/V4HZ4RBFJGXXGN82/captures',
    );
    assert.equal(modificationPath('a/b', 'refunds'), '/v71/payments/a%2Fb/refunds');
    assert.deepEqual(captureBody({ ...capture, amount: 1500n }, MERCHANT), {
      merchantAccount: MERCHANT,
      reference: 'att_0001',
      amount: { value: 1500, currency: 'USD' },
    });
    const refund = refundBody(
      {
        pspReference: 'P',
        reference: 'att_0001',
        refundReference: 're_1',
        amount: 5n,
        currency: 'jpy',
      },
      MERCHANT,
    );
    assert.deepEqual(refund, {
      merchantAccount: MERCHANT,
      reference: 're_1',
      amount: { value: 5, currency: 'JPY' },
    });
  });

  it('sends a 3-D Secure authentication as mpiData; C as directoryResponse after a challenge', () => {
    const threeDSecure = {
      transactionStatus: 'A',
      eci: '06',
      authenticationValue: 'AAABBJkZUQAAAABjRWWZEEFgFz+=',
      dsTransactionId: 'f25084f0-5b16-4c0a-ae5d-b24808a95e4b',
      version: '2.2.0',
    } as const;
    assert.deepEqual(paymentBody(authorizeRequest({ threeDSecure }), MERCHANT).mpiData, {
      cavv: threeDSecure.authenticationValue,
      eci: '06',
      dsTransID: threeDSecure.dsTransactionId,
      threeDSVersion: '2.2.0',
      authenticationResponse: 'A',
      directoryResponse: 'A',
    });
    const challenged = paymentBody(
      authorizeRequest({
        threeDSecure: { ...threeDSecure, transactionStatus: 'Y', authenticationFlow: 'challenge' },
      }),
      MERCHANT,
    );
    assert.equal(challenged.mpiData?.authenticationResponse, 'Y');
    assert.equal(challenged.mpiData?.directoryResponse, 'C');
    assert.equal(paymentBody(authorizeRequest(), MERCHANT).mpiData, undefined);
    assert.equal(ADYEN_CAPABILITIES.threeDSecure, true);
  });

  it('refuses an amount a JSON number cannot hold exactly', () => {
    assert.throws(
      () => paymentBody(authorizeRequest({ amount: 2n ** 60n }), MERCHANT),
      (error: unknown) => error instanceof ConnectorError && error.code === 'invalid_amount',
    );
  });
});

describe('adyen payment answers', () => {
  it('Authorised is captured with automatic capture, authorized with manual', () => {
    assert.deepEqual(authorize(load('payment_authorised')), {
      status: 'captured',
      pspReference: 'V4HZ4RBFJGXXGN82',
      amountAuthorized: 2000n,
      amountCaptured: 2000n,
    });
    assert.deepEqual(authorize(load('payment_authorised'), 200, 'manual'), {
      status: 'authorized',
      pspReference: 'V4HZ4RBFJGXXGN82',
      amountAuthorized: 2000n,
    });
  });

  it('Refused is failed with the decline code of its refusalReasonCode', () => {
    const outcome = authorize(load('payment_refused'));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.declineCode, 'insufficient_funds');
    assert.equal(outcome.pspCode, '12');
    assert.equal(outcome.message, 'Not enough balance');
    assert.equal(outcome.pspReference, 'KHQC5N7G84BLNK43');
  });

  it('refusal codes map to decline codes; a blocked card is lost or stolen by its raw response', () => {
    assert.equal(declineCodeOf('2', undefined), 'generic_decline');
    assert.equal(declineCodeOf('2', '05 : Do not honor'), 'do_not_honor');
    assert.equal(declineCodeOf('4', '96 : System malfunction'), 'processing_error');
    assert.equal(declineCodeOf('6', undefined), 'expired_card');
    assert.equal(declineCodeOf('24', undefined), 'incorrect_cvc');
    assert.equal(declineCodeOf('5', '43 : Stolen card'), 'stolen_card');
    assert.equal(declineCodeOf('5', '41 : Lost card'), 'lost_card');
    assert.equal(declineCodeOf('20', undefined), 'fraudulent');
    assert.equal(declineCodeOf('28', undefined), 'card_velocity_exceeded');
    assert.equal(declineCodeOf('38', undefined), 'authentication_required');
    assert.equal(declineCodeOf('999', undefined), 'generic_decline');
  });

  it('Error and Cancelled are failed without a decline code', () => {
    for (const resultCode of ['Error', 'Cancelled']) {
      const body = setPath(load('payment_refused'), 'resultCode', resultCode);
      const outcome = authorize(body);
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.declineCode, undefined);
    }
  });

  it('a shopper action (3-D Secure redirect) is failed as authentication_required', () => {
    const outcome = authorize(load('payment_redirect_shopper'));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.pspCode, 'authentication_required');
  });

  it('Received and Pending are pending; an unknown resultCode is unknown', () => {
    assert.equal(authorize(load('payment_received')).status, 'pending');
    assert.equal(
      authorize(setPath(load('payment_received'), 'resultCode', 'Pending')).status,
      'pending',
    );
    const odd = authorize(setPath(load('payment_received'), 'resultCode', 'Frozen'));
    assert.equal(odd.status, 'unknown');
    assert.equal(odd.pspCode, 'unexpected_status');
  });

  it('an answer that does not match the request is unknown, never authorized', () => {
    for (const [path, value] of [
      ['merchantReference', 'att_other'],
      ['amount.value', 1999],
      ['amount.currency', 'EUR'],
      ['pspReference', undefined],
    ] as const) {
      const outcome = authorize(setPath(load('payment_authorised'), path, value));
      assert.equal(outcome.status, 'unknown', path);
      assert.equal(outcome.pspCode, 'response_mismatch', path);
    }
  });

  it('errors: validation and auth refusals are failed; 704, 5xx, timeouts and junk are unknown', () => {
    assert.equal(authorize(load('error_validation'), 422).status, 'failed');
    assert.equal(authorize(load('error_validation'), 422).pspCode, '101');
    assert.equal(authorize(load('error_unauthorized'), 401).status, 'failed');
    assert.equal(authorize(load('error_in_progress'), 422).status, 'unknown');
    assert.equal(authorize(load('error_internal'), 500).status, 'unknown');
    assert.equal(authorize(undefined, 200).pspCode, 'unparseable_response');
    const expectation = authorizationExpectation('adyen', ADYEN_CAPABILITIES, authorizeRequest());
    assert.equal(paymentOutcome(TIMEOUT, expectation, 'automatic').pspCode, 'timeout');
    assert.equal(paymentOutcome(NETWORK, expectation, 'automatic').status, 'unknown');
  });

  it('never returns the card number, even when Adyen echoes it', () => {
    const body = setPath(load('error_validation'), 'message', `Invalid card number ${VISA}`);
    assert.ok(!serialized(authorize(body, 422)).includes(VISA));
  });
});

describe('adyen modification answers', () => {
  it('a capture "received" is pending: its outcome comes by webhook', () => {
    const answer = modificationAnswer(reply(201, load('capture_received')), capture);
    assert.deepEqual(answer, { status: 'received', pspReference: 'JDD6LKT8MBLZNN84' });
    const outcome = modificationPaymentOutcome(answer);
    assert.equal(outcome.status, 'pending');
    assert.equal(outcome.pspCode, 'received');
  });

  it('a cancel "received" is pending; it names no amount', () => {
    const answer = modificationAnswer(reply(201, load('cancel_received')), {
      pspReference: 'V4HZ4RBFJGXXGN82',
      reference: 'att_0001',
      currency: 'usd',
    });
    assert.equal(modificationPaymentOutcome(answer).status, 'pending');
  });

  it('a refund "received" is pending and keeps the refund pspReference', () => {
    const answer = modificationAnswer(reply(201, load('refund_received')), {
      pspReference: 'V4HZ4RBFJGXXGN82',
      reference: 're_0001',
      amount: 500n,
      currency: 'usd',
    });
    assert.deepEqual(modificationRefundOutcome(answer), {
      status: 'pending',
      pspRefundReference: 'QFQTPCQ8HXSKGK82',
      pspCode: 'received',
    });
  });

  it('a mismatching, unparseable or odd answer is unknown; a validation refusal is failed', () => {
    for (const [path, value] of [
      ['paymentPspReference', 'OTHER'],
      ['reference', 'att_other'],
      ['amount.value', 1],
      ['status', 'done'],
    ] as const) {
      const answer = modificationAnswer(
        reply(201, setPath(load('capture_received'), path, value)),
        capture,
      );
      assert.equal(answer.status, 'unknown', path);
    }
    assert.equal(modificationAnswer(reply(201, undefined), capture).status, 'unknown');
    assert.equal(modificationAnswer(TIMEOUT, capture).status, 'unknown');
    assert.equal(modificationAnswer(reply(500, load('error_internal')), capture).status, 'unknown');
    const refused = modificationAnswer(reply(422, load('error_validation')), capture);
    assert.equal(refused.status, 'failed');
    assert.equal(modificationRefundOutcome(refused).status, 'failed');
  });
});
