// The Paytm-like simulator over HTTP against the real process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CARDS,
  PAYTM_MID,
  at,
  delay,
  groundTruth,
  paytm,
  paytmOrder,
  paytmRaw,
  paytmSign,
  text,
  type SimProcess,
  startSimProcess,
} from './support.ts';

let sim: SimProcess;
before(async () => {
  sim = await startSimProcess({ SIM_TIMEOUT_DELAY_MS: '300' });
});
after(async () => {
  assert.equal(await sim.stop(), 0);
});

function resultInfo(body: unknown): unknown[] {
  return [
    at(body, 'body', 'resultInfo', 'resultStatus'),
    at(body, 'body', 'resultInfo', 'resultCode'),
  ];
}

async function paid(value = '10.00'): Promise<{ orderId: string; txnId: string }> {
  const order = paytmOrder(CARDS.visa, value);
  const reply = await paytm(sim, '/v3/order/pay', order);
  assert.deepEqual(resultInfo(reply.body), ['TXN_SUCCESS', '01']);
  return { orderId: String(order.orderId), txnId: text(reply.body, 'body', 'txnId') };
}

function refundBody(
  orderId: string,
  txnId: string,
  refundAmount: string,
  refId = `REF_${Math.random().toString(36).slice(2)}`,
): Record<string, unknown> {
  return { mid: PAYTM_MID, txnType: 'REFUND', orderId, txnId, refId, refundAmount };
}

describe('paytm: signature and mid', () => {
  test('a wrong signature, wrong key, wrong mid or missing head is TXN_FAILURE 330, nothing recorded', async () => {
    const order = paytmOrder(CARDS.visa);
    const badSignature = await paytm(sim, '/v3/order/pay', order, { signature: 'AAAA' });
    assert.equal(badSignature.status, 200);
    assert.deepEqual(at(badSignature.body, 'body', 'resultInfo'), {
      resultStatus: 'TXN_FAILURE',
      resultCode: '330',
      resultMsg: 'Checksum provided is invalid',
    });
    const wrongKey = await paytm(sim, '/v3/order/pay', order, {
      signature: paytmSign(JSON.stringify(order), 'other_key'),
    });
    assert.deepEqual(resultInfo(wrongKey.body), ['TXN_FAILURE', '330']);
    const wrongMid = await paytm(sim, '/v3/order/pay', { ...order, mid: 'OTHERMID' });
    assert.deepEqual(resultInfo(wrongMid.body), ['TXN_FAILURE', '330']);
    const noHead = await paytmRaw(sim, '/v3/order/pay', JSON.stringify({ body: order }));
    assert.deepEqual(resultInfo(noHead.body), ['TXN_FAILURE', '330']);
    assert.deepEqual((await groundTruth(sim, { reference: String(order.orderId) })).operations, []);
  });

  test('the signature covers the exact body text as sent, whitespace included', async () => {
    const order = paytmOrder(CARDS.visa);
    const bodyText = JSON.stringify(order, null, 2);
    const signed = `{ "head": { "signature": "${paytmSign(bodyText)}" },\n "body": ${bodyText} }`;
    const reply = await paytmRaw(sim, '/v3/order/pay', signed);
    assert.deepEqual(resultInfo(reply.body), ['TXN_SUCCESS', '01']);
    const compact = `{"head":{"signature":"${paytmSign(bodyText)}"},"body":${JSON.stringify(order)}}`;
    assert.deepEqual(
      resultInfo((await paytmRaw(sim, '/v3/order/pay', compact)).body),
      ['TXN_FAILURE', '330'],
      'signed text differs from sent text',
    );
  });

  test('a body that is not JSON is TXN_FAILURE 1001', async () => {
    const reply = await paytmRaw(sim, '/v3/order/pay', '{"head":');
    assert.deepEqual(resultInfo(reply.body), ['TXN_FAILURE', '1001']);
  });
});

