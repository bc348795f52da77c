// The connectors' side of the wire, against a local recording server: the right endpoint, the
// credentials, the idempotency key on every mutating call, signatures, and the guards that
// refuse an unsupported request before anything is sent.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConnectorError } from './errors.ts';
import { paytmConnector } from './paytm/connector.ts';
import { razorpayConnector } from './razorpay/connector.ts';
import { stripeConnector } from './stripe/connector.ts';
import { VISA, authorizeRequest, fixture, serialized } from './testing.ts';
import type { CallContext } from './types.ts';

type Recorded = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

const recorded: Recorded[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let server: Server;
let base = '';

before(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      recorded.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body,
      });
      response
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  recorded.length = 0;
});

function last(): Recorded {
  const request = recorded.at(-1);
  assert.ok(request !== undefined, 'no request was sent');
  return request;
}

const dir = (psp: string): string => join(import.meta.dirname, psp);

describe('stripe connector on the wire', () => {
  const context: CallContext = {
    credentials: { baseUrl: `http://placeholder/stripe/`, apiKey: 'sk_test_sim' },
    idempotencyKey: 'idem_1',
    timeoutMs: 2000,
  };
  const ctx = (): CallContext => ({
    ...context,
    credentials: { ...context.credentials, baseUrl: `${base}/stripe/` },
  });

  it('creates the PaymentIntent with bearer key, form body and Idempotency-Key', async () => {
    answer = { status: 200, body: fixture(dir('stripe'), 'payment_intent_succeeded') };
    const outcome = await stripeConnector.authorize(authorizeRequest(), ctx());
    assert.equal(outcome.status, 'captured');
    const request = last();
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/stripe/v1/payment_intents');
    assert.equal(request.headers.authorization, 'Bearer sk_test_sim');
    assert.equal(request.headers['idempotency-key'], 'idem_1');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(new URLSearchParams(request.body).get('metadata[reference]'), 'att_0001');
  });

  it('sends the key on capture, cancel and refund, and not on reads', async () => {
    const intent = fixture(dir('stripe'), 'payment_intent_succeeded');
    answer = { status: 200, body: intent };
    await stripeConnector.capture(
      {
        pspReference: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
        reference: 'att_0001',
        amount: 2000n,
        currency: 'usd',
      },
      ctx(),
    );
    assert.equal(last().url, '/stripe/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/capture');
    assert.equal(last().body, 'amount_to_capture=2000');
    assert.equal(last().headers['idempotency-key'], 'idem_1');
    await stripeConnector.void(
      {
        pspReference: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
        reference: 'att_0001',
        amount: 2000n,
        currency: 'usd',
      },
      ctx(),
    );
    assert.equal(last().url, '/stripe/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/cancel');
    assert.equal(last().headers['idempotency-key'], 'idem_1');
    answer = { status: 200, body: fixture(dir('stripe'), 'refund_succeeded') };
    const refund = await stripeConnector.refund(
      {
        pspReference: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
        reference: 'att_0001',
        refundReference: 'rfd_0001',
        amount: 500n,
        currency: 'usd',
      },
      ctx(),
    );
    assert.equal(refund.status, 'succeeded');
    assert.equal(last().headers['idempotency-key'], 'idem_1');
    answer = { status: 200, body: intent };
    await stripeConnector.sync(
      {
        pspReference: 'pi_3MtwBwLkdIwHu7ix28a3tqPa',
        reference: 'att_0001',
        amount: 2000n,
        currency: 'usd',
      },
      ctx(),
    );
    assert.equal(last().method, 'GET');
    assert.equal(last().headers['idempotency-key'], undefined);
    answer = { status: 200, body: { object: 'search_result', data: [intent], has_more: false } };
    const synced = await stripeConnector.sync(
      { reference: 'att_0001', amount: 2000n, currency: 'usd' },
      ctx(),
    );
    assert.equal(synced.status, 'captured');
    assert.equal(
      new URL(`http://x${last().url}`).searchParams.get('query'),
      "metadata['reference']:'att_0001'",
    );
  });

  it('refuses what its capability map does not allow, before sending anything', async () => {
    await assert.rejects(
      stripeConnector.authorize(authorizeRequest({ currency: 'ugx' }), ctx()),
      ConnectorError,
    );
    await assert.rejects(
      stripeConnector.authorize(authorizeRequest({ currency: 'xxx' }), ctx()),
      ConnectorError,
    );
    await assert.rejects(
      stripeConnector.authorize(authorizeRequest({ amount: 0n }), ctx()),
      ConnectorError,
    );
    await assert.rejects(
      stripeConnector.authorize(
        authorizeRequest({ amount: BigInt(Number.MAX_SAFE_INTEGER) + 1n }),
        ctx(),
      ),
      (error: unknown) => {
        return (
          error instanceof ConnectorError &&
          error.code === 'invalid_amount' &&
          !error.message.includes(VISA)
        );
      },
    );
    assert.equal(recorded.length, 0);
  });
});

