// The simulator as a process: its startup line, signals, bad configuration, and the bound on
// stored payments (SIM_MAX_PAYMENTS) answered with 503 in each PSP's wording.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  CARDS,
  PAYTM_MID,
  admin,
  at,
  groundTruth,
  paytm,
  paytmOrder,
  razorpay,
  razorpayPayment,
  startSimProcess,
  stripe,
  stripeIntent,
  text,
  type SimProcess,
} from './support.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

let sim: SimProcess;
before(async () => {
  sim = await startSimProcess({ SIM_MAX_PAYMENTS: '3' });
});
after(async () => {
  if (sim.child.exitCode === null) await sim.stop();
});

describe('bounded store', () => {
  test('past SIM_MAX_PAYMENTS every PSP answers 503 and records nothing; reset frees room', async () => {
    const captured = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa));
    await razorpay(sim, '/v1/payments/create/json', razorpayPayment(CARDS.insufficientFunds));
    await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.visa));
    const stripeFull = await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa), {
      key: 'full-1',
    });
    assert.equal(stripeFull.status, 503);
    assert.equal(at(stripeFull.body, 'error', 'type'), 'api_error');
    const razorpayFull = await razorpay(
      sim,
      '/v1/payments/create/json',
      razorpayPayment(CARDS.visa),
    );
    assert.equal(razorpayFull.status, 503);
    assert.equal(at(razorpayFull.body, 'error', 'code'), 'SERVER_ERROR');
    const paytmFull = await paytm(sim, '/v3/order/pay', paytmOrder(CARDS.visa));
    assert.equal(paytmFull.status, 503);
    assert.equal(at(paytmFull.body, 'body', 'resultInfo', 'resultStatus'), 'TXN_FAILURE');
    assert.equal((await groundTruth(sim)).payments.length, 3);
    const refund = await stripe(sim, '/v1/refunds', {
      payment_intent: text(captured.body, 'id'),
      amount: '100',
    });
    assert.equal(refund.status, 200, 'refunds have their own bound');
    assert.equal(
      (await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa), { key: 'full-1' }))
        .status,
      503,
      'a 503 is not stored',
    );
    await admin(sim, 'POST', '/reset');
    assert.equal(
      (await stripe(sim, '/v1/payment_intents', stripeIntent(CARDS.visa), { key: 'full-1' }))
        .status,
      200,
    );
    const status = await paytm(sim, '/v3/order/status', { mid: PAYTM_MID, orderId: 'NONE' });
    assert.equal(at(status.body, 'body', 'resultInfo', 'resultCode'), '334');
  });
});

describe('process', () => {
  test('prints its URL and exits 0 on SIGINT', async () => {
    const other = await startSimProcess();
    assert.match(other.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const exited = once(other.child, 'exit');
    other.child.kill('SIGINT');
    assert.deepEqual((await exited).slice(0, 1), [0]);
  });

  test('exits 0 on SIGTERM while a delayed answer is pending', async () => {
    const other = await startSimProcess({ SIM_TIMEOUT_DELAY_MS: '60000' });
    const pending = stripe(other, '/v1/payment_intents', stripeIntent(CARDS.timeout)).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await other.stop(), 0);
    assert.equal(await pending, 'dropped');
  });

  test('refuses a bad SIM_PORT with exit code 2', async () => {
    const child = spawn(process.execPath, ['sim/main.ts'], {
      cwd: repositoryRoot,
      env: { ...process.env, SIM_PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /SIM_PORT/);
  });

  test('a port in use is a clear error with exit code 1', async () => {
    const port = new URL(sim.url).port;
    const child = spawn(process.execPath, ['sim/main.ts'], {
      cwd: repositoryRoot,
      env: { ...process.env, SIM_PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(stderr, /cannot listen/);
  });
});