describe('paytm: payments', () => {
  test('an approved payment: TXN_SUCCESS 01, decimal amounts, recorded as authorize + capture in paise', async () => {
    const order = paytmOrder(CARDS.mastercard, '1234.5');
    const reply = await paytm(sim, '/v3/order/pay', order);
    assert.equal(reply.status, 200);
    assert.equal(typeof at(reply.body, 'head', 'responseTimestamp'), 'string');
    const body = reply.body.body;
    assert.deepEqual(at(body, 'resultInfo'), {
      resultStatus: 'TXN_SUCCESS',
      resultCode: '01',
      resultMsg: 'Txn Success',
    });
    assert.match(text(body, 'txnId'), /^txn_/);
    assert.match(text(body, 'bankTxnId'), /^btx_/);
    assert.deepEqual([at(body, 'orderId'), at(body, 'txnAmount')], [order.orderId, '1234.50']);
    const truth = await groundTruth(sim, { reference: String(order.orderId) });
    assert.deepEqual(
      truth.operations.map((operation) => [
        operation.psp,
        operation.type,
        operation.amount,
        operation.currency,
      ]),
      [
        ['paytm', 'authorize', 123_450, 'inr'],
        ['paytm', 'capture', 123_450, 'inr'],
      ],
    );
  });

  test('a repeat of an orderId returns the stored transaction and does nothing', async () => {
    const order = paytmOrder(CARDS.visa);
    const first = await paytm(sim, '/v3/order/pay', order);
    const second = await paytm(sim, '/v3/order/pay', order);
    assert.equal(at(second.body, 'body', 'txnId'), at(first.body, 'body', 'txnId'));
    assert.deepEqual(second.body.body, first.body.body);
    assert.equal((await groundTruth(sim, { reference: String(order.orderId) })).payments.length, 1);
  });

  test('20 concurrent pays of one orderId: one payment', async () => {
    const order = paytmOrder(CARDS.visa);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => paytm(sim, '/v3/order/pay', order)),
    );
    assert.equal(new Set(replies.map((reply) => at(reply.body, 'body', 'txnId'))).size, 1);
    assert.equal(
      (await groundTruth(sim, { reference: String(order.orderId) })).operations.filter(
        (operation) => operation.type === 'authorize',
      ).length,
      1,
    );
  });

  test('order status: the stored transaction, or 334 for an unknown orderId', async () => {
    const { orderId, txnId } = await paid('10.00');
    const status = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId });
    assert.deepEqual(resultInfo(status.body), ['TXN_SUCCESS', '01']);
    assert.deepEqual(
      [at(status.body, 'body', 'txnId'), at(status.body, 'body', 'txnAmount')],
      [txnId, '10.00'],
    );
    const unknown = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId: 'NEVER_SEEN' });
    assert.deepEqual(at(unknown.body, 'body', 'resultInfo'), {
      resultStatus: 'TXN_FAILURE',
      resultCode: '334',
      resultMsg: 'Invalid Order Id',
    });
  });

  const invalid: [string, Record<string, unknown>][] = [
    ['a non-INR currency', { txnAmount: { value: '10.00', currency: 'USD' } }],
    ['an amount with three decimals', { txnAmount: { value: '10.001', currency: 'INR' } }],
    ['a numeric amount', { txnAmount: { value: 10, currency: 'INR' } }],
    ['a zero amount', { txnAmount: { value: '0.00', currency: 'INR' } }],
    ['an unknown payment mode', { paymentMode: 'UPI' }],
    ['a card failing Luhn', { cardInfo: '|4242424242424241|123|122030' }],
    ['a malformed cardInfo', { cardInfo: '4242424242424242|123|122030' }],
    ['a malformed cvv', { cardInfo: '|4242424242424242|12a|122030' }],
    ['an orderId with spaces', { orderId: 'ORDER 1' }],
  ];
  test('a stored card with no cvv is charged', async () => {
    const order = { ...paytmOrder(CARDS.visa), cardInfo: `|${CARDS.visa}||122030` };
    const reply = await paytm(sim, '/v3/order/pay', order);
    assert.deepEqual(resultInfo(reply.body), ['TXN_SUCCESS', '01']);
  });

  for (const [name, change] of invalid) {
    test(`${name} is TXN_FAILURE 1001 and records nothing`, async () => {
      const order = { ...paytmOrder(CARDS.visa), ...change };
      const reply = await paytm(sim, '/v3/order/pay', order);
      assert.deepEqual(resultInfo(reply.body), ['TXN_FAILURE', '1001']);
      assert.deepEqual(
        (await groundTruth(sim, { psp: 'paytm', reference: String(order.orderId) })).operations,
        [],
      );
    });
  }
});

