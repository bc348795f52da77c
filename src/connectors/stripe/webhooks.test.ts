import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import Stripe from 'stripe';
import type { RawWebhook } from '../types.ts';
import { STRIPE_TOLERANCE_SECONDS, stripeWebhookParser as parser } from './webhooks.ts';

const SECRET = 'whsec_test_0123456789abcdef';
const NOW_MS = 1_750_000_000_000;
const NOW_SECONDS = NOW_MS / 1000;
const clock = () => NOW_MS;

// Shaped like the events in Stripe's docs and sim/CONTRACT.md "Stripe-like events".
function intentEvent(
  type = 'payment_intent.succeeded',
  overrides: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    id: 'evt_3PfXk2Lz0xYqR7nB1cD4eF5g',
    object: 'event',
    api_version: '2024-06-20',
    created: NOW_SECONDS - 2,
    data: {
      object: {
        id: 'pi_3PfXk2Lz0xYqR7nB1aB2cD3e',
        object: 'payment_intent',
        amount: 2000,
        amount_capturable: 0,
        amount_received: 2000,
        currency: 'usd',
        capture_method: 'automatic',
        status: 'succeeded',
        metadata: { reference: 'pa_01J0ATTEMPT' },
        latest_charge: 'ch_1',
        created: NOW_SECONDS - 3,
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: 'payrail_pa_01J0ATTEMPT' },
    type,
    ...overrides,
  });
}

function sign(body: string, options: { secret?: string; timestamp?: number } = {}): string {
  const timestamp = options.timestamp ?? NOW_SECONDS;
  return `t=${timestamp},v1=${createHmac('sha256', options.secret ?? SECRET)
    .update(`${timestamp}.${body}`)
    .digest('hex')}`;
}

/** `null`: no Stripe-Signature header at all. */
function webhook(body: string, signature: string | null = sign(body)): RawWebhook {
  return {
    body,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(signature === null ? {} : { 'stripe-signature': signature }),
    },
  };
}

describe('stripe webhook parsing', () => {
  it('reads the event id, type, our attempt id and the PaymentIntent id of a payment_intent event', () => {
    assert.deepEqual(parser.parse(webhook(intentEvent())), {
      ok: true,
      event: {
        eventId: 'evt_3PfXk2Lz0xYqR7nB1cD4eF5g',
        type: 'payment_intent.succeeded',
        reference: 'pa_01J0ATTEMPT',
        refundReference: undefined,
        pspPaymentId: 'pi_3PfXk2Lz0xYqR7nB1aB2cD3e',
      },
    });
  });

  it('reads our refund id and the PaymentIntent of a refund.created event', () => {
    const body = JSON.stringify({
      id: 'evt_1',
      object: 'event',
      type: 'refund.created',
      data: {
        object: {
          id: 're_1',
          object: 'refund',
          amount: 500,
          currency: 'usd',
          payment_intent: 'pi_9',
          status: 'succeeded',
          metadata: { reference: 're_01J0REFUND' },
        },
      },
    });
    const parsed = parser.parse(webhook(body));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.event, {
      eventId: 'evt_1',
      type: 'refund.created',
      reference: undefined,
      refundReference: 're_01J0REFUND',
      pspPaymentId: 'pi_9',
    });
  });

  it('names no payment for objects Payrail never creates', () => {
    const parsed = parser.parse(
      webhook(
        JSON.stringify({
          id: 'evt_2',
          object: 'event',
          type: 'charge.dispute.created',
          data: { object: { id: 'dp_1', object: 'dispute' } },
        }),
      ),
    );
    assert.ok(parsed.ok);
    assert.equal(
      parsed.event.reference ?? parsed.event.refundReference ?? parsed.event.pspPaymentId,
      undefined,
    );
  });

  it('refuses what is not a Stripe Event', () => {
    const bodies = [
      '',
      'not json',
      '[]',
      'null',
      '{"id":"evt_1"',
      intentEvent('payment_intent.succeeded', { object: 'payment_intent' }),
      intentEvent('payment_intent.succeeded', { id: 'pay_123' }),
      intentEvent('payment_intent.succeeded', { id: `evt_${'a'.repeat(300)}` }),
      intentEvent('Payment Intent Succeeded'),
      intentEvent('payment_intent.succeeded', { data: { object: 'pi_1' } }),
      JSON.stringify({
        entity: 'event',
        event: 'payment.captured',
        payload: { payment: { entity: { id: 'pay_1', receipt: 'pa_1' } } },
      }),
      'MID=SIMMID&ORDERID=pa_1&EVENTID=WH1&EVENTTYPE=PAYMENT_STATUS&CHECKSUMHASH=x',
    ];
    for (const body of bodies)
      assert.equal(parser.parse(webhook(body)).ok, false, body.slice(0, 60));
  });

  it('drops an absurd reference instead of looking it up', () => {
    const parsed = parser.parse(
      webhook(
        intentEvent('payment_intent.succeeded', {
          data: {
            object: {
              id: 'pi_1',
              object: 'payment_intent',
              metadata: { reference: 'x'.repeat(300) },
            },
          },
        }),
      ),
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.event.reference, undefined);
  });
});

