// Payment flows over HTTP: a real Payrail server (embedded PGlite) and the real simulator process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { registerPaymentRoutes } from '../../src/http/routes/payments.ts';
import { connectorModules, getConnectorModule } from '../../src/connectors/registry.ts';
import { verifyLedger } from '../../src/ledger/index.ts';
import { advanceClock } from '../support/clock.ts';
import type { RunningProcess } from '../support/processes.ts';
import {
  groundTruth as simulatorGroundTruth,
  startSimulatedStack,
  type SimulatedStack,
} from '../support/simulator.ts';
import { call, testAdminKey, type Call, type TestServer } from '../support/server.ts';
import { seedItems } from '../support/balance-fixtures.ts';

/** jpy while only stripe takes it, else the first currency only stripe takes. */
function onlyStripeCurrency(): string {
  const others = connectorModules.filter((module) => module.name !== 'stripe');
  const unique = getConnectorModule('stripe').capabilities.currencies.filter(
    (currency) => !others.some((module) => module.capabilities.currencies.includes(currency)),
  );
  const currency = unique.includes('jpy') ? 'jpy' : unique[0];
  assert.ok(currency !== undefined, 'a currency only stripe takes');
  return currency;
}

type GroundTruth = {
  payments: {
    psp: string;
    reference: string;
    authorized: number;
    captured: number;
    refunded: number;
    voided: boolean;
  }[];
  operations: {
    type: string;
    reference: string;
    status: string;
    amount: number;
    declineCode?: string;
  }[];
  webhooks: unknown[];
};

/** The routes src/http/routes/payments.ts registers (Fastify's automatic HEAD twins left out). */
function paymentRoutes(server: TestServer): string[] {
  const app = Fastify();
  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  registerPaymentRoutes(app, server.context);
  return routes;
}

