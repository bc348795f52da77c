// Pure parts of the simulator: form parsing, JSON helpers, cards, PRNG and fault draws, Paytm
// amounts; plus startSimulator in-process (the other files run the real process).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { handleAdmin } from '../../sim/admin.ts';
import {
  TEST_CARDS,
  cardOutcome,
  isLuhnValid,
  normalizeCardNumber,
  parseExpiryYear,
} from '../../sim/cards.ts';
import { FaultInjector, Faults, mulberry32, parseFaultSettings } from '../../sim/faults.ts';
import { FormError, formFingerprint, parseForm } from '../../sim/form.ts';
import { canonicalJson, rawMemberText } from '../../sim/json.ts';
import { formatMajor, readMajor } from '../../sim/psps/paytm.ts';
import { startSimulator } from '../../sim/server.ts';
import { MoneyOut } from '../../sim/money-out/index.ts';
import { PSPS } from '../../sim/psps/registry.ts';
import { SimStore } from '../../sim/store.ts';
import { Webhooks } from '../../sim/webhooks.ts';

describe('form parsing', () => {
  test('bracket notation nests; [] appends; + and percent-encoding decode', () => {
    const parsed = parseForm('a=1&b[c]=2&b[d][e]=x+y&f[]=4&f[]=5&g%5Bh%5D=%C3%A9&empty=');
    assert.deepEqual(JSON.parse(JSON.stringify(parsed)), {
      a: '1',
      b: { c: '2', d: { e: 'x y' } },
      f: ['4', '5'],
      g: { h: 'é' },
      empty: '',
    });
  });

  test('objects have no prototype: __proto__ is an ordinary key', () => {
    const parsed = parseForm('__proto__[polluted]=1&constructor[prototype][x]=2');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(parsed), null);
  });

  test('conflicts, bad names, bad encoding, depth and count are FormErrors', () => {
    for (const body of [
      'a=1&a[b]=2',
      'a[b]=1&a=2',
      'a[b=1',
      '[a]=1',
      'a[]=1&a[b]=2',
      '%E0%A4%A=1',
      'a[b][c][d][e][f][g]=1',
      'x=1&'.repeat(600),
    ]) {
      assert.throws(() => parseForm(body), FormError, body);
    }
  });

  test('the fingerprint ignores pair order', () => {
    assert.equal(formFingerprint('b=2&a=1'), formFingerprint('a=1&b=2'));
    assert.notEqual(formFingerprint('a=1&b=2'), formFingerprint('a=1&b=3'));
  });
});

describe('JSON helpers', () => {
  test('rawMemberText returns the exact source text of a top-level member', () => {
    const text =
      '{ "head" : {"signature":"a\\"}"} ,\n "body":  {"x": [1, {"y": "}"}], "z": "q"} , "tail": 3 }';
    assert.equal(rawMemberText(text, 'body'), '{"x": [1, {"y": "}"}], "z": "q"}');
    assert.equal(rawMemberText(text, 'tail'), '3');
    assert.equal(rawMemberText(text, 'missing'), undefined);
    assert.equal(rawMemberText('[1]', 'body'), undefined);
    assert.equal(
      rawMemberText('{"body":1,"body":{"a":2}}', 'body'),
      '{"a":2}',
      'the last one, as JSON.parse',
    );
  });

  test('canonicalJson sorts keys at every level', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }),
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });
});

describe('cards', () => {
  test('every test card and the approved brands pass Luhn', () => {
    for (const number of [
      ...TEST_CARDS.keys(),
      '4242424242424242',
      '5555555555554444',
      '378282246310005',
    ])
      assert.ok(isLuhnValid(number), number);
    assert.equal(isLuhnValid('4242424242424241'), false);
    assert.equal(normalizeCardNumber('4242 4242 4242 4242'), '4242424242424242');
    assert.equal(normalizeCardNumber('42424242'), undefined);
    assert.deepEqual(cardOutcome('4000000000009995'), {
      kind: 'decline',
      code: 'insufficient_funds',
    });
    assert.deepEqual(cardOutcome('4111111111111111'), { kind: 'approve' });
    assert.equal(parseExpiryYear('30'), 2030);
    assert.equal(parseExpiryYear(1999), undefined);
  });
});

