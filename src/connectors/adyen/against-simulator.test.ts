// The Adyen connector against the simulator's Adyen-like PSP over HTTP (as
// test/connectors/against-simulator.test.ts does for the others), with the simulator's webhooks
// delivered to the connector's own parser: Adyen has no status API, so what sync, capture, void
// and refund learn after the first answer comes from verified notifications. The simulator's
// ground truth is the referee.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../../sim/server.ts';
import type {
  CallContext,
  CaptureMode,
  DeclineCode,
  PaymentOutcome,
  RefundOutcome,
} from '../types.ts';
import { createAdyenConnector, NO_STATUS_API } from './connector.ts';
import { adyenModule } from './index.ts';
import { AdyenNotifications } from './notifications.ts';
import { createAdyenWebhookParser } from './webhooks.ts';

const SHORT_TIMEOUT_MS = 100;
const CARDS = {
  approved: '4242424242424242',
  serverError: '4000009990000013',
  timeout: '4000009990000021',
  lostResponse: '4000009990000039',
} as const;
const DECLINES: readonly (readonly [string, DeclineCode])[] = [
  ['4000000000009995', 'insufficient_funds'],
  ['4000000000009987', 'lost_card'],
  ['4000000000009979', 'stolen_card'],
  ['4000000000000002', 'generic_decline'],
  ['4000000000000069', 'expired_card'],
  ['4000000000000127', 'incorrect_cvc'],
  ['4000000000000119', 'processing_error'],
  ['4000000000006975', 'card_velocity_exceeded'],
  ['4000000000000341', 'generic_decline'],
  ['4100000000000019', 'fraudulent'],
  ['4000000000004954', 'fraudulent'],
  ['4000002760003184', 'authentication_required'],
  ['4000008400001280', 'generic_decline'],
];

let sim: RunningSimulator;
let receiver: Server;
const notifications = new AdyenNotifications();
const parser = createAdyenWebhookParser(notifications);
const connector = createAdyenConnector(notifications);
/** Every notification the receiver verified: its event id, and its type with the payment's id. */
const verified = new Set<string>();

function context(options: { idempotencyKey?: string; timeoutMs?: number } = {}): CallContext {
  return {
    credentials: adyenModule.testCredentials(`${sim.url}`),
    idempotencyKey: options.idempotencyKey ?? `idem_${randomUUID()}`,
    timeoutMs: options.timeoutMs ?? 5000,
  };
}

const secret = (): string => adyenModule.testCredentials('').webhookSecret ?? '';

async function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const webhook = { body: Buffer.concat(chunks).toString('utf8'), headers: request.headers };
      const parsed = parser.parse(webhook);
      if (parsed.ok && parser.verify(webhook, secret()).ok) {
        verified.add(parsed.event.eventId);
        verified.add(`${parsed.event.type}:${parsed.event.pspPaymentId ?? ''}:`);
      }
      response.writeHead(parsed.ok ? 202 : 400).end('[accepted]');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
}

/**
 * Until a notification of this type arrived for this pspReference (the payment's, or a refund's
 * own); a signal, not a sleep: fails after five seconds.
 */