describe('payments over HTTP with the simulator', () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let key: string;
  let merchantId: string;
  let otherKey: string;

  const groundTruth = (reference?: string) =>
    simulatorGroundTruth<GroundTruth>(simulator, { reference });

  async function pay(
    body: Record<string, unknown>,
    options: { idempotencyKey?: string; merchantKey?: string } = {},
  ) {
    return call(server, 'POST', '/v1/payment_intents', {
      key: options.merchantKey ?? key,
      body: { currency: 'usd', confirm: true, ...body },
      idempotencyKey: options.idempotencyKey,
    });
  }

  function attemptsOf(body: Record<string, unknown>): {
    id: string;
    status: string;
    connector: string;
    decline_code: string | null;
    psp_code: string | null;
  }[] {
    return body.attempts as {
      id: string;
      status: string;
      connector: string;
      decline_code: string | null;
      psp_code: string | null;
    }[];
  }

  /** Every ledger transaction posted for an attempt or refund (`capture:<id>`, `fee:<id>` …) and any posting still waiting. */
  async function postingsOf(id: string): Promise<{ posted: string[]; waiting: bigint }> {
    const database = server.context.database;
    const posted = await database.query<{ id: string }>(
      "SELECT id FROM ledger_transactions WHERE right(id, length($1::text) + 1) = ':' || $1::text ORDER BY id",
      [id],
    );
    const waiting = await database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM ledger_outbox WHERE strpos(transfers::text, $1::text) > 0',
      [id],
    );
    return { posted: posted.rows.map((row) => row.id), waiting: waiting.rows[0]?.count ?? -1n };
  }

  before(async () => {
    // One try per PSP call: these tests see unknown outcomes, not the retries that hide them.
    // An authorization the PSP never saw is failed by sync after 1 s instead of 10 minutes.
    stack = await startSimulatedStack({
      simulatorEnv: { SIM_TIMEOUT_DELAY_MS: '3000' },
      env: {
        PAYRAIL_PSP_TIMEOUT_MS: '1200',
        PAYRAIL_PSP_ATTEMPTS: '1',
        PAYRAIL_BREAKER_THRESHOLD: '1000',
        PAYRAIL_NEVER_SEEN_AFTER_MS: '1000',
      },
    });
    ({ simulator, server } = stack);
    ({ key, id: merchantId } = await stack.merchant('Shop'));
    otherKey = (await stack.merchant('Other')).key;
  });
  after(() => stack.stop());

  test('a card is vaulted and shown only as brand, last4 and expiry', async () => {
    const response = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: {
        type: 'card',
        card: { number: '4242 4242 4242 4242', exp_month: 12, exp_year: 2031, cvc: '123' },
      },
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.match(String(response.body.id), /^pm_/);
    assert.deepEqual(
      { ...(response.body.card as object), fingerprint: undefined },
      {
        brand: 'visa',
        last4: '4242',
        exp_month: 12,
        exp_year: 2031,
        country: 'US',
        fingerprint: undefined,
      },
    );
    assert.ok(!JSON.stringify(response.body).includes('4242424242424242'));
    const paid = await pay({ amount: 1234, payment_method: response.body.id });
    assert.equal(paid.body.status, 'succeeded');
  });

  test('automatic capture: succeeded, one captured attempt, money in the ledger net of the fee', async () => {
    const response = await pay({
      amount: 10_000,
      payment_method: 'pm_card_visa',
      connector: 'stripe',
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.status, 'succeeded');
    assert.equal(response.body.amount_received, 10_000);
    const attempts = attemptsOf(response.body);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]?.status, 'captured');
    const truth = await groundTruth(attempts[0]?.id);
    assert.equal(truth.payments[0]?.captured, 10_000);
    const ledger = server.context.ledger;
    const fee = 290n + 30n; // 2.9 % of 100.00 + 0.30
    const merchantId = String(
      (
        await server.context.database.query<{ merchant_id: string }>(
          'SELECT merchant_id FROM payment_intents WHERE id = $1',
          [response.body.id],
        )
      ).rows[0]?.merchant_id,
    );
    const pending = await ledger.getAccount(`merchant:${merchantId}:pending:usd`);
    assert.ok(pending !== undefined && pending.balance.posted >= 10_000n - fee);
    const fees = await ledger.getTransaction(`fee:${attempts[0]?.id}`);
    assert.equal(fees?.legs[0]?.amount, fee);
  });

  test('manual capture in part releases the rest; the balance endpoint reads the ledger', async () => {
    const authorized = await pay({
      amount: 1_000,
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      connector: 'stripe',
    });
    assert.equal(authorized.body.status, 'requires_capture');
    assert.equal(authorized.body.amount_capturable, 1_000);
    const tooMuch = await call(
      server,
      'POST',
      `/v1/payment_intents/${authorized.body.id}/capture`,
      { key, body: { amount_to_capture: 1_001 } },
    );
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.body.error?.param, 'amount_to_capture');
    const captured = await call(
      server,
      'POST',
      `/v1/payment_intents/${authorized.body.id}/capture`,
      { key, body: { amount_to_capture: 600 } },
    );
    assert.equal(captured.status, 200, JSON.stringify(captured.body));
    assert.equal(captured.body.status, 'succeeded');
    assert.equal(captured.body.amount_received, 600);
    assert.equal(captured.body.amount_capturable, 0);
    const attempt = attemptsOf(captured.body)[0];
    const hold = await server.context.ledger.getHold(`auth:${attempt?.id}`);
    assert.equal(hold?.status, 'posted');
    const again = await call(server, 'POST', `/v1/payment_intents/${authorized.body.id}/capture`, {
      key,
      body: {},
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error?.code, 'payment_intent_unexpected_state');
    const truth = await groundTruth(attempt?.id);
    assert.equal(truth.payments[0]?.captured, 600);
    const balance = await call(server, 'GET', '/v1/balance', { key });
    assert.equal(balance.body.object, 'balance');
    assert.ok(
      (balance.body.pending as { currency: string; amount: number }[]).some(
        (entry) => entry.currency === 'usd' && entry.amount > 0,
      ),
    );
  });

  test('repeated partial refunds until the captured amount is used up, then a clear refusal', async () => {
    const paid = await pay({ amount: 1_000, payment_method: 'pm_card_visa', connector: 'stripe' });
    const first = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id, amount: 300, reason: 'requested_by_customer' },
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.status, 'succeeded');
    const second = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id, amount: 700 },
    });
    assert.equal(second.body.status, 'succeeded');
    const third = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id, amount: 1 },
    });
    assert.equal(third.status, 400);
    assert.equal(third.body.error?.code, 'charge_already_refunded');
    const intent = await call(server, 'GET', `/v1/payment_intents/${paid.body.id}`, { key });
    assert.equal(intent.body.amount_refunded, 1_000);
    const truth = await groundTruth(attemptsOf(paid.body)[0]?.id);
    assert.equal(truth.payments[0]?.refunded, 1_000);
    const listed = await call(server, 'GET', `/v1/refunds?payment_intent=${paid.body.id}`, { key });
    assert.deepEqual(
      (listed.body.data as { id: string }[]).map((refund) => refund.id),
      [second.body.id, first.body.id],
      'newest first',
    );
    // Paging one at a time: forward from the newest, then back again.
    const older = await call(
      server,
      'GET',
      `/v1/refunds?payment_intent=${paid.body.id}&limit=1&starting_after=${second.body.id}`,
      { key },
    );
    assert.deepEqual(
      [(older.body.data as { id: string }[]).map((refund) => refund.id), older.body.has_more],
      [[first.body.id], false],
    );
    const newer = await call(
      server,
      'GET',
      `/v1/refunds?payment_intent=${paid.body.id}&limit=1&ending_before=${first.body.id}`,
      { key },
    );
    assert.deepEqual(
      [(newer.body.data as { id: string }[]).map((refund) => refund.id), newer.body.has_more],
      [[second.body.id], false],
    );
  });

  test('a decline is a 402 card error and leaves the intent ready for another payment method', async () => {
    const declined = await pay({
      amount: 500,
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      connector: 'stripe',
    });
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error?.type, 'card_error');
    assert.equal(declined.body.error?.code, 'card_declined');
    assert.equal(declined.body.error?.decline_code, 'insufficient_funds');
    // Like Stripe's card errors, the error carries the PaymentIntent as the decline left it.
    const carried = declined.body.error?.payment_intent as
      { id: string; status: string; last_payment_error: { decline_code: string } } | undefined;
    assert.equal(carried?.status, 'requires_payment_method');
    assert.equal(carried?.last_payment_error.decline_code, 'insufficient_funds');
    const intents = await call(server, 'GET', '/v1/payment_intents?limit=1', { key });
    const latest = (
      intents.body.data as {
        id: string;
        status: string;
        last_payment_error: { decline_code: string };
      }[]
    )[0];
    assert.equal(latest?.id, carried?.id);
    assert.equal(latest?.status, 'requires_payment_method');
    assert.equal(latest?.last_payment_error.decline_code, 'insufficient_funds');
    const retried = await call(server, 'POST', `/v1/payment_intents/${latest?.id}/confirm`, {
      key,
      body: { payment_method: 'pm_card_visa' },
    });
    assert.equal(retried.body.status, 'succeeded');
    assert.equal(attemptsOf(retried.body).length, 2);
  });

  // Hard declines at each simulated PSP, in its own wire format (sim/CONTRACT.md): the decline
  // code reaches the merchant, nothing is charged and nothing is posted.
  const declines = [
    ['lost card', 'pm_card_chargeDeclinedLostCard', 'lost_card'],
    ['stolen card', 'pm_card_chargeDeclinedStolenCard', 'stolen_card'],
    ['generic', 'pm_card_chargeDeclined', 'generic_decline'],
  ] as const;
  const connectors = [
    ['stripe', 'usd'],
    ['razorpay', 'inr'],
    ['paytm', 'inr'],
  ] as const;
  for (const [name, card, declineCode] of declines) {
    for (const [connector, currency] of connectors) {
      test(`a ${name} decline at ${connector}: 402 ${declineCode}, the attempt failed, nothing charged or posted`, async () => {
        const declined = await pay({ amount: 1_900, currency, payment_method: card, connector });
        assert.equal(declined.status, 402, JSON.stringify(declined.body));
        assert.equal(declined.body.error?.type, 'card_error');
        assert.equal(declined.body.error?.code, 'card_declined');
        assert.equal(declined.body.error?.decline_code, declineCode);
        const id = String(declined.body.error?.payment_intent?.id);
        const intent = await call(server, 'GET', `/v1/payment_intents/${id}`, { key });
        assert.equal(intent.body.status, 'requires_payment_method');
        assert.equal(intent.body.amount_received, 0);
        assert.equal(intent.body.amount_capturable, 0);
        assert.equal(
          (intent.body.last_payment_error as { decline_code: string } | null)?.decline_code,
          declineCode,
        );
        const attempts = attemptsOf(intent.body);
        assert.equal(attempts.length, 1, 'a hard decline is not failed over');
        assert.equal(attempts[0]?.connector, connector);
        assert.equal(attempts[0]?.status, 'failed');
        assert.equal(attempts[0]?.decline_code, declineCode);
        assert.deepEqual(await postingsOf(attempts[0]?.id ?? ''), { posted: [], waiting: 0n });
        const truth = await groundTruth(attempts[0]?.id);
        assert.deepEqual(
          truth.operations.map((operation) => [operation.type, operation.status, operation.amount]),
          [['authorize', 'declined', 1_900]],
        );
        assert.deepEqual(
          truth.payments.map((payment) => [payment.authorized, payment.captured]),
          [[0, 0]],
          'the PSP charged nothing',
        );
      });
    }
  }

  test('a PSP 500 with no connector to fail over to: processing, nothing charged; sync fails it once the PSP never saw it', async () => {
    // One connector requested; and a currency only stripe takes (razorpay and paytm have no jpy;
    // it is read from the registry, so that a PSP added cannot become a fallback), so routing has one.
    const requested = await pay({
      amount: 2_100,
      payment_method: 'pm_card_pspError',
      connector: 'stripe',
    });
    const routed = await pay({
      amount: 2_100,
      currency: onlyStripeCurrency(),
      payment_method: 'pm_card_pspError',
    });
    const ids: string[] = [];
    for (const answer of [requested, routed]) {
      // A 5xx is an unknown outcome (decision 14), never a decline: the PSP may have acted.
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.status, 'processing');
      assert.equal(answer.body.amount_received, 0);
      const attempts = attemptsOf(answer.body);
      assert.deepEqual(
        attempts.map((attempt) => [attempt.connector, attempt.status]),
        [['stripe', 'unknown']],
      );
      const attemptId = attempts[0]?.id ?? '';
      assert.deepEqual(
        await groundTruth(attemptId),
        { operations: [], payments: [], webhooks: [] },
        'the PSP recorded nothing',
      );
      assert.deepEqual(await postingsOf(attemptId), { posted: [], waiting: 0n });
      ids.push(String(answer.body.id));
    }
    // Past PAYRAIL_NEVER_SEEN_AFTER_MS on the merchant's clock, without waiting for it.
    await advanceClock(server, 2, { merchant: merchantId });
    for (const id of ids) {
      const synced = await call(server, 'POST', `/v1/payment_intents/${id}/sync`, {
        key,
        body: {},
      });
      assert.equal(synced.status, 200, JSON.stringify(synced.body));
      assert.equal(synced.body.status, 'requires_payment_method');
      assert.deepEqual(
        attemptsOf(synced.body).map((attempt) => [attempt.status, attempt.psp_code]),
        [['failed', 'not_found']],
      );
      assert.equal(
        (synced.body.last_payment_error as { code: string } | null)?.code,
        'processing_error',
        'the card was not declined',
      );
      assert.deepEqual(await postingsOf(attemptsOf(synced.body)[0]?.id ?? ''), {
        posted: [],
        waiting: 0n,
      });
    }
  });

  test('Razorpay-like partial refunds: two in part, a third over what is left refused before the PSP, then the rest', async () => {
    const paid = await pay({
      amount: 3_000,
      currency: 'inr',
      payment_method: 'pm_card_visa',
      connector: 'razorpay',
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    const reference = attemptsOf(paid.body)[0]?.id ?? '';
    assert.deepEqual(await postingsOf(reference), {
      posted: [`capture:${reference}`, `fee:${reference}`],
      waiting: 0n,
    });
    const refunds: Call[] = [];
    for (const amount of [1_000, 1_500]) {
      const refund = await call(server, 'POST', '/v1/refunds', {
        key,
        body: { payment_intent: paid.body.id, amount },
      });
      assert.equal(refund.status, 200, JSON.stringify(refund.body));
      assert.deepEqual(
        [refund.body.status, refund.body.amount, refund.body.currency],
        ['succeeded', amount, 'inr'],
      );
      refunds.push(refund);
    }
    const tooMuch = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id, amount: 501 },
    });
    assert.equal(tooMuch.status, 400, JSON.stringify(tooMuch.body));
    assert.equal(tooMuch.body.error?.code, 'amount_too_large');
    assert.equal(tooMuch.body.error?.param, 'amount');
    let truth = await groundTruth(reference);
    assert.deepEqual(
      truth.operations
        .filter((operation) => operation.type === 'refund')
        .map((operation) => operation.amount),
      [1_000, 1_500],
    );
    assert.equal(truth.payments[0]?.refunded, 2_500);
    assert.equal(
      (await call(server, 'GET', `/v1/payment_intents/${paid.body.id}`, { key })).body
        .amount_refunded,
      2_500,
    );
    for (const refund of refunds) {
      const posting = await server.context.ledger.getTransaction(
        `refund:${String(refund.body.id)}`,
      );
      assert.equal(posting?.legs[0]?.amount, BigInt(Number(refund.body.amount)));
    }
    const rest = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id },
    });
    assert.deepEqual([rest.status, rest.body.status, rest.body.amount], [200, 'succeeded', 500]);
    truth = await groundTruth(reference);
    assert.deepEqual([truth.payments[0]?.captured, truth.payments[0]?.refunded], [3_000, 3_000]);
    assert.equal(
      (await call(server, 'GET', `/v1/payment_intents/${paid.body.id}`, { key })).body
        .amount_refunded,
      3_000,
    );
  });

  for (const [name, card] of [
    ['a PSP timeout', 'pm_card_pspTimeout'],
    ['a lost response', 'pm_card_pspLostResponse'],
  ] as const) {
    test(`${name} leaves the payment processing; sync finds it captured, once`, async () => {
      const response = await pay({ amount: 777, payment_method: card, connector: 'stripe' });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.status, 'processing');
      assert.equal(attemptsOf(response.body)[0]?.status, 'unknown');
      const synced = await call(server, 'POST', `/v1/payment_intents/${response.body.id}/sync`, {
        key,
        body: {},
      });
      assert.equal(synced.body.status, 'succeeded', JSON.stringify(synced.body));
      const attemptId = attemptsOf(synced.body)[0]?.id ?? '';
      const truth = await groundTruth(attemptId);
      assert.equal(truth.payments.length, 1);
      assert.equal(truth.payments[0]?.captured, 777);
      assert.equal(
        (await server.context.ledger.getTransaction(`capture:${attemptId}`))?.legs[0]?.amount,
        777n,
      );
    });
  }

  test('a partial refund through the Paytm-like connector is refused before any PSP call', async () => {
    const paid = await pay({
      amount: 5_000,
      currency: 'inr',
      payment_method: 'pm_card_visa',
      connector: 'paytm',
    });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    const partial = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id, amount: 100 },
    });
    assert.equal(partial.status, 400);
    assert.equal(partial.body.error?.code, 'capability_not_supported');
    assert.equal(partial.body.error?.param, 'amount');
    const truth = await groundTruth(attemptsOf(paid.body)[0]?.id);
    assert.equal(truth.operations.filter((operation) => operation.type === 'refund').length, 0);
    const full = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id },
    });
    assert.equal(full.body.status, 'succeeded', JSON.stringify(full.body));
  });

  test('the Razorpay-like connector refuses a partial capture; cancel releases the hold', async () => {
    const authorized = await pay({
      amount: 2_000,
      currency: 'inr',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      connector: 'razorpay',
    });
    assert.equal(authorized.body.status, 'requires_capture', JSON.stringify(authorized.body));
    const partial = await call(
      server,
      'POST',
      `/v1/payment_intents/${authorized.body.id}/capture`,
      { key, body: { amount_to_capture: 1_000 } },
    );
    assert.equal(partial.status, 400);
    assert.equal(partial.body.error?.code, 'capability_not_supported');
    const canceled = await call(
      server,
      'POST',
      `/v1/payment_intents/${authorized.body.id}/cancel`,
      { key },
    );
    assert.equal(canceled.body.status, 'canceled', JSON.stringify(canceled.body));
    const hold = await server.context.ledger.getHold(`auth:${attemptsOf(canceled.body)[0]?.id}`);
    assert.equal(hold?.status, 'voided');
  });

  test('a Stripe-like cancel voids at the PSP', async () => {
    const authorized = await pay({
      amount: 3_000,
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      connector: 'stripe',
    });
    const canceled = await call(
      server,
      'POST',
      `/v1/payment_intents/${authorized.body.id}/cancel`,
      { key, body: { cancellation_reason: 'requested_by_customer' } },
    );
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.cancellation_reason, 'requested_by_customer');
    const truth = await groundTruth(attemptsOf(canceled.body)[0]?.id);
    assert.equal(truth.payments[0]?.voided, true);
  });

  test('form-encoded bodies work the way Stripe SDKs send them', async () => {
    const response = await call(server, 'POST', '/v1/payment_intents', {
      key,
      contentType: 'application/x-www-form-urlencoded',
      rawBody:
        'amount=2500&currency=usd&confirm=true&payment_method=pm_card_mastercard&metadata[order_id]=A-17&capture_method=automatic',
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.status, 'succeeded');
    assert.deepEqual(response.body.metadata, { order_id: 'A-17' });
  });

  test('a replay returns the stored response; other parameters with the same key are refused', async () => {
    const first = await pay(
      { amount: 4_200, payment_method: 'pm_card_visa' },
      { idempotencyKey: 'order-4200' },
    );
    const replay = await pay(
      { amount: 4_200, payment_method: 'pm_card_visa' },
      { idempotencyKey: 'order-4200' },
    );
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    const different = await pay(
      { amount: 4_201, payment_method: 'pm_card_visa' },
      { idempotencyKey: 'order-4200' },
    );
    assert.equal(different.status, 400);
    assert.equal(different.body.error?.type, 'idempotency_error');
    const truth = await groundTruth(attemptsOf(first.body)[0]?.id);
    assert.equal(truth.operations.filter((operation) => operation.type === 'authorize').length, 1);
  });

  test("merchant isolation: on every payments route, another merchant's objects answer exactly like missing ones and nothing changes", async (t) => {
    const shared = '4000056655665556';
    // B's own business, before A's: B's balance must not move with anything A does below.
    const own = await pay(
      { amount: 1_500, payment_method: 'pm_card_visa' },
      { merchantKey: otherKey },
    );
    assert.equal(own.body.status, 'succeeded', JSON.stringify(own.body));
    const otherBalance = await call(server, 'GET', '/v1/balance', { key: otherKey });
    const balanceBefore = await call(server, 'GET', '/v1/balance', { key });

    // A's objects, each in a state where B's operation would have had an effect.
    const paid = await pay({ amount: 900, payment_method: 'pm_card_visa' });
    const refund = await call(server, 'POST', '/v1/refunds', {
      key,
      body: { payment_intent: paid.body.id, amount: 100 },
    });
    const held = await pay({
      amount: 800,
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      connector: 'stripe',
    });
    const draft = await pay({ amount: 700, payment_method: 'pm_card_visa', confirm: false });
    const unresolved = await pay({
      amount: 600,
      payment_method: 'pm_card_pspLostResponse',
      connector: 'stripe',
    });
    const method = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: { type: 'card', card: { number: shared, exp_month: 1, exp_year: 2032 } },
    });
    // A payment A's review rule holds, with its open review.
    const reviewRule = await call(server, 'POST', '/v1/radar/rules', {
      key,
      body: { rule: 'review if :amount: = 777' },
    });
    assert.equal(reviewRule.status, 200, JSON.stringify(reviewRule.body));
    const reviewed = await pay({ amount: 777, payment_method: 'pm_card_visa' });
    await call(server, 'POST', `/v1/radar/rules/${String(reviewRule.body.id)}`, {
      key,
      body: { status: 'disabled' },
    });
    assert.equal(reviewed.body.status, 'requires_capture', JSON.stringify(reviewed.body));
    assert.deepEqual(
      [
        paid.body.status,
        refund.body.status,
        held.body.status,
        draft.body.status,
        unresolved.body.status,
        method.status,
      ],
      ['succeeded', 'succeeded', 'requires_capture', 'requires_confirmation', 'processing', 200],
    );
    const ids = {
      paid: String(paid.body.id),
      refund: String(refund.body.id),
      charge: String(paid.body.latest_charge),
      held: String(held.body.id),
      draft: String(draft.body.id),
      unresolved: String(unresolved.body.id),
      method: String(method.body.id),
      review: String(reviewed.body.review),
      // Items are settlement's to make: one of A's is written here as settlement writes it.
      txn: (
        await seedItems(server.context.database, server.context.ledger, [
          {
            merchantId,
            type: 'charge',
            amount: 900n,
            availableOn: new Date(Date.now() + 86_400_000),
            source: String(paid.body.id),
          },
        ])
      )[0]?.id as string,
    };
    const missing: typeof ids = {
      paid: 'pi_0000000000missing00000a',
      refund: 're_0000000000missing00000b',
      charge: 'ch_0000000000missing00000h',
      held: 'pi_0000000000missing00000c',
      draft: 'pi_0000000000missing00000d',
      unresolved: 'pi_0000000000missing00000e',
      method: 'pm_0000000missing0000f',
      review: 'prv_0000000000missing00000i',
      txn: 'txn_0000000missing0000g',
    };
    const balanceAfter = await call(server, 'GET', '/v1/balance', { key });
    assert.notDeepEqual(balanceAfter.body, balanceBefore.body, "A's payments moved A's balance");

    const notFound = (param: string) => (answer: Call) => {
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.deepEqual(
        [answer.body.error?.type, answer.body.error?.code, answer.body.error?.param],
        ['invalid_request_error', 'resource_missing', param],
      );
    };
    const listsNoneOfA = (answer: Call) => {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const listed = (answer.body.data as { id: string }[]).map((item) => item.id);
      assert.deepEqual(
        listed.filter((id) => Object.values(ids).includes(id)),
        [],
      );
    };
    // One row per request B tries. `request` takes A's ids; each row whose request names an
    // object of A's is sent again with missing ids, and both answers must be the same.
    type Row = {
      route: string;
      request: (of: typeof ids) => { method: string; path: string; body?: unknown };
      expect: (answer: Call) => void;
    };
    const table: Row[] = [
      {
        route: 'POST /v1/payment_intents',
        request: (of) => ({
          method: 'POST',
          path: '/v1/payment_intents',
          body: { amount: 100, currency: 'usd', payment_method: of.method, confirm: true },
        }),
        expect: notFound('payment_method'),
      },
      {
        route: 'GET /v1/payment_intents',
        request: () => ({ method: 'GET', path: '/v1/payment_intents?limit=100' }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(
            (answer.body.data as { id: string }[]).map((item) => item.id),
            [own.body.id],
            'B lists its own intent, only',
          );
        },
      },
      {
        route: 'GET /v1/payment_intents/:id',
        request: (of) => ({ method: 'GET', path: `/v1/payment_intents/${of.paid}` }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/payment_intents/:id',
        request: (of) => ({
          method: 'POST',
          path: `/v1/payment_intents/${of.draft}`,
          body: { amount: 100, metadata: { taken: 'yes' }, expand: ['payment_method'] },
        }),
        expect: notFound('id'),
      },
      {
        route: 'GET /v1/payment_intents/search',
        request: () => ({
          method: 'GET',
          path: `/v1/payment_intents/search?query=${encodeURIComponent('amount>0')}&limit=100`,
        }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(
            (answer.body.data as { id: string }[]).map((item) => item.id),
            [own.body.id],
            'B finds its own intent, only',
          );
        },
      },
      {
        route: 'GET /v1/charges/search',
        request: () => ({
          method: 'GET',
          path: `/v1/charges/search?query=${encodeURIComponent('amount>0')}&limit=100`,
        }),
        expect: listsNoneOfA,
      },
      {
        route: 'POST /v1/payment_intents/:id/confirm',
        request: (of) => ({
          method: 'POST',
          path: `/v1/payment_intents/${of.draft}/confirm`,
          body: { payment_method: 'pm_card_visa' },
        }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/payment_intents/:id/capture',
        request: (of) => ({
          method: 'POST',
          path: `/v1/payment_intents/${of.held}/capture`,
          body: { amount_to_capture: 500 },
        }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/payment_intents/:id/cancel',
        request: (of) => ({
          method: 'POST',
          path: `/v1/payment_intents/${of.held}/cancel`,
          body: {},
        }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/payment_intents/:id/sync',
        request: (of) => ({
          method: 'POST',
          path: `/v1/payment_intents/${of.unresolved}/sync`,
          body: {},
        }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/refunds',
        request: (of) => ({
          method: 'POST',
          path: '/v1/refunds',
          body: { payment_intent: of.paid, amount: 100 },
        }),
        expect: notFound('payment_intent'),
      },
      {
        route: 'GET /v1/refunds',
        request: () => ({ method: 'GET', path: '/v1/refunds?limit=100' }),
        expect: listsNoneOfA,
      },
      {
        // Stripe documents this filter only as "refunds for the PaymentIntent specified" and says
        // nothing of an unknown id; Payrail answers an empty list, for an intent of A's exactly as
        // for one that does not exist.
        route: 'GET /v1/refunds',
        request: (of) => ({ method: 'GET', path: `/v1/refunds?payment_intent=${of.paid}` }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(answer.body.data, []);
        },
      },
      {
        route: 'GET /v1/refunds/:id',
        request: (of) => ({ method: 'GET', path: `/v1/refunds/${of.refund}` }),
        expect: notFound('id'),
      },
      {
        route: 'GET /v1/refunds',
        request: (of) => ({ method: 'GET', path: `/v1/refunds?charge=${of.charge}` }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(answer.body.data, []);
        },
      },
      {
        route: 'POST /v1/refunds',
        request: (of) => ({ method: 'POST', path: '/v1/refunds', body: { charge: of.charge } }),
        expect: notFound('charge'),
      },
      {
        route: 'POST /v1/refunds/:id',
        request: (of) => ({
          method: 'POST',
          path: `/v1/refunds/${of.refund}`,
          body: { metadata: { taken: 'yes' } },
        }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/refunds/:id/cancel',
        request: (of) => ({ method: 'POST', path: `/v1/refunds/${of.refund}/cancel`, body: {} }),
        expect: notFound('id'),
      },
      {
        route: 'GET /v1/charges',
        request: () => ({ method: 'GET', path: '/v1/charges?limit=100' }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(
            (answer.body.data as { id: string }[]).map((item) => item.id),
            [own.body.latest_charge],
            'B lists its own charge, only',
          );
        },
      },
      {
        route: 'GET /v1/charges',
        request: (of) => ({ method: 'GET', path: `/v1/charges?payment_intent=${of.paid}` }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(answer.body.data, []);
        },
      },
      {
        route: 'GET /v1/charges',
        request: (of) => ({ method: 'GET', path: `/v1/charges?starting_after=${of.charge}` }),
        expect: notFound('starting_after'),
      },
      {
        route: 'GET /v1/charges/:id',
        request: (of) => ({ method: 'GET', path: `/v1/charges/${of.charge}` }),
        expect: notFound('id'),
      },
      {
        // Fingerprints are per merchant (decision 16): B vaulting A's card learns nothing that links them.
        route: 'POST /v1/payment_methods',
        request: () => ({
          method: 'POST',
          path: '/v1/payment_methods',
          body: { type: 'card', card: { number: shared, exp_month: 1, exp_year: 2032 } },
        }),
        expect: (answer) => {
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          assert.notEqual(answer.body.id, ids.method);
          assert.notEqual(
            (answer.body.card as { fingerprint: string }).fingerprint,
            (method.body.card as { fingerprint: string }).fingerprint,
          );
        },
      },
      {
        route: 'GET /v1/payment_methods/:id',
        request: (of) => ({ method: 'GET', path: `/v1/payment_methods/${of.method}` }),
        expect: notFound('id'),
      },
      {
        route: 'GET /v1/balance_transactions',
        request: () => ({ method: 'GET', path: '/v1/balance_transactions?limit=100' }),
        expect: (answer) => {
          listsNoneOfA(answer);
          // B's own capture is B's only balance transaction.
          assert.deepEqual(
            (answer.body.data as { source: string }[]).map((item) => item.source),
            [own.body.id],
          );
        },
      },
      {
        route: 'GET /v1/balance_transactions',
        request: (of) => ({ method: 'GET', path: `/v1/balance_transactions?source=${of.paid}` }),
        expect: (answer) => assert.deepEqual(answer.body.data, []),
      },
      {
        route: 'GET /v1/balance_transactions',
        request: (of) => ({
          method: 'GET',
          path: `/v1/balance_transactions?starting_after=${of.txn}`,
        }),
        expect: notFound('starting_after'),
      },
      {
        route: 'GET /v1/balance_transactions/:id',
        request: (of) => ({ method: 'GET', path: `/v1/balance_transactions/${of.txn}` }),
        expect: notFound('id'),
      },
      {
        route: 'GET /v1/reviews',
        request: () => ({ method: 'GET', path: '/v1/reviews?limit=100' }),
        expect: (answer) => {
          listsNoneOfA(answer);
          assert.deepEqual(answer.body.data, []);
        },
      },
      {
        route: 'GET /v1/reviews',
        request: (of) => ({ method: 'GET', path: `/v1/reviews?starting_after=${of.review}` }),
        expect: notFound('starting_after'),
      },
      {
        route: 'GET /v1/reviews/:id',
        request: (of) => ({ method: 'GET', path: `/v1/reviews/${of.review}` }),
        expect: notFound('id'),
      },
      {
        route: 'POST /v1/reviews/:id/approve',
        request: (of) => ({ method: 'POST', path: `/v1/reviews/${of.review}/approve`, body: {} }),
        expect: notFound('id'),
      },
      {
        route: 'GET /v1/balance',
        request: () => ({ method: 'GET', path: '/v1/balance' }),
        expect: (answer) =>
          assert.deepEqual(answer.body, otherBalance.body, "A's payments did not move B's balance"),
      },
    ];
    assert.deepEqual(
      [...new Set(table.map((row) => row.route))].sort(),
      paymentRoutes(server).sort(),
      'the table covers every route of src/http/routes/payments.ts',
    );

    const database = server.context.database;
    const snapshot = async () => ({
      intents: await Promise.all(
        [ids.paid, ids.held, ids.draft, ids.unresolved].map(
          async (id) => (await call(server, 'GET', `/v1/payment_intents/${id}`, { key })).body,
        ),
      ),
      refunds: (await call(server, 'GET', '/v1/refunds?limit=100', { key })).body,
      events: (await call(server, 'GET', '/v1/events?limit=100', { key })).body,
      balance: (await call(server, 'GET', '/v1/balance', { key })).body,
      rows: (
        await database.query(`SELECT (SELECT count(*) FROM payment_intents) AS intents, (SELECT count(*) FROM payment_attempts) AS attempts,
        (SELECT count(*) FROM refunds) AS refunds, (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM ledger_transactions) AS ledger_transactions,
        (SELECT count(*) FROM ledger_outbox) AS ledger_outbox`)
      ).rows,
      truth: await groundTruth(),
    });
    const before = await snapshot();
    // An answer as text without its request id: for A's objects, with A's ids put back to the missing ones.
    const shown = (answer: Call, named: typeof ids) => {
      let text = JSON.stringify({
        status: answer.status,
        body: {
          ...answer.body,
          error:
            answer.body.error === undefined
              ? undefined
              : { ...answer.body.error, request_id: undefined },
        },
      });
      for (const [name, id] of Object.entries(named))
        text = text.replaceAll(id, missing[name as keyof typeof ids]);
      return text;
    };
    for (const row of table) {
      const request = row.request(ids);
      await t.test(`B: ${request.method} ${request.path}`, async () => {
        const answer = await call(server, request.method, request.path, {
          key: otherKey,
          body: request.body,
        });
        row.expect(answer);
        const forMissing = row.request(missing);
        if (JSON.stringify(forMissing) === JSON.stringify(request)) return;
        assert.equal(
          shown(answer, ids),
          shown(
            await call(server, forMissing.method, forMissing.path, {
              key: otherKey,
              body: forMissing.body,
            }),
            missing,
          ),
        );
      });
    }
    assert.deepEqual(
      await snapshot(),
      before,
      "B's refused requests changed nothing in Payrail or at the PSP",
    );

    // The refusals were about whose objects these are: A can do each of these.
    const captured = await call(server, 'POST', `/v1/payment_intents/${ids.held}/capture`, {
      key,
      body: { amount_to_capture: 500 },
    });
    assert.equal(captured.body.status, 'succeeded', JSON.stringify(captured.body));
    const confirmed = await call(server, 'POST', `/v1/payment_intents/${ids.draft}/confirm`, {
      key,
      body: { payment_method: 'pm_card_visa' },
    });
    assert.equal(confirmed.body.status, 'succeeded', JSON.stringify(confirmed.body));
    const synced = await call(server, 'POST', `/v1/payment_intents/${ids.unresolved}/sync`, {
      key,
      body: {},
    });
    assert.equal(synced.body.status, 'succeeded', JSON.stringify(synced.body));
    const item = await call(server, 'GET', `/v1/balance_transactions/${ids.txn}`, { key });
    assert.equal(item.body.source, ids.paid, JSON.stringify(item.body));
    const listed = await call(server, 'GET', `/v1/refunds?payment_intent=${ids.paid}`, { key });
    assert.deepEqual(
      (listed.body.data as { id: string }[]).map((item) => item.id),
      [ids.refund],
    );
  });

  test("Idempotency-Keys are scoped per merchant: B reusing A's keys gets its own results", async () => {
    const requests = {
      a1: { amount: 4_100, payment_method: 'pm_card_visa' },
      a2: { amount: 4_200, payment_method: 'pm_card_visa' },
      b2: { amount: 2_300, payment_method: 'pm_card_mastercard' },
    };
    const ofA1 = await pay(requests.a1, { idempotencyKey: 'isolation-order-1' });
    const ofA2 = await pay(requests.a2, { idempotencyKey: 'isolation-order-2' });
    assert.deepEqual([ofA1.status, ofA2.status], [200, 200]);
    // A's exact request under A's key: B must get a payment of its own, not A's stored response.
    const ofB1 = await pay(requests.a1, {
      idempotencyKey: 'isolation-order-1',
      merchantKey: otherKey,
    });
    // A different request under A's other key: B's own result, not an idempotency_error.
    const ofB2 = await pay(requests.b2, {
      idempotencyKey: 'isolation-order-2',
      merchantKey: otherKey,
    });
    for (const [answer, amount, ofA] of [
      [ofB1, 4_100, ofA1],
      [ofB2, 2_300, ofA2],
    ] as const) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.headers.get('idempotent-replayed'), null);
      assert.notEqual(answer.body.id, ofA.body.id);
      assert.deepEqual([answer.body.status, answer.body.amount], ['succeeded', amount]);
      const truth = await groundTruth(attemptsOf(answer.body)[0]?.id);
      assert.equal(truth.payments[0]?.captured, amount, 'B was charged for its own request');
      assert.equal(
        (await call(server, 'GET', `/v1/payment_intents/${String(answer.body.id)}`, { key }))
          .status,
        404,
        "the intent is B's, not A's",
      );
    }
    // Each merchant's key replays that merchant's own stored response.
    const replays = [
      [key, 'isolation-order-1', requests.a1, ofA1],
      [key, 'isolation-order-2', requests.a2, ofA2],
      [otherKey, 'isolation-order-1', requests.a1, ofB1],
      [otherKey, 'isolation-order-2', requests.b2, ofB2],
    ] as const;
    for (const [merchantKey, idempotencyKey, request, stored] of replays) {
      const replay = await pay(request, { idempotencyKey, merchantKey });
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replay.body, stored.body);
    }
  });

  test('a posting the ledger refuses stays in the outbox and is reported, and changes nothing', async () => {
    const database = server.context.database;
    await database.query(
      `INSERT INTO ledger_outbox (merchant_id, connector, currency, transfers) VALUES ('mch_nobody', 'stripe', 'usd', $1::jsonb)`,
      [
        JSON.stringify([
          {
            kind: 'post_pending',
            id: 'capture:pa_nothing',
            pendingId: 'auth:pa_nothing',
            amount: '5',
          },
        ]),
      ],
    );
    assert.equal(await server.context.payments.sweepLedgerOutbox(0), 1);
    const left = await database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM ledger_outbox',
    );
    assert.equal(left.rows[0]?.count, 1n);
    assert.equal(await server.context.ledger.getTransaction('capture:pa_nothing'), undefined);
    assert.ok(
      server.logs.some(
        (line) =>
          line.includes('the ledger refused a payment posting') &&
          line.includes('pending_not_found'),
      ),
    );
    await database.query('DELETE FROM ledger_outbox');
  });

  test('the ledger verifies after all of the above', async () => {
    const report = await verifyLedger(server.context.database);
    assert.deepEqual(report.problems, []);
  });

  test('no card number of the flows above reached a log line of the server or the simulator', () => {
    const logs = server.logs.join('') + simulator.output.join('');
    assert.ok(server.logs.length > 10, 'the server logged');
    const pans = [
      '4242424242424242',
      '5555555555554444',
      '4000056655665556',
      '4000000000009995',
      '4000000000009987',
      '4000000000009979',
      '4000000000000002',
      '4000009990000013',
      '4000009990000021',
      '4000009990000039',
    ];
    for (const pan of pans) assert.ok(!logs.includes(pan), `${pan} in the logs`);
  });
});

