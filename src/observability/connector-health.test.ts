import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OffsetClock } from '../clock.ts';
import { withResilience } from '../connectors/resilience.ts';
import { authorizeRequest } from '../connectors/testing.ts';
import type { CallContext, Connector, PaymentOutcome } from '../connectors/types.ts';
import { seededRandom } from '../random.ts';
import type { Database } from '../storage/database.ts';
import {
  databaseKinds,
  openTestDatabase,
  type TestDatabase,
} from '../../test/support/databases.ts';
import { LATENCY_BUCKETS, latencyBucket, quantileMs } from './connector-health-buckets.ts';
import { ConnectorHealth, ConnectorHealthRecorder } from './connector-health.ts';
import { ConnectorHealthStore } from './connector-health-store.ts';

describe('latency buckets', () => {
  test('bucket i holds (2^((i-1)/4), 2^(i/4)] ms; beyond 185 s is the last', () => {
    assert.equal(latencyBucket(Number.NaN), 0);
    assert.equal(latencyBucket(-3), 0);
    assert.equal(latencyBucket(0.2), 0);
    assert.equal(latencyBucket(1), 0);
    assert.equal(latencyBucket(1.01), 1);
    assert.equal(latencyBucket(2), 4);
    assert.equal(latencyBucket(2.01), 5);
    assert.equal(latencyBucket(1024), 40);
    assert.equal(latencyBucket(120_000), 68);
    assert.equal(latencyBucket(10_000_000), LATENCY_BUCKETS - 1);
  });

  test('a quantile read back lies within 19 % of the exact one', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 20; round++) {
      const samples = Array.from({ length: 1 + Math.floor(random() * 2000) }, () =>
        Math.exp(random() * 9),
      );
      const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
      for (const ms of samples)
        histogram[latencyBucket(ms)] = (histogram[latencyBucket(ms)] ?? 0) + 1;
      const sorted = [...samples].sort((a, b) => a - b);
      for (const q of [0.5, 0.99]) {
        const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
        const read = quantileMs(histogram, q) as number;
        assert.ok(Math.abs(read - exact) <= exact * 0.19 + 0.1, `q${q}: ${read} vs ${exact}`);
      }
    }
    assert.equal(quantileMs([], 0.5), null);
    assert.equal(quantileMs([0, 0, 0], 0.99), null);
  });
});

/** Answers from a script; each call "takes" no real time (latency is recorded around it). */
class ScriptedConnector implements Connector {
  readonly name: string;
  readonly capabilities = {
    paymentMethods: ['card'] as const,
    currencies: ['usd'],
    captureModes: ['automatic', 'manual'] as const,
    partialCapture: true,
    refunds: { full: true, partial: true, multiple: true },
    void: true,
    threeDSecure: false,
    webhooks: false,
    cardVerification: 'none' as const,
  };
  next: PaymentOutcome | Error = { status: 'authorized', pspReference: 'psp_1' };

  constructor(name: string) {
    this.name = name;
  }
  #answer(): Promise<PaymentOutcome> {
    const next = this.next;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
  authorize(): Promise<PaymentOutcome> {
    return this.#answer();
  }
  capture(): Promise<PaymentOutcome> {
    return this.#answer();
  }
  void(): Promise<PaymentOutcome> {
    return this.#answer();
  }
  refund(): Promise<never> {
    return Promise.reject(new Error('not scripted'));
  }
  sync(): Promise<PaymentOutcome> {
    return this.#answer();
  }
}

const context: CallContext = {
  credentials: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' },
  idempotencyKey: 'idem_1',
  timeoutMs: 1_000,
};

// 12:00:30 UTC: half a minute into a minute, so one minute's advance turns exactly one minute.
const start = Date.UTC(2026, 11, 6, 12, 0, 30);
const minute = 60_000;