describe('paytm: test cards', () => {
  const declines = [
    [CARDS.insufficientFunds, '235', 'insufficient_funds'],
    [CARDS.lost, '295', 'lost_card'],
    [CARDS.stolen, '296', 'stolen_card'],
    [CARDS.genericDecline, '401', 'generic_decline'],
    [CARDS.expired, '267', 'expired_card'],
    [CARDS.incorrectCvc, '266', 'incorrect_cvc'],
    [CARDS.processingError, '293', 'processing_error'],
    [CARDS.velocity, '297', 'card_velocity_exceeded'],
    [CARDS.declineAfterAttach, '401', 'generic_decline'],
    [CARDS.radarBlock, '298', 'fraudulent'],
    [CARDS.riskHighest, '298', 'fraudulent'],
    [CARDS.threeDSecureRequired, '299', 'authentication_required'],
    [CARDS.threeDSecureLookupError, '401', 'generic_decline'],
  ] as const;
  for (const [number, code, declineCode] of declines) {
    test(`${number} is TXN_FAILURE ${code}, recorded declined, and visible to order status`, async () => {
      const order = paytmOrder(number);
      const reply = await paytm(sim, '/v3/order/pay', order);
      assert.deepEqual(resultInfo(reply.body), ['TXN_FAILURE', code]);
      assert.match(text(reply.body, 'body', 'txnId'), /^txn_/);
      const status = await paytm(sim, '/v3/order/status', {
        mid: PAYTM_MID,
        orderId: order.orderId,
      });
      assert.deepEqual(resultInfo(status.body), ['TXN_FAILURE', code]);
      const truth = await groundTruth(sim, { reference: String(order.orderId) });
      assert.deepEqual(
        truth.operations.map((operation) => [operation.status, operation.declineCode]),
        [['declined', declineCode]],
      );
    });
  }

  test('4000009990000013 is HTTP 500 with code 810, and nothing is recorded', async () => {
    const order = paytmOrder(CARDS.error);
    const reply = await paytm(sim, '/v3/order/pay', order);
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.body, {
      body: {
        resultInfo: { resultStatus: 'TXN_FAILURE', resultCode: '810', resultMsg: 'System error' },
      },
    });
    const status = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId: order.orderId });
    assert.deepEqual(resultInfo(status.body), ['TXN_FAILURE', '334']);
  });

  test('4000009990000021: recorded at once, answered after the delay; a repeat of the orderId gets it at once', async () => {
    const order = paytmOrder(CARDS.timeout);
    const pending = paytm(sim, '/v3/order/pay', order);
    let firstAnswered = false;
    void pending.then(() => (firstAnswered = true));
    await delay(60);
    const status = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId: order.orderId });
    assert.deepEqual(resultInfo(status.body), ['TXN_SUCCESS', '01']);
    const repeat = await paytm(sim, '/v3/order/pay', order);
    assert.equal(firstAnswered, false, 'the repeat is answered while the first is still held back');
    const first = await pending;
    assert.ok(first.elapsedMs >= 290);
    assert.equal(at(first.body, 'body', 'txnId'), at(repeat.body, 'body', 'txnId'));
  });

  test('4000009990000039: recorded, connection destroyed; order status shows the success', async () => {
    const order = paytmOrder(CARDS.lostResponse);
    await assert.rejects(paytm(sim, '/v3/order/pay', order));
    const status = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId: order.orderId });
    assert.deepEqual(resultInfo(status.body), ['TXN_SUCCESS', '01']);
  });
});