describe('faults', () => {
  test('mulberry32 is repeatable and spreads over [0, 1)', () => {
    const first = mulberry32(42);
    const second = mulberry32(42);
    const values = Array.from({ length: 1000 }, () => first());
    assert.deepEqual(
      Array.from({ length: 1000 }, () => second()),
      values,
    );
    assert.ok(values.every((value) => value >= 0 && value < 1));
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, String(mean));
  });

  test('draws repeat for a seed; rates hold roughly; normal latency is clamped', () => {
    const parsed = parseFaultSettings({
      seed: 7,
      errorRate: 0.2,
      lostResponseRate: 0.1,
      timeoutRate: 0.1,
      latency: { distribution: 'normal', meanMs: 50, stddevMs: 20, minMs: 10, maxMs: 90 },
    });
    assert.ok(parsed.ok);
    const draws = (): string[] => {
      const injector = new FaultInjector();
      injector.configure(parsed.settings);
      return Array.from({ length: 2000 }, () => JSON.stringify(injector.draw(true)));
    };
    const first = draws();
    assert.deepEqual(draws(), first);
    const decoded = first.map(
      (text) =>
        JSON.parse(text) as { latencyMs: number; error: boolean; lost: boolean; timeout: boolean },
    );
    const errors = decoded.filter((draw) => draw.error).length / decoded.length;
    assert.ok(Math.abs(errors - 0.2) < 0.04, String(errors));
    assert.ok(decoded.every((draw) => draw.latencyMs >= 10 && draw.latencyMs <= 90));
    assert.ok(decoded.every((draw) => !(draw.lost && draw.timeout)));
    const mean = decoded.reduce((sum, draw) => sum + draw.latencyMs, 0) / decoded.length;
    assert.ok(Math.abs(mean - 50) < 3, String(mean));
  });

  test('without settings nothing is drawn', () => {
    assert.deepEqual(new FaultInjector().draw(true), {
      latencyMs: 0,
      error: false,
      lost: false,
      timeout: false,
    });
  });
});

describe('paytm amounts', () => {
  test('decimal strings to paise and back', () => {
    assert.equal(readMajor('10.00'), 1000);
    assert.equal(readMajor('10.5'), 1050);
    assert.equal(readMajor('7'), 700);
    assert.equal(readMajor('0.01'), 1);
    for (const bad of ['0', '0.00', '-1', '1.234', '1e3', ' 1', 10, '', '1.'])
      assert.equal(readMajor(bad), undefined, String(bad));
    assert.equal(formatMajor(1050), '10.50');
    assert.equal(formatMajor(1), '0.01');
    assert.equal(formatMajor(99_999_999_999), '999999999.99');
  });
});

test('the ground truth is written in chunks that join into one JSON document', () => {
  const store = new SimStore();
  const book = store.book<null, null>('stripe');
  for (let index = 0; index < 4500; index += 1) {
    book.authorize({
      id: `pi_${index}`,
      reference: `att_${index}`,
      amount: 100 + index,
      currency: 'usd',
      captureMode: index % 2 === 0 ? 'automatic' : 'manual',
      details: null,
    });
  }
  const response = handleAdmin(
    {
      store,
      faults: new Faults(PSPS),
      webhooks: new Webhooks(),
      moneyOut: new MoneyOut(store, PSPS),
    },
    'GET',
    ['ground-truth'],
    '',
    '',
  );
  assert.ok('chunks' in response);
  const chunks = [...response.chunks];
  assert.ok(chunks.length > 4);
  const truth = JSON.parse(chunks.join('')) as {
    operations: { seq: number }[];
    payments: { paymentId: string; captured: number }[];
  };
  assert.equal(truth.operations.length, 4500 + 2250);
  assert.equal(truth.payments.length, 4500);
  assert.equal(truth.payments[4499]?.paymentId, 'pi_4499');
  assert.equal(truth.payments[2]?.captured, 102);
});

test('startSimulator runs in-process too', async () => {
  const simulator = await startSimulator({ port: 0, timeoutDelayMs: 100 });
  try {
    const response = await fetch(`${simulator.url}/_sim/health`);
    assert.deepEqual(await response.json(), { status: 'ok' });
  } finally {
    await simulator.close();
  }
});
