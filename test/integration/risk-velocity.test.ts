// Velocity on the payment path, with Redis (a redis-server of this test's own): payments counted
// from their charge events, a velocity rule that blocks the third payment of a card within the
// hour and lets it through again once the test clock has moved the window on; then Redis killed
// in the middle of the run: payments go on (risk_level unknown for the missing attributes, never
// a silent block), the metric counts it, nothing crashes; Redis back, velocity is back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { advanceClock } from '../support/clock.ts';
import { freePort } from '../support/ports.ts';
import { killRedisServer, startRedisServer, type RedisServer } from '../support/redis.ts';
import { call } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { waitUntil } from '../support/wait.ts';

describe('velocity on payments, with Redis going away mid-run', () => {
  let redis: RedisServer;
  let port: number;
  let stack: SimulatedStack;
  let key: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    port = await freePort();
    redis = await startRedisServer(port);
    stack = await startSimulatedStack({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    ({ key } = await stack.merchant('Velocity shop'));
    const rule = await call(stack.server, 'POST', '/v1/radar/rules', {
      key,
      body: { rule: 'block if :total_charges_per_card_number_hourly: >= 2' },
    });
    assert.equal(rule.status, 200, JSON.stringify(rule.body));
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await stack?.stop();
    if (redis !== undefined) await killRedisServer(redis);
  });

  const pay = (number: string) =>
    call(stack.server, 'POST', '/v1/payment_intents', {
      key,
      body: {
        amount: 2_500,
        currency: 'usd',
        confirm: true,
        payment_method_data: {
          type: 'card',
          card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
        },
      },
    });

  const outcomeOf = async (intent: Record<string, unknown>) => {
    const charge = await call(stack.server, 'GET', `/v1/charges/${String(intent.latest_charge)}`, {
      key,
    });
    return charge.body.outcome as { type: string; risk_level: string; rule?: string };
  };

  /** The velocity consumer has handled every charge event so far (they go through the bus). */
  const counted = () =>
    waitUntil('every charge event counted by velocity', async () => {
      const pending = await stack.server.context.database.query<{ left: string }>(
        `SELECT count(*)::text AS left FROM events e
          WHERE e.type IN ('charge.succeeded', 'charge.failed')
            AND NOT EXISTS (SELECT 1 FROM event_inbox i
                             WHERE i.consumer = 'risk_velocity' AND i.event_id = e.id)`,
      );
      return pending.rows[0]?.left === '0';
    });

  test('the third payment of a card within the hour is blocked; an hour later it goes through', async () => {
    const card = '4000056655665556';
    for (let index = 0; index < 2; index++) {
      const paid = await pay(card);
      assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
      await counted();
    }
    const third = await pay(card);
    assert.equal(third.status, 402);
    assert.equal(third.body.error?.decline_code, 'fraudulent');
    const blocked = await outcomeOf(third.body.error?.payment_intent as Record<string, unknown>);
    assert.equal(blocked.type, 'blocked');
    // Another card is not affected.
    assert.equal((await pay('5555555555554444')).body.status, 'succeeded');
    await counted();
    // The window slides with the clock: an hour and a minute later the card has no charges in it.
    await advanceClock(stack.server, 3_660);
    const later = await pay(card);
    assert.equal(later.body.status, 'succeeded', JSON.stringify(later.body));
    assert.equal((await outcomeOf(later.body)).risk_level, 'normal');
  });

  test('Redis killed: payments go on with risk_level unknown, the metric counts; Redis back, velocity is back', async () => {
    await killRedisServer(redis);
    const during = await pay('4242424242424242');
    assert.equal(during.body.status, 'succeeded', JSON.stringify(during.body));
    assert.equal((await outcomeOf(during.body)).risk_level, 'unknown');
    const metrics = await (await fetch(`${stack.server.url}/metrics`)).text();
    const unavailable = /payrail_risk_velocity_unavailable_total\{reason="[a-z_]+"\} (\d+)/.exec(
      metrics,
    );
    assert.ok(Number(unavailable?.[1] ?? 0) >= 1, 'the metric counted the decision');
    redis = await startRedisServer(port);
    // A new card each try: the same card paid again and again would meet the merchant's velocity
    // rule (a third payment within the hour is blocked) once its charges are counted, however
    // fast the machine brings Redis back.
    const cards = [
      '5555555555554444',
      '2223003122003222',
      '5200828282828210',
      '5105105105105100',
      '6011111111111117',
      '6011000990139424',
      '3056930009020004',
      '36227206271667',
    ];
    let tries = 0;
    await waitUntil('velocity back once Redis is', async () => {
      const after = await pay(cards[tries++ % cards.length] as string);
      assert.equal(after.status, 200, JSON.stringify(after.body));
      return (await outcomeOf(after.body)).risk_level === 'normal';
    });
    assert.deepEqual(unhandled, []);
  });
});
