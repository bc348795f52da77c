// Failover and resilience over HTTP with the real simulator: soft declines and unknown outcomes
// make a new attempt at the next connector; an abandoned attempt that turns out charged is
// refunded (or voided) by sync, so the customer pays once; an open circuit breaker routes around
// its connector, and when nothing can take the payment the answer is a 503 with Retry-After and
// nothing is written.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { PSPS } from '../../sim/psps/registry.ts';
import { connectorModules } from '../../src/connectors/registry.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import type { RunningProcess } from '../support/processes.ts';
import { groundTruth, startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { call, type TestServer } from '../support/server.ts';

type Attempt = { id: string; connector: string; status: string; abandoned: boolean };
type Truth = {
  payments: {
    psp: string;
    reference: string;
    authorized: number;
    captured: number;
    refunded: number;
    voided: boolean;
  }[];
};

describe('failover between connectors', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;

  async function faults(psp: string, settings: Record<string, unknown> | undefined): Promise<void> {
    const response = await fetch(
      `${simulator.url}/_sim/faults/${psp}`,
      settings === undefined
        ? { method: 'DELETE' }
        : {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ seed: 7, ...settings }),
          },
    );
    assert.ok(response.ok, `faults ${psp}: ${response.status}`);
  }
  async function truth(reference: string): Promise<Truth['payments']> {
    return (await groundTruth<Truth>(simulator, { reference })).payments;
  }
  const attemptsOf = (body: Record<string, unknown>) => body.attempts as Attempt[];

  before(async () => {
    stack = await startSimulatedStack({
      env: {
        PAYRAIL_PSP_TIMEOUT_MS: '1000',
        PAYRAIL_PSP_ATTEMPTS: '1',
        PAYRAIL_BREAKER_THRESHOLD: '3',
        PAYRAIL_BREAKER_HALF_OPEN_MS: '60000',
      },
    });
    ({ simulator, server } = stack);
    key = (await stack.merchant('Shop')).key;
  });
  afterEach(async () => {
    for (const psp of PSPS) await faults(psp, undefined);
  });
  after(() => stack.stop());

  test("the merchant's routing rules choose the connector by card country, brand and amount", async () => {
    const rules = await call(server, 'POST', '/v1/routing', {
      key,
      body: {
        rules: [
          {
            name: 'brazil',
            conditions: { card_country: ['BR'] },
            action: { type: 'priority', connectors: ['razorpay'] },
          },
          {
            name: 'amex',
            conditions: { card_brand: ['amex'] },
            action: { type: 'priority', connectors: ['razorpay', 'stripe'] },
          },
          {
            name: 'large',
            conditions: { currency: ['usd'], amount: { min: 100_000 } },
            action: { type: 'volume_split', splits: [{ connector: 'razorpay', weight: 1 }] },
          },
        ],
      },
    });
    assert.equal(rules.status, 200, JSON.stringify(rules.body));
    const firstConnector = async (body: Record<string, unknown>) => {
      const paid = await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: { amount: 1000, currency: 'usd', confirm: true, ...body },
      });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      return attemptsOf(paid.body)[0]?.connector;
    };
    try {
      assert.equal(await firstConnector({ payment_method: 'pm_card_br' }), 'razorpay');
      assert.equal(await firstConnector({ payment_method: 'pm_card_amex' }), 'razorpay');
      assert.equal(
        await firstConnector({ payment_method: 'pm_card_visa', amount: 150_000 }),
        'razorpay',
      );
      assert.equal(
        await firstConnector({ payment_method: 'pm_card_visa' }),
        'stripe',
        'no rule matches: priority order',
      );
    } finally {
      assert.equal(
        (await call(server, 'POST', '/v1/routing', { key, body: { rules: [] } })).status,
        200,
      );
    }
  });

  test('a soft decline is tried at each connector in turn; a hard decline is not', async () => {
    const soft = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      },
    });
    assert.equal(soft.status, 402);
    const softIntent = (await call(server, 'GET', '/v1/payment_intents?limit=1', { key })).body
      .data as Record<string, unknown>[];
    const tried = attemptsOf(softIntent[0] ?? {}).map((attempt) => [
      attempt.connector,
      attempt.status,
    ]);
    assert.deepEqual(
      tried.slice(0, 2),
      [
        ['stripe', 'failed'],
        ['razorpay', 'failed'],
      ],
      'paytm takes only inr',
    );
    // Then every other connector of the registry that takes usd, in the merchant's order.
    assert.deepEqual(
      tried,
      connectorModules
        .filter((module) => module.capabilities.currencies.includes('usd'))
        .map((module) => [module.name, 'failed']),
    );

    const hard = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        confirm: true,
      },
    });
    assert.equal(hard.status, 402);
    assert.equal(hard.body.error?.decline_code, 'insufficient_funds');
    const hardIntent = (await call(server, 'GET', '/v1/payment_intents?limit=1', { key })).body
      .data as Record<string, unknown>[];
    assert.deepEqual(
      attemptsOf(hardIntent[0] ?? {}).map((attempt) => attempt.connector),
      ['stripe'],
    );
  });

  test('a lost answer fails over; the abandoned charge is refunded by sync, so the customer pays once', async () => {
    await faults('stripe', { lostResponseRate: 1 });
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, 'succeeded');
    const [abandoned, second] = attemptsOf(paid.body);
    assert.deepEqual(
      [abandoned?.connector, abandoned?.status, abandoned?.abandoned],
      ['stripe', 'unknown', true],
    );
    assert.deepEqual([second?.connector, second?.status], ['razorpay', 'captured']);
    // The PSP did charge the abandoned attempt.
    assert.equal((await truth(abandoned?.id ?? ''))[0]?.captured, 2500);

    await faults('stripe', undefined);
    const synced = await call(server, 'POST', `/v1/payment_intents/${String(paid.body.id)}/sync`, {
      key,
      body: {},
    });
    assert.equal(synced.body.status, 'succeeded');
    assert.equal(synced.body.amount_received, 2500);
    const orphan = attemptsOf(synced.body)[0];
    assert.equal(orphan?.status, 'refunded');
    const atStripe = (await truth(orphan?.id ?? ''))[0];
    assert.deepEqual(
      [atStripe?.captured, atStripe?.refunded],
      [2500, 2500],
      'refunded in full at the PSP',
    );
    // The ledger saw the PSP's capture and refund through the suspense account, netting to zero.
    const suspense = await server.context.ledger.getAccount('platform:suspense:usd');
    assert.equal(suspense?.balance.posted, 0n);
    assert.equal(
      (await server.context.ledger.getTransaction(`refund:${orphan?.id}`))?.legs[0]?.amount,
      2500n,
    );
    assert.equal((await verifyLedger(server.context.database)).ok, true);
    // A second sync changes nothing.
    const again = await call(server, 'POST', `/v1/payment_intents/${String(paid.body.id)}/sync`, {
      key,
      body: {},
    });
    assert.deepEqual(again.body, synced.body);
    assert.equal((await truth(orphan?.id ?? ''))[0]?.refunded, 2500);
  });

  test('an abandoned authorization that turns out authorized is voided', async () => {
    await faults('stripe', { lostResponseRate: 1 });
    const authorized = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 1800,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'manual',
      },
    });
    assert.equal(authorized.body.status, 'requires_capture', JSON.stringify(authorized.body));
    await faults('stripe', undefined);
    const synced = await call(
      server,
      'POST',
      `/v1/payment_intents/${String(authorized.body.id)}/sync`,
      { key, body: {} },
    );
    const orphan = attemptsOf(synced.body)[0];
    assert.deepEqual([orphan?.connector, orphan?.status], ['stripe', 'voided']);
    assert.equal((await truth(orphan?.id ?? ''))[0]?.voided, true);
    assert.equal(synced.body.status, 'requires_capture', 'the intent keeps its live authorization');
  });

  test('an explicit connector never fails over: the outcome stays unknown', async () => {
    await faults('stripe', { lostResponseRate: 1 });
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 900,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        connector: 'stripe',
      },
    });
    assert.equal(paid.body.status, 'processing');
    assert.deepEqual(
      attemptsOf(paid.body).map((attempt) => [
        attempt.connector,
        attempt.status,
        attempt.abandoned,
      ]),
      [['stripe', 'unknown', false]],
    );
  });

  test('an open breaker routes around its connector; with nothing left the answer is a 503 and nothing is written', async () => {
    // Razorpay answers 500 (nothing done) three times: its breaker opens.
    await faults('razorpay', { errorRate: 1 });
    for (let index = 0; index < 3; index++) {
      await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 500,
          currency: 'inr',
          payment_method: 'pm_card_visa',
          confirm: true,
          connector: 'razorpay',
        },
      });
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /payrail_circuit_breaker_state\{connector="razorpay"\} 2/);

    // Routing skips it: stripe first anyway, so ask for inr where paytm and razorpay compete.
    const routed = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 700, currency: 'inr', payment_method: 'pm_card_visa', confirm: true },
    });
    assert.equal(routed.status, 200, JSON.stringify(routed.body));
    assert.ok(
      !attemptsOf(routed.body).some((attempt) => attempt.connector === 'razorpay'),
      'razorpay is not tried while open',
    );

    const before = (await call(server, 'GET', '/v1/payment_intents?limit=100', { key })).body
      .data as unknown[];
    const refused = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 600,
        currency: 'inr',
        payment_method: 'pm_card_visa',
        confirm: true,
        connector: 'razorpay',
      },
    });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error?.code, 'connector_unavailable');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    const afterwards = (await call(server, 'GET', '/v1/payment_intents?limit=100', { key })).body
      .data as unknown[];
    assert.equal(afterwards.length, before.length, 'no intent was created');
  });
});