for (const kind of databaseKinds) {
  describe(`connector health (${kind})`, () => {
    let handle: TestDatabase;
    let database: Database;

    before(async () => {
      handle = await openTestDatabase(kind);
      database = handle.database;
    });
    after(() => handle.drop());

    function parts(instance: string, clock = new OffsetClock(() => start)) {
      const recorder = new ConnectorHealthRecorder();
      const store = new ConnectorHealthStore(database);
      const health = new ConnectorHealth(store, { clock, recorder, instance });
      return { clock, recorder, store, health };
    }

    async function clear(): Promise<void> {
      await database.query('DELETE FROM connector_health');
    }

    test('calls are written at the minute boundary and read back as a series', async () => {
      await clear();
      const { clock, recorder, health } = parts('a');
      const psp = new ScriptedConnector('alpha');
      const connector = withResilience(psp, { maxAttempts: 1 }, undefined, recorder);
      await connector.authorize(authorizeRequest(), context);
      psp.next = { status: 'failed', pspCode: 'card_declined', declineCode: 'generic_decline' };
      await connector.authorize(authorizeRequest(), context);
      psp.next = { status: 'unknown', pspCode: 'timeout' };
      await connector.authorize(authorizeRequest(), context);
      psp.next = new Error('connector bug');
      await assert.rejects(connector.authorize(authorizeRequest(), context));
      // Latencies by hand into another connector's slot: exact values for p50/p99.
      const beta = recorder.slot('beta');
      for (let index = 0; index < 99; index++) beta.record(true, 100);
      beta.record(false, 5_000);

      assert.equal(await health.tick(), 0, 'the minute has not turned');
      assert.equal((await database.query('SELECT 1 FROM connector_health')).rows.length, 0);
      clock.advance(minute);
      assert.equal(await health.tick(), 2);
      assert.equal(await health.tick(), 0, 'written once');

      const from = new Date(start - 5 * minute);
      const to = new Date(start - 30_000 + 2 * minute);
      const series = await health.series({ from, to, bucketSeconds: 60 });
      assert.deepEqual(
        series.map((one) => one.connector),
        ['alpha', 'beta'],
      );
      const [alpha, betaSeries] = series as [(typeof series)[0], (typeof series)[0]];
      const at = alpha.timestamps.indexOf(Date.UTC(2026, 11, 6, 12, 0) / 1000);
      assert.equal(alpha.timestamps.length, 7);
      assert.equal(alpha.timestamps[0], Date.UTC(2026, 11, 6, 11, 55) / 1000);
      assert.equal(at, 5);
      // Authorized and declined were answers; the timeout and the throw were not.
      assert.equal(alpha.calls[at], 4);
      assert.equal(alpha.successRate[at], 0.5);
      assert.equal(alpha.breaker[at], 0);
      assert.equal(alpha.calls[at - 1], null, 'no row: a gap');
      assert.equal(alpha.successRate[at + 1], null);
      assert.equal(betaSeries.calls[at], 100);
      assert.equal(betaSeries.successRate[at], 0.99);
      const p50 = betaSeries.p50[at] as number;
      const p99 = betaSeries.p99[at] as number;
      // 100 ms lies in the bucket (90.5, 107.6] ms: quantiles are read within it.
      assert.ok(p50 > 90.5 && p50 <= 107.6, `p50 ${p50}`);
      assert.ok(p99 > 90.5 && p99 <= 107.6, `p99 ${p99} (the 99th of 100 calls took 100 ms)`);
      const one = await health.series({ connector: 'beta', from, to, bucketSeconds: 300 });
      assert.equal(one.length, 1);
      assert.deepEqual(one[0]?.timestamps, [
        Date.UTC(2026, 11, 6, 11, 55) / 1000,
        Date.UTC(2026, 11, 6, 12, 0) / 1000,
      ]);
      assert.deepEqual(one[0]?.calls, [null, 100]);
      // A connector with no row answers empty points, not nothing.
      const none = await health.series({ connector: 'gamma', from, to, bucketSeconds: 60 });
      assert.deepEqual(none[0]?.calls, new Array(7).fill(null));
    });

    test('the breaker opening is recorded, with the calls it then refused', async () => {
      await clear();
      const { clock, recorder, health } = parts('a');
      const psp = new ScriptedConnector('alpha');
      const connector = withResilience(
        psp,
        { maxAttempts: 1, breakerThreshold: 2, halfOpenAfterMs: 600_000 },
        undefined,
        recorder,
      );
      await connector.authorize(authorizeRequest(), context);
      clock.advance(minute);
      await health.tick();
      psp.next = { status: 'unknown', pspCode: 'http_503' };
      await connector.authorize(authorizeRequest(), context);
      await connector.authorize(authorizeRequest(), context);
      assert.equal(connector.breakerState(), 'open');
      await assert.rejects(connector.authorize(authorizeRequest(), context), {
        name: 'ConnectorUnavailableError',
      });
      clock.advance(minute);
      await health.tick();
      clock.advance(minute);
      await health.tick();
      const [alpha] = await health.series({
        from: new Date(start),
        to: new Date(start - 30_000 + 3 * minute),
        bucketSeconds: 60,
      });
      assert.deepEqual(alpha?.calls, [1, 2, 0]);
      assert.deepEqual(alpha?.rejected, [0, 1, 0]);
      assert.deepEqual(alpha?.successRate, [1, 0, null]);
      assert.deepEqual(alpha?.breaker, [0, 2, 2]);
      const now = await health.current();
      assert.deepEqual(
        now.map((one) => [one.connector, one.breaker, one.calls, one.successes]),
        [['alpha', 'open', 3, 1]],
      );
    });

    test('two processes on one database: counts add up, latency buckets merge exactly', async () => {
      await clear();
      const clock = new OffsetClock(() => start);
      const first = parts('first', clock);
      const second = parts('second', clock);
      for (let index = 0; index < 50; index++) first.recorder.slot('alpha').record(true, 10);
      for (let index = 0; index < 48; index++) second.recorder.slot('alpha').record(true, 10);
      second.recorder.slot('alpha').record(false, 3_000);
      second.recorder.slot('alpha').record(false, 3_000);
      clock.advance(minute);
      await first.health.tick();
      await second.health.tick();
      const [alpha] = await first.health.series({
        from: new Date(start),
        to: new Date(start - 30_000 + minute),
        bucketSeconds: 60,
      });
      assert.deepEqual(alpha?.calls, [100]);
      assert.deepEqual(alpha?.successRate, [0.98]);
      // p99 of the merged buckets: the 99th call of 100 is one of the 3 s ones. Neither process
      // alone (p99 10 ms and 3 s) nor the max of their p99s would say so by rule; the merge does.
      const p99 = alpha?.p99[0] as number;
      // 3 s lies in the bucket (2896, 3444] ms.
      assert.ok(p99 > 2_896 && p99 <= 3_444, `p99 ${p99}`);
      const p50 = alpha?.p50[0] as number;
      assert.ok(p50 > 9.5 && p50 <= 11.4, `p50 ${p50} (10 ms lies in (9.5, 11.3])`);
      const summaries = await first.health.current();
      assert.equal(summaries[0]?.calls, 100);
      assert.equal(summaries[0]?.successRate, 0.98);
    });

    test('current() covers the last 15 complete minutes; breaker now counts other processes', async () => {
      await clear();
      const clock = new OffsetClock(() => start);
      const here = parts('here', clock);
      here.recorder.slot('alpha').record(true, 10);
      here.recorder.slot('beta');
      clock.advance(minute);
      await here.health.tick();
      for (let step = 0; step < 15; step++) {
        here.recorder.slot('alpha').record(step % 2 === 0, 20);
        clock.advance(minute);
        await here.health.tick();
      }
      // Another process, whose breaker on beta is open as of its last row.
      const there = parts('there', clock);
      there.recorder.slot('beta').breaker('open');
      clock.advance(minute);
      await here.health.tick();
      await there.health.tick();
      const summaries = await here.health.current();
      const alpha = summaries.find((one) => one.connector === 'alpha');
      const beta = summaries.find((one) => one.connector === 'beta');
      assert.equal(alpha?.calls, 14, 'the first two minutes are out of the window');
      assert.equal(alpha?.successes, 7);
      assert.equal(alpha?.breaker, 'closed');
      assert.equal(beta?.calls, 0);
      assert.equal(beta?.successRate, null);
      assert.equal(beta?.p99, null);
      assert.equal(beta?.breaker, 'open');
    });

    test('rows older than the retention are pruned as the clock moves on', async () => {
      await clear();
      const { clock, recorder, health } = parts('a');
      const day = 24 * 60 * minute;
      const minutes = async () =>
        (
          await database.query<{ minute: Date }>(
            'SELECT minute FROM connector_health ORDER BY minute',
          )
        ).rows.map((row) => row.minute.getTime() - (start - 30_000));
      recorder.slot('alpha').record(true, 10);
      clock.advance(minute);
      await health.tick();
      clock.advance(6 * day);
      await health.tick();
      // Each row is the minute its counts were taken in: 12:00 and 12:01 of the first day.
      assert.deepEqual(await minutes(), [0, minute]);
      clock.advance(day + minute);
      await health.tick();
      // Now 12:02 seven days on: both first-day rows are older than 7 days; 12:01 six days on stays.
      assert.deepEqual(await minutes(), [6 * day + minute]);
    });

    test('a minute written twice adds up (a test clock reset backwards)', async () => {
      await clear();
      const store = new ConnectorHealthStore(database);
      const at = new Date(start - 30_000);
      const slot = (calls: number, latency: number[], breaker: number) => ({
        connector: 'alpha',
        calls,
        successes: calls,
        rejected: 0,
        latency,
        breaker,
        breakerWorst: breaker,
      });
      await store.write('a', at, [slot(2, [0, 1, 1], 2)]);
      await store.write('a', at, [slot(3, [0, 0, 1, 0, 2], 0)]);
      const rows = await database.query<{
        calls: number;
        latency: number[];
        breaker: number;
        breaker_worst: number;
      }>('SELECT calls, latency, breaker, breaker_worst FROM connector_health');
      assert.deepEqual(rows.rows, [
        { calls: 5, latency: [0, 1, 2, 0, 2], breaker: 0, breaker_worst: 2 },
      ]);
    });

    test('bounds: bucket width, range and points', async () => {
      const { health } = parts('a');
      const from = new Date(start);
      await assert.rejects(
        health.series({ from, to: new Date(start + minute), bucketSeconds: 90 }),
        { param: 'bucketSeconds' },
      );
      await assert.rejects(
        health.series({ from, to: new Date(start - minute), bucketSeconds: 60 }),
        { param: 'from' },
      );
      await assert.rejects(
        health.series({ from, to: new Date(start + 7 * 24 * 60 * minute), bucketSeconds: 60 }),
        /at most 2000/,
      );
      const week = await health.series({
        from,
        to: new Date(start + 7 * 24 * 60 * minute),
        bucketSeconds: 3600,
        connector: 'alpha',
      });
      assert.equal(week[0]?.timestamps.length, 169);
    });
  });
}