describe('paytm: refunds', () => {
  test('a partial refund is refused with 617; the whole amount succeeds with 10; again is 626', async () => {
    const { orderId, txnId } = await paid('10.00');
    const partial = await paytm(sim, '/refund/apply', refundBody(orderId, txnId, '5.00'));
    assert.deepEqual(at(partial.body, 'body', 'resultInfo'), {
      resultStatus: 'TXN_FAILURE',
      resultCode: '617',
      resultMsg: 'Partial refund is not allowed',
    });
    const refId = 'REF_FULL_1';
    const full = await paytm(sim, '/refund/apply', refundBody(orderId, txnId, '10', refId));
    assert.deepEqual(resultInfo(full.body), ['TXN_SUCCESS', '10']);
    const body = full.body.body;
    assert.match(text(body, 'refundId'), /^rfd_/);
    assert.deepEqual(
      [at(body, 'refId'), at(body, 'txnId'), at(body, 'orderId'), at(body, 'refundAmount')],
      [refId, txnId, orderId, '10.00'],
    );
    const repeat = await paytm(sim, '/refund/apply', refundBody(orderId, txnId, '10.00', refId));
    assert.equal(
      at(repeat.body, 'body', 'refundId'),
      at(body, 'refundId'),
      'a repeat of a refId returns the stored refund',
    );
    const another = await paytm(sim, '/refund/apply', refundBody(orderId, txnId, '10.00'));
    assert.deepEqual(resultInfo(another.body), ['TXN_FAILURE', '626']);
    const status = await paytm(sim, '/v2/refund/status', { mid: PAYTM_MID, orderId, refId });
    assert.deepEqual(
      [...resultInfo(status.body), at(status.body, 'body', 'refundId')],
      ['TXN_SUCCESS', '10', at(body, 'refundId')],
    );
    const unknown = await paytm(sim, '/v2/refund/status', {
      mid: PAYTM_MID,
      orderId,
      refId: 'REF_NONE',
    });
    assert.deepEqual(resultInfo(unknown.body), ['TXN_FAILURE', '631']);
    const order = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId });
    assert.equal(at(order.body, 'body', 'refundAmt'), '10.00');
    const truth = await groundTruth(sim, { reference: orderId });
    assert.deepEqual(
      truth.operations.map((operation) => operation.type),
      ['authorize', 'capture', 'refund'],
    );
    assert.deepEqual(
      truth.payments.map((payment) => [payment.captured, payment.refunded, payment.status]),
      [[1000, 1000, 'refunded']],
    );
  });

  test('refunds of unknown, mismatched or failed transactions are refused', async () => {
    const { orderId, txnId } = await paid();
    assert.deepEqual(
      resultInfo(
        (await paytm(sim, '/refund/apply', refundBody('NO_SUCH_ORDER', txnId, '10.00'))).body,
      ),
      ['TXN_FAILURE', '334'],
    );
    assert.deepEqual(
      resultInfo(
        (await paytm(sim, '/refund/apply', refundBody(orderId, 'txn_other', '10.00'))).body,
      ),
      ['TXN_FAILURE', '627'],
    );
    const declined = paytmOrder(CARDS.genericDecline);
    const failed = await paytm(sim, '/v3/order/pay', declined);
    const failedTxn = text(failed.body, 'body', 'txnId');
    assert.deepEqual(
      resultInfo(
        (
          await paytm(
            sim,
            '/refund/apply',
            refundBody(String(declined.orderId), failedTxn, '10.00'),
          )
        ).body,
      ),
      ['TXN_FAILURE', '607'],
    );
    const wrongType = { ...refundBody(orderId, txnId, '10.00'), txnType: 'PAYMENT' };
    assert.deepEqual(resultInfo((await paytm(sim, '/refund/apply', wrongType)).body), [
      'TXN_FAILURE',
      '1001',
    ]);
    const truth = await groundTruth(sim, { psp: 'paytm' });
    assert.equal(
      truth.operations.filter(
        (operation) => operation.reference === orderId && operation.type === 'refund',
      ).length,
      0,
    );
  });
});