describe('a full bulkhead', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;

  before(async () => {
    stack = await startSimulatedStack({
      env: {
        PAYRAIL_BULKHEAD_LIMIT: '1',
        PAYRAIL_PSP_TIMEOUT_MS: '3000',
      },
    });
    ({ simulator, server } = stack);
    key = (await stack.merchant('Shop')).key;
    await fetch(`${simulator.url}/_sim/faults/stripe`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latency: { distribution: 'fixed', meanMs: 400 } }),
    });
  });
  after(() => stack.stop());

  test('refuses beyond its bound with a fast 503; the refused intent can be confirmed again', async () => {
    // One call runs and one waits (limit 1, queue 1); the third is refused without reaching the PSP.
    const answers = await Promise.all(
      [0, 1, 2].map((index) =>
        call(server, 'POST', '/v1/payment_intents', {
          key,
          body: {
            amount: 100 + index,
            currency: 'usd',
            payment_method: 'pm_card_visa',
            confirm: true,
            connector: 'stripe',
          },
        }),
      ),
    );
    const refused = answers.filter((answer) => answer.status === 503);
    assert.equal(refused.length, 1, JSON.stringify(answers.map((answer) => answer.status)));
    assert.equal(answers.filter((answer) => answer.status === 200).length, 2);
    assert.equal(refused[0]?.body.error?.code, 'connector_unavailable');
    assert.equal(refused[0]?.headers.get('retry-after'), '1');

    const list = (await call(server, 'GET', '/v1/payment_intents?limit=10', { key })).body
      .data as (Record<string, unknown> & { attempts: Attempt[] })[];
    const released = list.find((intent) => intent.status === 'requires_confirmation');
    assert.ok(released, 'the refused intent went back to requires_confirmation');
    assert.deepEqual(
      released.attempts.map((attempt) => [
        attempt.status,
        (attempt as unknown as { psp_code: string }).psp_code,
      ]),
      [['failed', 'bulkhead_full']],
    );
    assert.equal(
      (await groundTruth<Truth>(simulator, { reference: String(released.attempts[0]?.id) }))
        .payments.length,
      0,
      'nothing reached the PSP',
    );

    const confirmed = await call(
      server,
      'POST',
      `/v1/payment_intents/${String(released.id)}/confirm`,
      { key, body: {} },
    );
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.status, 'succeeded');
  });

  test('a capture refused by the bulkhead is a 503 that a retry completes, capturing once', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const authorized = await call(server, 'POST', '/v1/payment_intents', {
        key,
        body: {
          amount: 300 + index,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: true,
          capture_method: 'manual',
          connector: 'stripe',
        },
      });
      assert.equal(authorized.body.status, 'requires_capture');
      ids.push(String(authorized.body.id));
    }
    const answers = await Promise.all(
      ids.map((id) => call(server, 'POST', `/v1/payment_intents/${id}/capture`, { key, body: {} })),
    );
    const refusedIndex = answers.findIndex((answer) => answer.status === 503);
    assert.ok(refusedIndex >= 0, JSON.stringify(answers.map((answer) => answer.status)));
    assert.equal(answers[refusedIndex]?.body.error?.code, 'connector_unavailable');
    assert.equal(answers[refusedIndex]?.headers.get('retry-after'), '1');
    const retried = await call(server, 'POST', `/v1/payment_intents/${ids[refusedIndex]}/capture`, {
      key,
      body: {},
    });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'succeeded');
    const attempt = (retried.body.attempts as Attempt[])[0];
    const captures = (await groundTruth<Truth>(simulator, { reference: String(attempt?.id) }))
      .payments;
    assert.equal(captures[0]?.captured, 300 + refusedIndex);
  });

  test('confirming an authorized intent again is refused and authorizes nothing', async () => {
    const authorized = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 444,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        capture_method: 'manual',
        connector: 'stripe',
      },
    });
    const again = await call(
      server,
      'POST',
      `/v1/payment_intents/${String(authorized.body.id)}/confirm`,
      { key, body: {} },
    );
    assert.equal(again.status, 400);
    assert.equal(again.body.error?.code, 'payment_intent_unexpected_state');
    const current = await call(server, 'GET', `/v1/payment_intents/${String(authorized.body.id)}`, {
      key,
    });
    assert.equal((current.body.attempts as Attempt[]).length, 1);
  });
});