async function notified(eventCode: string, pspReference: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (![...verified].some((id) => id.startsWith(`${eventCode}:${pspReference}:`))) {
    assert.ok(Date.now() < deadline, `no ${eventCode} notification for ${pspReference}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function truth(reference: string) {
  const response = await fetch(
    `${sim.url}/_sim/ground-truth?${new URLSearchParams({ psp: 'adyen', reference }).toString()}`,
  );
  return (await response.json()) as {
    operations: { type: string; status: string; idempotencyKey?: string }[];
    payments: { paymentId: string; authorized: number; captured: number; refunded: number }[];
  };
}

const amount = 9900n;
const currency = 'eur';

function authorize(
  reference: string,
  number: string,
  options: { captureMode?: CaptureMode; idempotencyKey?: string; timeoutMs?: number } = {},
): Promise<PaymentOutcome> {
  return connector.authorize(
    {
      reference,
      amount,
      currency,
      captureMode: options.captureMode ?? 'automatic',
      card: { number, expiryMonth: 12, expiryYear: 2030, cvc: '123' },
    },
    context(options),
  );
}

const sync = (reference: string, pspReference?: string) =>
  connector.sync({ reference, amount, currency, pspReference }, context());

/** The pspReference of a payment as the simulator holds it. */
async function paymentId(reference: string): Promise<string> {
  const id = (await truth(reference)).payments[0]?.paymentId;
  assert.ok(id !== undefined, `no payment for ${reference}`);
  return id;
}

before(async () => {
  sim = await startSimulator({ port: 0, timeoutDelayMs: 300 });
  const url = await startReceiver();
  const configured = await fetch(`${sim.url}/_sim/webhooks/adyen`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url, secret: secret(), retryBackoffMs: 10 }),
  });
  assert.equal(configured.status, 200);
});
after(async () => {
  receiver.close();
  await sim.close();
});

describe('adyen connector against the simulator', () => {
  it('authorizes with automatic capture; the ground truth and the notifications agree', async () => {
    const reference = `att_${randomUUID()}`;
    const outcome = await authorize(reference, CARDS.approved);
    assert.equal(outcome.status, 'captured');
    assert.equal(outcome.amountCaptured, amount);
    const pspReference = outcome.pspReference ?? '';
    assert.equal(await paymentId(reference), pspReference);
    await notified('AUTHORISATION', pspReference);
    const synced = await sync(reference);
    assert.deepEqual([synced.status, synced.pspReference], ['captured', pspReference]);
  });

  for (const [card, declineCode] of DECLINES) {
    it(`reports card ${card.slice(-4)} as failed ${declineCode}, and sync learns the refusal`, async () => {
      const reference = `att_${randomUUID()}`;
      const outcome = await authorize(reference, card);
      assert.deepEqual([outcome.status, outcome.declineCode], ['failed', declineCode]);
      assert.ok(!JSON.stringify(outcome).includes(card));
      await notified('AUTHORISATION', outcome.pspReference ?? '');
      assert.equal((await sync(reference)).status, 'failed');
    });
  }

  it('the PSP 500 card is unknown; nothing is recorded, and sync cannot say more', async () => {
    const reference = `att_${randomUUID()}`;
    assert.equal((await authorize(reference, CARDS.serverError)).status, 'unknown');
    assert.equal((await truth(reference)).operations.length, 0);
    assert.deepEqual((await sync(reference)).pspCode, NO_STATUS_API);
  });

  for (const captureMode of ['automatic', 'manual'] as const) {
    const expected = captureMode === 'automatic' ? 'captured' : 'authorized';
    for (const card of [CARDS.timeout, CARDS.lostResponse]) {
      it(`card ${card.slice(-4)} (${captureMode}) is unknown; the notification makes sync ${expected}`, async () => {
        const reference = `att_${randomUUID()}`;
        const outcome = await authorize(reference, card, {
          captureMode,
          timeoutMs: SHORT_TIMEOUT_MS,
        });
        assert.equal(outcome.status, 'unknown');
        const pspReference = await paymentId(reference);
        await notified('AUTHORISATION', pspReference);
        const synced = await sync(reference);
        assert.deepEqual([synced.status, synced.pspReference], [expected, pspReference]);
      });
    }
  }

  it('a retried payment with the same key gets the same answer; Adyen authorizes once', async () => {
    const reference = `att_${randomUUID()}`;
    const idempotencyKey = `idem_${randomUUID()}`;
    const first = await authorize(reference, CARDS.approved, { idempotencyKey });
    assert.deepEqual(await authorize(reference, CARDS.approved, { idempotencyKey }), first);
    const authorizations = (await truth(reference)).operations.filter(
      (operation) => operation.type === 'authorize',
    );
    assert.deepEqual(
      authorizations.map((operation) => operation.idempotencyKey),
      [idempotencyKey],
    );
  });

  it('a capture is pending until its notification; re-driven, it is captured without a second capture', async () => {
    const reference = `att_${randomUUID()}`;
    const pspReference = (await authorize(reference, CARDS.approved, { captureMode: 'manual' }))
      .pspReference as string;
    const request = { pspReference, reference, amount: 5000n, currency };
    const idempotencyKey = `capture_${reference}`;
    const first = await connector.capture(request, context({ idempotencyKey }));
    assert.deepEqual([first.status, first.pspCode], ['pending', 'received']);
    await notified('CAPTURE', pspReference);
    const resumed = await connector.capture(request, context({ idempotencyKey }));
    assert.deepEqual([resumed.status, resumed.amountCaptured], ['captured', 5000n]);
    const recorded = await truth(reference);
    assert.equal(recorded.operations.filter((operation) => operation.type === 'capture').length, 1);
    assert.equal(recorded.payments[0]?.captured, 5000);
    assert.equal((await sync(reference)).amountCaptured, 5000n);
  });

  it('a cancel is pending until the CANCELLATION notification, then voided', async () => {
    const reference = `att_${randomUUID()}`;
    const pspReference = (await authorize(reference, CARDS.approved, { captureMode: 'manual' }))
      .pspReference as string;
    const request = { pspReference, reference, amount, currency };
    assert.equal((await connector.void(request, context())).status, 'pending');
    await notified('CANCELLATION', pspReference);
    assert.equal((await connector.void(request, context())).status, 'voided');
    assert.equal((await sync(reference)).status, 'voided');
  });

  it('refunds in part twice; each is pending until its REFUND notification', async () => {
    const reference = `att_${randomUUID()}`;
    const pspReference = (await authorize(reference, CARDS.approved)).pspReference as string;
    for (const part of [3000n, 2000n]) {
      const request = {
        pspReference,
        reference,
        refundReference: `re_${randomUUID()}`,
        amount: part,
        currency,
      };
      const first: RefundOutcome = await connector.refund(request, context());
      assert.equal(first.status, 'pending');
      await notified('REFUND', first.pspRefundReference ?? '');
      const done = await connector.refund(request, context());
      assert.deepEqual(
        [done.status, done.pspRefundReference, done.amount],
        ['succeeded', first.pspRefundReference, part],
      );
    }
    assert.equal((await truth(reference)).payments[0]?.refunded, 5000);
  });

  it('a refund whose answer is lost is unknown; the retry with its key gets the one refund', async () => {
    const reference = `att_${randomUUID()}`;
    const pspReference = (await authorize(reference, CARDS.approved)).pspReference as string;
    const request = {
      pspReference,
      reference,
      refundReference: `re_${randomUUID()}`,
      amount,
      currency,
    };
    const idempotencyKey = `idem_${randomUUID()}`;
    const faults = `${sim.url}/_sim/faults/adyen`;
    await fetch(faults, { method: 'PUT', body: JSON.stringify({ seed: 1, lostResponseRate: 1 }) });
    let lost: RefundOutcome;
    try {
      lost = await connector.refund(request, context({ idempotencyKey }));
    } finally {
      await fetch(faults, { method: 'DELETE' });
    }
    assert.equal(lost.status, 'unknown');
    const retried = await connector.refund(request, context({ idempotencyKey }));
    assert.ok(retried.status === 'pending' || retried.status === 'succeeded', retried.status);
    const refunds = (await truth(reference)).operations.filter(
      (operation) => operation.type === 'refund',
    );
    assert.equal(refunds.length, 1);
  });

  it('a wrong API key is failed before anything is done', async () => {
    const reference = `att_${randomUUID()}`;
    const wrong = { ...context(), credentials: { ...context().credentials, apiKey: 'wrong' } };
    const outcome = await connector.authorize(
      {
        reference,
        amount,
        currency,
        captureMode: 'automatic',
        card: { number: CARDS.approved, expiryMonth: 12, expiryYear: 2030 },
      },
      wrong,
    );
    assert.equal(outcome.status, 'failed');
    assert.equal((await truth(reference)).operations.length, 0);
  });
});
