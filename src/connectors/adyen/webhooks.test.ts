import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { fixture, setPath } from '../testing.ts';
import type { CallContext, RawWebhook } from '../types.ts';
import { createAdyenConnector, NO_STATUS_API } from './connector.ts';
import { AdyenNotifications } from './notifications.ts';
import { createAdyenWebhookParser } from './webhooks.ts';

const here = import.meta.dirname;
const HMAC_KEY = Buffer.from('a test key of thirty-two bytes!!').toString('hex');

type Item = Record<string, unknown> & { amount: { value: number; currency: string } };

/** Signs the fixture's item as Adyen documents it, computed here independently of webhooks.ts. */
function signed(name: string, change: (item: Item) => void = () => undefined): RawWebhook {
  const body = fixture(here, name) as { notificationItems: { NotificationRequestItem: Item }[] };
  const item = body.notificationItems[0]?.NotificationRequestItem as Item;
  change(item);
  const text = [
    item.pspReference,
    item.originalReference ?? '',
    item.merchantAccountCode,
    item.merchantReference,
    item.amount.value,
    item.amount.currency,
    item.eventCode,
    item.success,
  ].join(':');
  const signature = createHmac('sha256', Buffer.from(HMAC_KEY, 'hex'))
    .update(text)
    .digest('base64');
  (item.additionalData as Record<string, string>).hmacSignature = signature;
  return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

function tampered(webhook: RawWebhook, path: string, value: unknown): RawWebhook {
  const body = JSON.parse(webhook.body) as Record<string, unknown>;
  setPath(body, `notificationItems.0.NotificationRequestItem.${path}`, value);
  return { ...webhook, body: JSON.stringify(body) };
}

function fresh() {
  const notifications = new AdyenNotifications();
  return {
    notifications,
    parser: createAdyenWebhookParser(notifications),
    connector: createAdyenConnector(notifications),
  };
}

/** No PSP is reachable here: every answer below must come from the notifications. */
const offline: CallContext = {
  credentials: { baseUrl: 'http://127.0.0.1:9', apiKey: 'k', merchantAccount: 'PayrailSimECOM' },
  idempotencyKey: 'idem_1',
  timeoutMs: 200,
};

describe('adyen webhook parsing', () => {
  it('names the event, our attempt and the payment of an AUTHORISATION', () => {
    const parsed = fresh().parser.parse(signed('notification_authorisation'));
    assert.deepEqual(parsed, {
      ok: true,
      event: {
        eventId: 'AUTHORISATION:V4HZ4RBFJGXXGN82:true',
        type: 'AUTHORISATION',
        reference: 'att_0001',
        refundReference: undefined,
        pspPaymentId: 'V4HZ4RBFJGXXGN82',
      },
    });
  });

  it('a CAPTURE names the payment by originalReference; a REFUND names our refund id', () => {
    const { parser } = fresh();
    const capture = parser.parse(signed('notification_capture'));
    assert.ok(capture.ok);
    assert.equal(capture.event.reference, 'att_0001');
    assert.equal(capture.event.pspPaymentId, 'V4HZ4RBFJGXXGN82');
    const refund = parser.parse(signed('notification_refund'));
    assert.ok(refund.ok);
    assert.equal(refund.event.reference, undefined);
    assert.equal(refund.event.refundReference, 're_0001');
    assert.equal(refund.event.eventId, 'REFUND:QFQTPCQ8HXSKGK82:true');
  });

  it('refuses what is not one notification item', () => {
    const { parser } = fresh();
    for (const body of ['', 'null', '{}', '{"notificationItems":[]}', '{"notificationItems":[1]}'])
      assert.equal(parser.parse({ body, headers: {} }).ok, false, body);
    const two = JSON.parse(signed('notification_capture').body) as { notificationItems: unknown[] };
    two.notificationItems.push(two.notificationItems[0]);
    assert.equal(parser.parse({ body: JSON.stringify(two), headers: {} }).ok, false);
    const noSuccess = tampered(signed('notification_capture'), 'success', true);
    assert.equal(parser.parse(noSuccess).ok, false, 'success is the string "true"');
  });
});

describe('adyen webhook signatures', () => {
  it('accepts the documented HMAC over the eight fields', () => {
    assert.deepEqual(fresh().parser.verify(signed('notification_authorisation'), HMAC_KEY), {
      ok: true,
    });
  });

  it('refuses a changed signed field, a wrong key, a missing or malformed signature', () => {
    const { parser } = fresh();
    const webhook = signed('notification_capture');
    for (const [path, value] of [
      ['amount.value', 1],
      ['success', 'false'],
      ['merchantReference', 'att_other'],
      ['originalReference', 'OTHER'],
      ['eventCode', 'REFUND'],
    ] as const)
      assert.deepEqual(parser.verify(tampered(webhook, path, value), HMAC_KEY), {
        ok: false,
        reason: 'signature_mismatch',
      });
    const otherKey = Buffer.from('another key, thirty-two bytes...').toString('hex');
    assert.equal(parser.verify(webhook, otherKey).ok, false);
    assert.equal(parser.verify(webhook, 'not hex').ok, false);
    assert.deepEqual(
      parser.verify(tampered(webhook, 'additionalData.hmacSignature', undefined), HMAC_KEY),
      { ok: false, reason: 'signature_missing' },
    );
    assert.deepEqual(
      parser.verify(tampered(webhook, 'additionalData.hmacSignature', 'abc'), HMAC_KEY),
      { ok: false, reason: 'signature_missing' },
    );
  });

  it('a replay verifies and carries the same event id: the receiver deduplicates it', () => {
    const { parser } = fresh();
    const webhook = signed('notification_capture');
    const first = parser.parse(webhook);
    const replay = parser.parse({ ...webhook });
    assert.ok(first.ok && replay.ok);
    assert.equal(replay.event.eventId, first.event.eventId);
    assert.equal(parser.verify(webhook, HMAC_KEY).ok, true);
    assert.equal(parser.verify(webhook, HMAC_KEY).ok, true);
  });

  it('an unverified notification teaches the connector nothing', async () => {
    const { parser, connector } = fresh();
    const forged = tampered(signed('notification_authorisation'), 'amount.value', 2000);
    parser.verify(tampered(forged, 'success', 'true'), 'ff'.repeat(32));
    const outcome = await connector.sync(
      { pspReference: 'V4HZ4RBFJGXXGN82', reference: 'att_0001', amount: 2000n, currency: 'usd' },
      offline,
    );
    assert.equal(outcome.status, 'unknown');
    assert.equal(outcome.pspCode, NO_STATUS_API);
  });
});

describe('adyen outcomes from verified notifications', () => {
  const payment = { reference: 'att_0001', amount: 2000n, currency: 'usd' };

  it('sync: unknown before any notification, then what AUTHORISATION and CAPTURE say', async () => {
    const { parser, connector, notifications } = fresh();
    assert.equal((await connector.sync(payment, offline)).pspCode, NO_STATUS_API);
    parser.verify(signed('notification_authorisation'), HMAC_KEY);
    assert.equal(
      (await connector.sync(payment, offline)).pspCode,
      'capture_mode_unknown',
      'authorised, but captured or not is not known in this process',
    );
    notifications.rememberCaptureMode('att_0001', 'manual');
    assert.deepEqual(await connector.sync(payment, offline), {
      status: 'authorized',
      pspReference: 'V4HZ4RBFJGXXGN82',
      amountAuthorized: 2000n,
    });
    parser.verify(signed('notification_capture'), HMAC_KEY);
    // A resent CAPTURE (Adyen retries until answered) counts once.
    parser.verify(signed('notification_capture'), HMAC_KEY);
    const synced = await connector.sync(payment, offline);
    assert.equal(synced.status, 'captured');
    assert.equal(synced.amountCaptured, 2000n);
  });

  it('sync: a refused AUTHORISATION is failed with a decline code from its reason', async () => {
    const { parser, connector } = fresh();
    parser.verify(
      signed('notification_authorisation', (item) => {
        item.success = 'false';
        item.reason = 'Not enough balance';
      }),
      HMAC_KEY,
    );
    const outcome = await connector.sync(payment, offline);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.declineCode, 'insufficient_funds');
  });

  it('sync: a notification for another amount or reference is a mismatch', async () => {
    const { parser, connector } = fresh();
    parser.verify(signed('notification_authorisation'), HMAC_KEY);
    const outcome = await connector.sync({ ...payment, amount: 1999n }, offline);
    assert.equal(outcome.pspCode, 'response_mismatch');
  });

  it('capture, cancel and refund answer from their notification without calling Adyen', async () => {
    const { parser, connector } = fresh();
    const request = { pspReference: 'V4HZ4RBFJGXXGN82', ...payment };
    parser.verify(signed('notification_capture'), HMAC_KEY);
    assert.equal((await connector.capture(request, offline)).status, 'captured');
    parser.verify(
      signed('notification_capture', (item) => {
        item.eventCode = 'CANCELLATION';
        item.pspReference = 'ZX5ZQ7GH3JBLNN84';
      }),
      HMAC_KEY,
    );
    assert.equal((await connector.void(request, offline)).status, 'voided');
    parser.verify(signed('notification_refund'), HMAC_KEY);
    const refund = await connector.refund(
      { ...request, refundReference: 're_0001', amount: 500n },
      offline,
    );
    assert.deepEqual(refund, {
      status: 'succeeded',
      pspRefundReference: 'QFQTPCQ8HXSKGK82',
      amount: 500n,
    });
  });

  it('CAPTURE_FAILED, a CAPTURE with success "false" and REFUND_FAILED are failed', async () => {
    const { parser, connector } = fresh();
    const request = { pspReference: 'V4HZ4RBFJGXXGN82', ...payment };
    parser.verify(
      signed('notification_capture', (item) => {
        item.eventCode = 'CAPTURE_FAILED';
      }),
      HMAC_KEY,
    );
    assert.equal((await connector.capture(request, offline)).status, 'failed');
    parser.verify(
      signed('notification_refund', (item) => {
        item.eventCode = 'REFUND_FAILED';
      }),
      HMAC_KEY,
    );
    const refund = await connector.refund(
      { ...request, refundReference: 're_0001', amount: 500n },
      offline,
    );
    assert.equal(refund.status, 'failed');
  });
});