describe("operators set a merchant's connectors", () => {
  let simulator: RunningProcess;
  let server: TestServer;
  let stack: SimulatedStack;
  let merchant: { id: string; key: string };

  before(async () => {
    stack = await startSimulatedStack();
    ({ simulator, server } = stack);
    merchant = await stack.merchant('Routed shop');
  });
  after(() => stack.stop());

  test('a new test-mode merchant has every simulated PSP; disabling one takes it out of routing', async () => {
    const listed = await call(server, 'GET', `/v1/admin/merchants/${merchant.id}/connectors`, {
      key: testAdminKey,
    });
    const names = (listed.body.data as { connector: string; api_key_hint: string }[]).map(
      (entry) => entry.connector,
    );
    assert.deepEqual(
      names,
      connectorModules.map((module) => module.name),
    );
    assert.deepEqual(names.slice(0, 3), ['stripe', 'razorpay', 'paytm']);
    assert.ok(!JSON.stringify(listed.body).includes('sim_secret'), 'secrets are not shown');
    const disabled = await call(
      server,
      'PUT',
      `/v1/admin/merchants/${merchant.id}/connectors/stripe`,
      {
        key: testAdminKey,
        body: {
          enabled: false,
          priority: 10,
          base_url: `${simulator.url}/stripe`,
          api_key: 'sk_test_sim',
        },
      },
    );
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key: merchant.key,
      body: { amount: 1_000, currency: 'inr', payment_method: 'pm_card_visa', confirm: true },
    });
    assert.equal(
      paid.body.connector,
      'razorpay',
      'stripe is disabled, razorpay is next by priority',
    );
    const refused = await call(server, 'POST', '/v1/payment_intents', {
      key: merchant.key,
      body: { amount: 1_000, currency: 'usd', payment_method: 'pm_card_visa', connector: 'stripe' },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.code, 'no_connector_available');
    const unknown = await call(
      server,
      'PUT',
      `/v1/admin/merchants/${merchant.id}/connectors/acme`,
      {
        key: testAdminKey,
        body: { enabled: true, priority: 1, base_url: 'http://127.0.0.1:1', api_key: 'k' },
      },
    );
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error?.param, 'connector');
  });

  test('no card number reached the log lines of this server', () => {
    const logs = server.logs.join('');
    for (const pan of ['4242424242424242', '5555555555554444', '4000000000009995'])
      assert.ok(!logs.includes(pan), `${pan} in the logs`);
  });
});
