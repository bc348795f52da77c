// The simulator's Adyen-like PSP over HTTP (sim/CONTRACT.md "Adyen-like"): auth, test cards,
// PSP-side idempotency, modifications answered "received", ground truth, faults and webhooks.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { AdyenNotifications } from '../../src/connectors/adyen/notifications.ts';
import { createAdyenWebhookParser } from '../../src/connectors/adyen/webhooks.ts';
import { startSimulator, type RunningSimulator } from '../server.ts';
import { ADYEN_API_KEY, ADYEN_MERCHANT_ACCOUNT } from './adyen.ts';

type Json = Record<string, unknown>;
type Reply = { status: number; body: Json };

const HMAC_KEY = Buffer.from('simulator test key, 32 bytes....').toString('hex');
let sim: RunningSimulator;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${sim.url}/adyen/v71${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': ADYEN_API_KEY, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json } satisfies Reply;
}

async function admin(method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Json) };
}

function payment(number: string, extra: Json = {}): Json {
  return {
    amount: { value: 1000, currency: 'EUR' },
    reference: `att_${randomUUID()}`,
    merchantAccount: ADYEN_MERCHANT_ACCOUNT,
    paymentMethod: { type: 'scheme', number, expiryMonth: '03', expiryYear: '2030', cvc: '737' },
    ...extra,
  };
}

const manual = { additionalData: { manualCapture: 'true' } };

async function truth(reference: string) {
  const reply = await admin('GET', `/ground-truth?psp=adyen&reference=${reference}`);
  return reply.body as {
    operations: { type: string; amount: number; idempotencyKey?: string }[];
    payments: { authorized: number; captured: number; refunded: number; voided: boolean }[];
  };
}

before(async () => {
  sim = await startSimulator({ port: 0, timeoutDelayMs: 200 });
});
after(() => sim.close());
afterEach(async () => {
  await admin('POST', '/reset');
});

describe('adyen-like payments', () => {
  test('an approved card is Authorised; automatic capture is recorded as a capture', async () => {
    const body = payment('4111111111111111');
    const reply = await post('/payments', body);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.resultCode, 'Authorised');
    assert.equal(reply.body.merchantReference, body.reference);
    assert.deepEqual(reply.body.amount, { value: 1000, currency: 'EUR' });
    assert.match(String(reply.body.pspReference), /^[A-Z0-9]{16}$/);
    const recorded = await truth(String(body.reference));
    assert.deepEqual(
      recorded.operations.map((operation) => operation.type),
      ['authorize', 'capture'],
    );
  });

  test('declining cards are Refused with Adyen refusal reasons; the error card is a 500 that records nothing', async () => {
    const expected: [string, string, string][] = [
      ['4000000000009995', '12', 'Not enough balance'],
      ['4000000000009987', '5', 'Blocked Card'],
      ['4000000000009979', '5', 'Blocked Card'],
      ['4000000000000002', '2', 'Refused'],
      ['4000000000000069', '6', 'Expired Card'],
      ['4000000000000127', '24', 'CVC Declined'],
      ['4000000000000119', '4', 'Acquirer Error'],
      ['4000000000006975', '28', 'Withdrawal count exceeded'],
      ['4000000000000341', '2', 'Refused'],
      ['4100000000000019', '20', 'FRAUD'],
      ['4000000000004954', '20', 'FRAUD'],
      ['4000002760003184', '38', 'Authentication required'],
      ['4000008400001280', '2', 'Refused'],
    ];
    for (const [number, code, reason] of expected) {
      const reply = await post('/payments', payment(number));
      assert.equal(reply.status, 200, number);
      assert.equal(reply.body.resultCode, 'Refused', number);
      assert.equal(reply.body.refusalReasonCode, code, number);
      assert.equal(reply.body.refusalReason, reason, number);
    }
    const failing = payment('4000009990000013');
    assert.equal((await post('/payments', failing)).status, 500);
    assert.equal((await truth(String(failing.reference))).operations.length, 0);
  });

  test('a wrong API key is 401, another merchant account 403, a bad field 422', async () => {
    const wrongKey = await post('/payments', payment('4111111111111111'), { 'x-api-key': 'no' });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.errorType, 'security');
    const otherAccount = await post(
      '/payments',
      payment('4111111111111111', { merchantAccount: 'Other' }),
    );
    assert.equal(otherAccount.status, 403);
    const badCard = await post('/payments', payment('4111111111111112'));
    assert.deepEqual([badCard.status, badCard.body.errorCode], [422, '101']);
    const noReference = await post('/payments', payment('4111111111111111', { reference: '' }));
    assert.equal(noReference.status, 422);
    assert.equal((await post('/payments', 'not json')).status, 400);
  });

  test('Idempotency-Key: a retry gets the stored answer and acts once; another body is 422 704', async () => {
    const body = payment('4111111111111111');
    const key = { 'idempotency-key': `idem_${randomUUID()}` };
    const first = await post('/payments', body, key);
    const again = await post('/payments', body, key);
    assert.deepEqual(again, first);
    assert.equal(
      (await truth(String(body.reference))).operations.length,
      2,
      'one authorize + capture',
    );
    const other = await post(
      '/payments',
      { ...body, amount: { value: 999, currency: 'EUR' } },
      key,
    );
    assert.deepEqual([other.status, other.body.errorCode], [422, '704']);
  });
});