describe('stripe webhook signatures', () => {
  const body = intentEvent();

  it('accepts the signature of the exact body within the tolerance, either side of now', () => {
    assert.deepEqual(parser.verify(webhook(body), SECRET, clock), { ok: true });
    assert.deepEqual(
      parser.verify(
        webhook(body, sign(body, { timestamp: NOW_SECONDS - STRIPE_TOLERANCE_SECONDS })),
        SECRET,
        clock,
      ),
      { ok: true },
    );
    assert.deepEqual(
      parser.verify(webhook(body, sign(body, { timestamp: NOW_SECONDS + 60 })), SECRET, clock),
      { ok: true },
    );
  });

  it('agrees with the official Stripe library both ways', () => {
    const stripe = new Stripe('sk_test_unused');
    const now = Date.now();
    const header = stripe.webhooks.generateTestHeaderString({
      payload: body,
      secret: SECRET,
      timestamp: Math.floor(now / 1000),
    });
    assert.deepEqual(
      parser.verify(webhook(body, header), SECRET, () => now),
      { ok: true },
    );
    const event = stripe.webhooks.constructEvent(
      body,
      sign(body, { timestamp: Math.floor(now / 1000) }),
      SECRET,
    );
    assert.equal(event.id, 'evt_3PfXk2Lz0xYqR7nB1cD4eF5g');
  });

  it('accepts when any of several v1 signatures matches (a secret being rolled) and ignores other schemes', () => {
    const good = sign(body);
    const other = sign(body, { secret: 'whsec_old' }).split(',')[1];
    assert.deepEqual(
      parser.verify(
        webhook(body, `${good.split(',')[0]},${other},v0=abc,${good.split(',')[1]}`),
        SECRET,
        clock,
      ),
      { ok: true },
    );
    assert.deepEqual(
      parser.verify(webhook(body, ` t=${NOW_SECONDS} , ${good.split(',')[1]} `), SECRET, clock),
      { ok: true },
    );
  });

  it('refuses a wrong secret, a tampered body and a tampered signature', () => {
    assert.deepEqual(
      parser.verify(webhook(body, sign(body, { secret: 'whsec_other' })), SECRET, clock),
      { ok: false, reason: 'signature_mismatch' },
    );
    assert.deepEqual(
      parser.verify({ ...webhook(body), body: body.replace('2000', '2001') }, SECRET, clock),
      { ok: false, reason: 'signature_mismatch' },
    );
    const header = sign(body);
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    assert.deepEqual(parser.verify(webhook(body, flipped), SECRET, clock), {
      ok: false,
      reason: 'signature_mismatch',
    });
    assert.deepEqual(parser.verify(webhook(body, `${header}0`), SECRET, clock), {
      ok: false,
      reason: 'signature_mismatch',
    });
    // The timestamp is signed too.
    assert.deepEqual(
      parser.verify(
        webhook(body, header.replace(`t=${NOW_SECONDS}`, `t=${NOW_SECONDS + 1}`)),
        SECRET,
        clock,
      ),
      { ok: false, reason: 'signature_mismatch' },
    );
  });

  it('refuses a stale or far-future timestamp even with a valid signature (replays)', () => {
    const stale = sign(body, { timestamp: NOW_SECONDS - STRIPE_TOLERANCE_SECONDS - 1 });
    assert.deepEqual(parser.verify(webhook(body, stale), SECRET, clock), {
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    const future = sign(body, { timestamp: NOW_SECONDS + STRIPE_TOLERANCE_SECONDS + 1 });
    assert.deepEqual(parser.verify(webhook(body, future), SECRET, clock), {
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    // The same header is fine when the clock says it is fresh: the clock is what decides.
    assert.deepEqual(
      parser.verify(webhook(body, stale), SECRET, () => NOW_MS - 2_000),
      { ok: true },
    );
  });

  it('refuses a missing or malformed header', () => {
    const v1 = sign(body).split(',')[1] ?? '';
    for (const header of [
      null,
      '',
      'garbage',
      v1,
      `t=${NOW_SECONDS}`,
      `t=abc,${v1}`,
      `t=${NOW_SECONDS},v0=${v1.slice(3)}`,
    ]) {
      assert.deepEqual(
        parser.verify(webhook(body, header), SECRET, clock),
        { ok: false, reason: 'signature_missing' },
        String(header),
      );
    }
  });
});