describe('razorpay connector on the wire', () => {
  const ctx = (): CallContext => ({
    credentials: { baseUrl: `${base}/razorpay`, apiKey: 'rzp_test_sim', apiSecret: 'sim_secret' },
    idempotencyKey: 'idem_2',
    timeoutMs: 2000,
  });
  const basic = `Basic ${Buffer.from('rzp_test_sim:sim_secret').toString('base64')}`;

  it('creates the payment with Basic auth, JSON and X-Idempotency-Key', async () => {
    answer = { status: 200, body: fixture(dir('razorpay'), 'payment_captured') };
    const outcome = await razorpayConnector.authorize(
      authorizeRequest({ currency: 'inr', amount: 9900n }),
      ctx(),
    );
    assert.equal(outcome.status, 'captured');
    const request = last();
    assert.equal(request.url, '/razorpay/v1/payments/create/json');
    assert.equal(request.headers.authorization, basic);
    assert.equal(request.headers['x-idempotency-key'], 'idem_2');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal((JSON.parse(request.body) as { currency: string }).currency, 'INR');
  });

  it('sends the key on capture and refund, reads by id or receipt without it', async () => {
    const payment = fixture(dir('razorpay'), 'payment_captured');
    answer = { status: 200, body: payment };
    await razorpayConnector.capture(
      { pspReference: 'pay_L0nSsccovt6zyp', reference: 'att_0001', amount: 9900n, currency: 'inr' },
      ctx(),
    );
    assert.equal(last().url, '/razorpay/v1/payments/pay_L0nSsccovt6zyp/capture');
    assert.equal(last().headers['x-idempotency-key'], 'idem_2');
    answer = { status: 200, body: fixture(dir('razorpay'), 'refund_processed') };
    await razorpayConnector.refund(
      {
        pspReference: 'pay_L0nSsccovt6zyp',
        reference: 'att_0001',
        refundReference: 'rfd_0001',
        amount: 500n,
        currency: 'inr',
      },
      ctx(),
    );
    assert.equal(last().url, '/razorpay/v1/payments/pay_L0nSsccovt6zyp/refund');
    assert.equal(last().headers['x-idempotency-key'], 'idem_2');
    answer = { status: 200, body: { entity: 'collection', count: 1, items: [payment] } };
    assert.equal(
      (
        await razorpayConnector.sync(
          { reference: 'att_0001', amount: 9900n, currency: 'inr' },
          ctx(),
        )
      ).status,
      'captured',
    );
    assert.equal(last().url, '/razorpay/v1/payments?receipt=att_0001');
    assert.equal(last().headers['x-idempotency-key'], undefined);
    assert.equal(last().headers.authorization, basic);
  });

  it('refuses void, unsupported currencies and missing secrets before sending anything', async () => {
    await assert.rejects(
      razorpayConnector.void(
        { pspReference: 'pay_1', reference: 'att_0001', amount: 1n, currency: 'inr' },
        ctx(),
      ),
      (error: unknown) => {
        return error instanceof ConnectorError && error.code === 'unsupported_operation';
      },
    );
    await assert.rejects(
      razorpayConnector.authorize(authorizeRequest({ currency: 'jpy' }), ctx()),
      ConnectorError,
    );
    const noSecret = {
      ...ctx(),
      credentials: { baseUrl: `${base}/razorpay`, apiKey: 'rzp_test_sim' },
    };
    await assert.rejects(
      razorpayConnector.authorize(authorizeRequest({ currency: 'inr' }), noSecret),
      (error: unknown) => {
        return (
          error instanceof ConnectorError &&
          error.code === 'missing_credentials' &&
          !serialized(error.message).includes(VISA)
        );
      },
    );
    assert.equal(recorded.length, 0);
  });
});

