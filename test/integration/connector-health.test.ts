// Connector health from end to end: payments through the simulator are counted by the server's
// connectors, written when the test clock's minute turns, and read back by series() and current().
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { advanceClock } from '../support/clock.ts';
import { call } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

describe('connector health of a running server', () => {
  let stack: SimulatedStack;

  before(async () => {
    stack = await startSimulatedStack();
  });
  after(() => stack.stop());

  test('payments are counted per connector and minute; declines are answers', async () => {
    const { server } = stack;
    const shop = await stack.merchant('Health shop');
    const health = server.runtime.connectorHealth;
    // Whatever this minute held before the payments (the server's start) is written first.
    await advanceClock(server, 60);
    await health.tick();
    const from = server.runtime.clock.now();
    for (const paymentMethod of ['pm_card_visa', 'pm_card_visa', 'pm_card_chargeDeclined']) {
      const paid = await call(server, 'POST', '/v1/payment_intents', {
        key: shop.key,
        body: { amount: 2_000, currency: 'usd', payment_method: paymentMethod, confirm: true },
      });
      assert.ok([200, 402].includes(paid.status), JSON.stringify(paid.body));
    }
    await advanceClock(server, 60);
    assert.ok((await health.tick()) >= 1, 'the minute is written');
    const series = await health.series({
      from,
      to: server.runtime.clock.now(),
      bucketSeconds: 60,
    });
    const calls = series.map((one) => ({
      connector: one.connector,
      calls: one.calls.reduce<number>((sum, value) => sum + (value ?? 0), 0),
      answered: one.successRate.some((rate) => rate === 1),
      p50: one.p50.find((value) => value !== null),
    }));
    // Stripe, the test merchant's first connector, took the three; a decline it answered may be
    // tried again on the next connector (soft declines), each such call counted there.
    const used = calls.filter((one) => one.calls > 0);
    assert.equal(calls.find((one) => one.connector === 'stripe')?.calls, 3, JSON.stringify(calls));
    assert.ok(used.every((one) => one.answered && typeof one.p50 === 'number'));
    const now = await health.current();
    assert.ok(now.length >= 4, 'every registered connector is listed');
    assert.ok(now.every((one) => one.breaker === 'closed'));
    assert.equal(now.find((one) => one.connector === 'stripe')?.calls, 3);
    assert.equal(now.find((one) => one.connector === 'stripe')?.successRate, 1);
  });
});