describe('adyen-like modifications', () => {
  async function authorized(): Promise<{ pspReference: string; reference: string }> {
    const body = payment('4111111111111111', manual);
    const reply = await post('/payments', body);
    assert.equal(reply.body.resultCode, 'Authorised');
    return { pspReference: String(reply.body.pspReference), reference: String(body.reference) };
  }

  test('a partial capture and two partial refunds are "received" and done', async () => {
    const { pspReference, reference } = await authorized();
    const capture = await post(`/payments/${pspReference}/captures`, {
      merchantAccount: ADYEN_MERCHANT_ACCOUNT,
      amount: { value: 800, currency: 'EUR' },
      reference,
    });
    assert.equal(capture.status, 201);
    assert.equal(capture.body.status, 'received');
    assert.equal(capture.body.paymentPspReference, pspReference);
    assert.equal(capture.body.reference, reference);
    for (const refundReference of ['re_1', 're_2']) {
      const refund = await post(`/payments/${pspReference}/refunds`, {
        merchantAccount: ADYEN_MERCHANT_ACCOUNT,
        amount: { value: 300, currency: 'EUR' },
        reference: refundReference,
      });
      assert.deepEqual([refund.status, refund.body.status], [201, 'received']);
    }
    const tooMuch = await post(`/payments/${pspReference}/refunds`, {
      merchantAccount: ADYEN_MERCHANT_ACCOUNT,
      amount: { value: 201, currency: 'EUR' },
      reference: 're_3',
    });
    assert.equal(tooMuch.status, 422);
    const [state] = (await truth(reference)).payments;
    assert.deepEqual([state?.authorized, state?.captured, state?.refunded], [1000, 800, 600]);
  });

  test('a cancel of an authorization is "received"; a capture after it, or of more, is refused', async () => {
    const over = await authorized();
    const tooMuch = await post(`/payments/${over.pspReference}/captures`, {
      merchantAccount: ADYEN_MERCHANT_ACCOUNT,
      amount: { value: 1001, currency: 'EUR' },
    });
    assert.equal(tooMuch.status, 422);
    const { pspReference, reference } = await authorized();
    const cancel = await post(`/payments/${pspReference}/cancels`, {
      merchantAccount: ADYEN_MERCHANT_ACCOUNT,
      reference,
    });
    assert.deepEqual([cancel.status, cancel.body.status], [201, 'received']);
    assert.equal((await truth(reference)).payments[0]?.voided, true);
    const late = await post(`/payments/${pspReference}/captures`, {
      merchantAccount: ADYEN_MERCHANT_ACCOUNT,
      amount: { value: 1000, currency: 'EUR' },
    });
    assert.equal(late.status, 422);
    const unknown = await post('/payments/NOSUCHREFERENCE1/refunds', {
      merchantAccount: ADYEN_MERCHANT_ACCOUNT,
      amount: { value: 1, currency: 'EUR' },
    });
    assert.equal(unknown.status, 422);
  });
});

describe('adyen-like faults and webhooks', () => {
  test('faults apply to adyen as to every PSP', async () => {
    assert.equal((await admin('PUT', '/faults/adyen', { errorRate: 1 })).status, 200);
    const body = payment('4111111111111111');
    const failed = await post('/payments', body);
    assert.equal(failed.status, 500);
    assert.equal(failed.body.errorType, 'internal');
    assert.equal((await truth(String(body.reference))).operations.length, 0);
  });

  test('every operation becomes one signed notification that Payrail verifies', async () => {
    const received: string[] = [];
    const server: Server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(202).end('[accepted]');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      const configured = await admin('PUT', '/webhooks/adyen', {
        url: `http://127.0.0.1:${port}/`,
        secret: HMAC_KEY,
      });
      assert.equal(configured.status, 200, JSON.stringify(configured.body));
      const body = payment('4111111111111111', manual);
      const paid = await post('/payments', body);
      const pspReference = String(paid.body.pspReference);
      await post(`/payments/${pspReference}/captures`, {
        merchantAccount: ADYEN_MERCHANT_ACCOUNT,
        amount: { value: 1000, currency: 'EUR' },
        reference: body.reference,
      });
      await post(`/payments/${pspReference}/refunds`, {
        merchantAccount: ADYEN_MERCHANT_ACCOUNT,
        amount: { value: 400, currency: 'EUR' },
        reference: 're_hook',
      });
      const deadline = Date.now() + 5000;
      while (received.length < 3 && Date.now() < deadline)
        await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 3);
      const parser = createAdyenWebhookParser(new AdyenNotifications());
      const events = received.map((text) => {
        const webhook = { body: text, headers: {} };
        assert.deepEqual(parser.verify(webhook, HMAC_KEY), { ok: true });
        const parsed = parser.parse(webhook);
        assert.ok(parsed.ok);
        return parsed.event;
      });
      assert.deepEqual(
        events.map((event) => [event.type, event.pspPaymentId]),
        [
          ['AUTHORISATION', pspReference],
          ['CAPTURE', pspReference],
          ['REFUND', pspReference],
        ],
      );
      assert.equal(events[0]?.reference, body.reference);
      assert.equal(events[2]?.refundReference, 're_hook');
      const other = Buffer.from('not the key the simulator signs w').toString('hex');
      assert.equal(parser.verify({ body: received[0] ?? '', headers: {} }, other).ok, false);
    } finally {
      server.close();
    }
  });
});
