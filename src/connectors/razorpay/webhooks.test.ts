import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RawWebhook } from '../types.ts';
import { razorpayWebhookParser as parser } from './webhooks.ts';

const SECRET = 'whsec_payrail_test_razorpay';

const payment = {
  id: 'pay_29QQoUBi66xm2f',
  entity: 'payment',
  amount: 50000,
  currency: 'INR',
  status: 'captured',
  method: 'card',
  order_id: null,
  captured: true,
  amount_refunded: 0,
  refund_status: null,
  receipt: 'pa_01J0ATTEMPT',
  notes: { reference: 'pa_01J0ATTEMPT' },
  error_code: null,
  error_description: null,
  error_reason: null,
  created_at: 1_750_000_000,
};

// Shaped like Razorpay's documented payment.captured and refund.processed payloads and sim/CONTRACT.md.
function paymentEvent(
  type = 'payment.captured',
  entity: Record<string, unknown> = payment,
): string {
  return JSON.stringify({
    entity: 'event',
    account_id: 'acc_SimMerchant0001',
    event: type,
    contains: ['payment'],
    payload: { payment: { entity } },
    created_at: 1_750_000_001,
  });
}

function refundEvent(): string {
  const refund = {
    id: 'rfnd_FP8QHiV938haTz',
    entity: 'refund',
    amount: 500,
    currency: 'INR',
    payment_id: payment.id,
    receipt: 're_01J0REFUND',
    notes: { reference: 're_01J0REFUND' },
    status: 'processed',
  };
  return JSON.stringify({
    entity: 'event',
    account_id: 'acc_SimMerchant0001',
    event: 'refund.processed',
    contains: ['refund', 'payment'],
    payload: {
      refund: { entity: refund },
      payment: { entity: { ...payment, amount_refunded: 500, refund_status: 'partial' } },
    },
    created_at: 1_750_000_002,
  });
}

function signature(body: string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function webhook(body: string, headers: Record<string, string | undefined> = {}): RawWebhook {
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-razorpay-event-id': 'evt_JUrEe6qPELkCvT',
      'x-razorpay-signature': signature(body),
      ...headers,
    },
  };
}

describe('razorpay webhook parsing', () => {
  it('reads the event id from its header, the type, the receipt (our attempt id) and the payment id', () => {
    assert.deepEqual(parser.parse(webhook(paymentEvent())), {
      ok: true,
      event: {
        eventId: 'evt_JUrEe6qPELkCvT',
        type: 'payment.captured',
        reference: 'pa_01J0ATTEMPT',
        refundReference: undefined,
        pspPaymentId: 'pay_29QQoUBi66xm2f',
      },
    });
  });

  it('falls back to notes.reference; empty notes come as [] and name nothing', () => {
    const fromNotes = parser.parse(
      webhook(paymentEvent('payment.authorized', { ...payment, receipt: null })),
    );
    assert.ok(fromNotes.ok);
    assert.equal(fromNotes.event.reference, 'pa_01J0ATTEMPT');
    const none = parser.parse(
      webhook(paymentEvent('payment.failed', { ...payment, receipt: null, notes: [] })),
    );
    assert.ok(none.ok);
    assert.equal(none.event.reference, undefined);
  });

  it('reads both references of a refund.processed event', () => {
    const parsed = parser.parse(webhook(refundEvent()));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.event, {
      eventId: 'evt_JUrEe6qPELkCvT',
      type: 'refund.processed',
      reference: 'pa_01J0ATTEMPT',
      refundReference: 're_01J0REFUND',
      pspPaymentId: 'pay_29QQoUBi66xm2f',
    });
  });

  it('refuses a body that is not a Razorpay event, or no event id header', () => {
    const stripe = JSON.stringify({
      id: 'evt_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { object: 'payment_intent', metadata: { reference: 'pa_1' } } },
    });
    for (const body of [
      '',
      'x',
      '[]',
      stripe,
      JSON.stringify({ entity: 'event', event: 'payment.captured', payload: {} }),
      JSON.stringify({ entity: 'event', payload: { payment: { entity: payment } } }),
    ]) {
      assert.equal(parser.parse(webhook(body)).ok, false, body.slice(0, 60));
    }
    for (const eventId of [undefined, '', 'evt with spaces', 'e'.repeat(256)]) {
      assert.equal(
        parser.parse(webhook(paymentEvent(), { 'x-razorpay-event-id': eventId })).ok,
        false,
        String(eventId),
      );
    }
  });
});

describe('razorpay webhook signatures', () => {
  const body = paymentEvent();

  it('accepts the hex HMAC-SHA256 of the exact body', () => {
    assert.deepEqual(parser.verify(webhook(body), SECRET), { ok: true });
  });

  it('refuses a wrong secret, a tampered body, a tampered or uppercase signature', () => {
    assert.deepEqual(
      parser.verify(webhook(body, { 'x-razorpay-signature': signature(body, 'other') }), SECRET),
      { ok: false, reason: 'signature_mismatch' },
    );
    assert.deepEqual(
      parser.verify({ ...webhook(body), body: body.replace('50000', '50001') }, SECRET),
      { ok: false, reason: 'signature_mismatch' },
    );
    // Re-serialized JSON is not the signed text.
    assert.deepEqual(
      parser.verify({ ...webhook(body), body: JSON.stringify(JSON.parse(body), null, 1) }, SECRET),
      { ok: false, reason: 'signature_mismatch' },
    );
    const good = signature(body);
    assert.deepEqual(
      parser.verify(
        webhook(body, {
          'x-razorpay-signature': good.slice(0, -1) + (good.endsWith('a') ? 'b' : 'a'),
        }),
        SECRET,
      ),
      { ok: false, reason: 'signature_mismatch' },
    );
    assert.equal(
      parser.verify(webhook(body, { 'x-razorpay-signature': good.toUpperCase() }), SECRET).ok,
      /[a-f]/.test(good) ? false : true,
    );
  });

  it('refuses a missing or malformed signature header', () => {
    for (const value of [
      undefined,
      '',
      'abc',
      `${signature(body)}00`,
      `sha256=${signature(body)}`,
    ]) {
      assert.deepEqual(
        parser.verify(webhook(body, { 'x-razorpay-signature': value }), SECRET),
        { ok: false, reason: 'signature_missing' },
        String(value),
      );
    }
  });
});