describe('paytm connector on the wire', () => {
  const ctx = (): CallContext => ({
    credentials: {
      baseUrl: `${base}/paytm`,
      apiKey: 'unused',
      apiSecret: 'sim_merchant_key',
      merchantAccount: 'SIMMID00000000000001',
    },
    idempotencyKey: 'idem_3',
    timeoutMs: 2000,
  });

  it('signs the exact body text with the merchant key and sends the mid', async () => {
    answer = { status: 200, body: fixture(dir('paytm'), 'transaction_status_success') };
    const outcome = await paytmConnector.authorize(
      authorizeRequest({ currency: 'inr', amount: 9900n }),
      ctx(),
    );
    assert.equal(outcome.status, 'captured');
    const request = last();
    assert.equal(request.url, '/paytm/v3/order/pay');
    const bodyText =
      /^\{"head":\{"signature":"[^"]+"\},"body":(.*)\}$/.exec(request.body)?.[1] ?? '';
    const parsed = JSON.parse(request.body) as {
      head: { signature: string };
      body: { mid: string; orderId: string };
    };
    assert.equal(
      parsed.head.signature,
      createHmac('sha256', 'sim_merchant_key').update(bodyText).digest('base64'),
    );
    assert.equal(parsed.body.mid, 'SIMMID00000000000001');
    assert.equal(parsed.body.orderId, 'att_0001');
  });

  it('syncs with order/status and refunds with refund/apply', async () => {
    answer = { status: 200, body: fixture(dir('paytm'), 'transaction_status_success') };
    await paytmConnector.sync({ reference: 'att_0001', amount: 9900n, currency: 'inr' }, ctx());
    assert.equal(last().url, '/paytm/v3/order/status');
    answer = { status: 200, body: fixture(dir('paytm'), 'refund_success') };
    const refund = await paytmConnector.refund(
      {
        pspReference: '20230101111212800110168470101509706',
        reference: 'att_0001',
        refundReference: 'rfd_0001',
        amount: 9900n,
        currency: 'inr',
      },
      ctx(),
    );
    assert.equal(refund.status, 'succeeded');
    assert.equal(last().url, '/paytm/refund/apply');
  });

  it('refuses manual capture, capture, void, other currencies and missing credentials before sending anything', async () => {
    const unsupported = (error: unknown): boolean => error instanceof ConnectorError;
    await assert.rejects(
      paytmConnector.authorize(authorizeRequest({ currency: 'inr', captureMode: 'manual' }), ctx()),
      unsupported,
    );
    await assert.rejects(
      paytmConnector.authorize(authorizeRequest({ currency: 'usd' }), ctx()),
      unsupported,
    );
    await assert.rejects(
      paytmConnector.capture(
        { pspReference: 't', reference: 'r', amount: 1n, currency: 'inr' },
        ctx(),
      ),
      unsupported,
    );
    await assert.rejects(
      paytmConnector.void(
        { pspReference: 't', reference: 'r', amount: 1n, currency: 'inr' },
        ctx(),
      ),
      unsupported,
    );
    const noMid = {
      ...ctx(),
      credentials: { baseUrl: `${base}/paytm`, apiKey: 'x', apiSecret: 'sim_merchant_key' },
    };
    await assert.rejects(
      paytmConnector.authorize(authorizeRequest({ currency: 'inr' }), noMid),
      unsupported,
    );
    assert.equal(recorded.length, 0);
  });
});
