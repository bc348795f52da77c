import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RawWebhook } from '../types.ts';
import { paytmChecksum, paytmWebhookParser as parser } from './webhooks.ts';

const SECRET = 'sim_merchant_key';

// Field for field as sim/CONTRACT.md "Paytm-like events" lists them (Paytm's status-notification names).
const paymentFields: Record<string, string> = {
  MID: 'SIMMID00000000000001',
  ORDERID: 'pa_01J0ATTEMPT',
  TXNID: 'txn_abc123',
  TXNAMOUNT: '10.00',
  CURRENCY: 'INR',
  STATUS: 'TXN_SUCCESS',
  RESPCODE: '01',
  RESPMSG: 'Txn Success',
  BANKTXNID: 'btx_777',
  PAYMENTMODE: 'CREDIT_CARD',
  GATEWAYNAME: 'SIMBANK',
  TXNDATE: '2026-01-02T03:04:05.000Z',
  EVENTTYPE: 'PAYMENT_STATUS',
  EVENTID: 'WHa1b2c3d4e5f6g7h8i9j0k1l2',
};

/** The checksum computed straight from the contract's words, independently of the parser. */
function contractChecksum(fields: Record<string, string>, secret = SECRET): string {
  const names = Object.keys(fields).sort((left, right) =>
    left < right ? -1 : left > right ? 1 : 0,
  );
  return createHmac('sha256', secret)
    .update(names.map((name) => fields[name]).join('|'))
    .digest('base64');
}

function signedBody(fields: Record<string, string>, secret = SECRET): string {
  return `${new URLSearchParams(fields).toString()}&${new URLSearchParams({ CHECKSUMHASH: contractChecksum(fields, secret) }).toString()}`;
}

function webhook(body: string): RawWebhook {
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Paytm-Webhook/1.0',
    },
  };
}

describe('paytm webhook parsing', () => {
  it('reads EVENTID, EVENTTYPE, ORDERID (our attempt id) and TXNID', () => {
    assert.deepEqual(parser.parse(webhook(signedBody(paymentFields))), {
      ok: true,
      event: {
        eventId: 'WHa1b2c3d4e5f6g7h8i9j0k1l2',
        type: 'PAYMENT_STATUS',
        reference: 'pa_01J0ATTEMPT',
        refundReference: undefined,
        pspPaymentId: 'txn_abc123',
      },
    });
  });

  it('reads REFID (our refund id) of a REFUND_STATUS event', () => {
    const refund = {
      MID: 'SIMMID00000000000001',
      ORDERID: 'pa_01J0ATTEMPT',
      TXNID: 'txn_abc123',
      TXNAMOUNT: '10.00',
      CURRENCY: 'INR',
      REFID: 're_01J0REFUND',
      REFUNDID: 'rfd_1',
      REFUNDAMOUNT: '10.00',
      TOTALREFUNDAMT: '10.00',
      STATUS: 'TXN_SUCCESS',
      RESPCODE: '10',
      RESPMSG: 'Refund Successful',
      REFUNDDATE: '2026-01-02T03:04:05.000Z',
      EVENTTYPE: 'REFUND_STATUS',
      EVENTID: 'WHzzzzzzzzzzzzzzzzzzzzzzzz',
    };
    const parsed = parser.parse(webhook(signedBody(refund)));
    assert.ok(parsed.ok);
    assert.equal(parsed.event.refundReference, 're_01J0REFUND');
    assert.equal(parsed.event.reference, 'pa_01J0ATTEMPT');
  });

  it('refuses JSON bodies, repeated fields and missing event fields', () => {
    const without = (name: string) =>
      signedBody(Object.fromEntries(Object.entries(paymentFields).filter(([key]) => key !== name)));
    const bodies = [
      '',
      JSON.stringify({ id: 'evt_1', object: 'event' }),
      JSON.stringify({ entity: 'event', event: 'payment.captured' }),
      `${signedBody(paymentFields)}&ORDERID=pa_other`,
      without('EVENTID'),
      without('EVENTTYPE'),
      without('ORDERID'),
      new URLSearchParams(paymentFields).toString(),
      signedBody({ ...paymentFields, EVENTID: 'WH with space' }),
      Array.from({ length: 101 }, (_, index) => `F${index}=1`).join('&'),
    ];
    for (const body of bodies)
      assert.equal(parser.parse(webhook(body)).ok, false, body.slice(0, 80));
  });
});

describe('paytm webhook checksums', () => {
  it('accepts the contract checksum; the parser computes the same one', () => {
    const body = signedBody(paymentFields);
    assert.deepEqual(parser.verify(webhook(body), SECRET), { ok: true });
    assert.equal(
      paytmChecksum(new Map(Object.entries(paymentFields)), SECRET),
      contractChecksum(paymentFields),
    );
  });

  it('orders by field name and signs the decoded values, whatever the order and encoding on the wire', () => {
    const fields = { ...paymentFields, RESPMSG: 'Txn Success & more/+=' };
    const checksum = contractChecksum(fields);
    const reversed = Object.entries({ ...fields, CHECKSUMHASH: checksum }).reverse();
    const body = reversed.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
    assert.deepEqual(parser.verify(webhook(body), SECRET), { ok: true });
  });

  it('refuses a wrong secret, a changed field, an added field and a tampered checksum', () => {
    assert.deepEqual(parser.verify(webhook(signedBody(paymentFields, 'other_key')), SECRET), {
      ok: false,
      reason: 'signature_mismatch',
    });
    const body = signedBody(paymentFields);
    assert.deepEqual(
      parser.verify(webhook(body.replace('TXNAMOUNT=10.00', 'TXNAMOUNT=10000.00')), SECRET),
      { ok: false, reason: 'signature_mismatch' },
    );
    assert.deepEqual(
      parser.verify(webhook(body.replace('STATUS=TXN_SUCCESS', 'STATUS=TXN_FAILURE')), SECRET),
      { ok: false, reason: 'signature_mismatch' },
    );
    assert.deepEqual(parser.verify(webhook(`${body}&EXTRA=1`), SECRET), {
      ok: false,
      reason: 'signature_mismatch',
    });
    const checksum = contractChecksum(paymentFields);
    const tampered = checksum.startsWith('A') ? `B${checksum.slice(1)}` : `A${checksum.slice(1)}`;
    assert.deepEqual(
      parser.verify(
        webhook(body.replace(encodeURIComponent(checksum), encodeURIComponent(tampered))),
        SECRET,
      ),
      { ok: false, reason: 'signature_mismatch' },
    );
  });

  it('refuses a missing or malformed checksum', () => {
    const plain = new URLSearchParams(paymentFields).toString();
    for (const body of [
      plain,
      `${plain}&CHECKSUMHASH=`,
      `${plain}&CHECKSUMHASH=abc`,
      `${plain}&CHECKSUMHASH=x&CHECKSUMHASH=y`,
    ]) {
      assert.deepEqual(
        parser.verify(webhook(body), SECRET),
        { ok: false, reason: 'signature_missing' },
        body.slice(-40),
      );
    }
  });
});
