import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PaymentOutcome } from '../connectors/types.ts';
import { classifyOutcome, SuccessRateTracker } from './success-rate.ts';

describe('SuccessRateTracker', () => {
  test('no samples: no rate', () => {
    const tracker = new SuccessRateTracker();
    assert.deepEqual(tracker.stats('stripe'), { samples: 0, successes: 0, rate: undefined });
    assert.equal(tracker.rate('stripe'), undefined);
  });

  test('rate over the recorded outcomes, per connector', () => {
    const tracker = new SuccessRateTracker({ now: () => 0 });
    for (const result of ['success', 'success', 'success', 'failure'] as const)
      tracker.record('stripe', result);
    tracker.record('paytm', 'failure');
    assert.deepEqual(tracker.stats('stripe'), { samples: 4, successes: 3, rate: 0.75 });
    assert.equal(tracker.rate('paytm'), 0);
  });

  test('count window: only the last samplesMax outcomes count', () => {
    const tracker = new SuccessRateTracker({ now: () => 0, samplesMax: 10 });
    for (let index = 0; index < 10; index++) tracker.record('stripe', 'failure');
    assert.equal(tracker.rate('stripe'), 0);
    for (let index = 0; index < 7; index++) tracker.record('stripe', 'success');
    assert.deepEqual(tracker.stats('stripe'), { samples: 10, successes: 7, rate: 0.7 });
    for (let index = 0; index < 25; index++) tracker.record('stripe', 'success');
    assert.deepEqual(tracker.stats('stripe'), { samples: 10, successes: 10, rate: 1 });
  });

  test('time window: samples older than windowMs stop counting', () => {
    let nowMs = 1_000;
    const tracker = new SuccessRateTracker({ now: () => nowMs, windowMs: 10_000 });
    tracker.record('stripe', 'failure');
    nowMs = 6_000;
    tracker.record('stripe', 'success');
    assert.deepEqual(tracker.stats('stripe'), { samples: 2, successes: 1, rate: 0.5 });
    nowMs = 11_000;
    assert.deepEqual(
      tracker.stats('stripe'),
      { samples: 2, successes: 1, rate: 0.5 },
      'exactly windowMs old still counts',
    );
    nowMs = 11_001;
    assert.deepEqual(tracker.stats('stripe'), { samples: 1, successes: 1, rate: 1 });
    nowMs = 20_000;
    assert.deepEqual(tracker.stats('stripe'), { samples: 0, successes: 0, rate: undefined });
    tracker.record('stripe', 'failure');
    assert.deepEqual(tracker.stats('stripe'), { samples: 1, successes: 0, rate: 0 });
  });

  test('a bounded number of connectors, and valid options', () => {
    const tracker = new SuccessRateTracker({ connectorsMax: 2 });
    tracker.record('a', 'success');
    tracker.record('b', 'success');
    tracker.record('a', 'failure');
    assert.throws(() => tracker.record('c', 'success'), /more than 2 connectors/);
    assert.throws(() => new SuccessRateTracker({ samplesMax: 0 }), /samplesMax/);
    assert.throws(() => new SuccessRateTracker({ windowMs: 0 }), /windowMs/);
    tracker.reset();
    assert.equal(tracker.rate('a'), undefined);
  });
});

describe('what counts for the success rate', () => {
  const cases: [string, PaymentOutcome, 'success' | 'failure' | 'ignored'][] = [
    ['authorized', { status: 'authorized' }, 'success'],
    ['captured', { status: 'captured' }, 'success'],
    ['unknown (timeout)', { status: 'unknown', pspCode: 'timeout' }, 'failure'],
    ['unknown (5xx)', { status: 'unknown', pspCode: 'http_500' }, 'failure'],
    ['soft decline', { status: 'failed', declineCode: 'do_not_honor' }, 'failure'],
    [
      'PSP refusal without decline code',
      { status: 'failed', pspCode: 'api_key_invalid' },
      'failure',
    ],
    [
      'processing error',
      { status: 'failed', declineCode: 'generic_decline', pspCode: 'processing_error' },
      'failure',
    ],
    [
      'hard decline: insufficient funds',
      { status: 'failed', declineCode: 'insufficient_funds' },
      'ignored',
    ],
    ['hard decline: stolen card', { status: 'failed', declineCode: 'stolen_card' }, 'ignored'],
    ['pending', { status: 'pending' }, 'ignored'],
    ['voided', { status: 'voided' }, 'ignored'],
  ];
  for (const [name, outcome, expected] of cases) {
    test(`${name} → ${expected}`, () => {
      assert.equal(classifyOutcome('stripe', outcome), expected);
      const tracker = new SuccessRateTracker({ now: () => 0 });
      assert.equal(tracker.recordOutcome('stripe', outcome), expected);
      assert.equal(tracker.stats('stripe').samples, expected === 'ignored' ? 0 : 1);
    });
  }
});
