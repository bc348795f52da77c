// The operator's money-out run over HTTP: the steps run in the order money travels and report what
// they completed; a part runs only its steps; bad input names the field and runs nothing; the
// route is the operator's only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMerchantKey } from '../support/merchants.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

describe('operator money-out run', () => {
  let server: TestServer;
  let merchantKey: string;

  before(async () => {
    server = await startTestServer('pglite');
    merchantKey = (await createMerchantKey(server)).key;
  });
  after(() => server.stop());

  const run = (body: unknown, key = testAdminKey) =>
    call(server, 'POST', '/v1/admin/money_out/run', { key, body });

  test('the whole pipeline by default, each step with its count; a part runs only its steps', async () => {
    const all = await run({});
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.part, 'all');
    // No body at all (as `curl -X POST` sends it): the defaults, everything.
    const bodiless = await run(undefined);
    assert.equal(bodiless.status, 200, JSON.stringify(bodiless.body));
    assert.equal(bodiless.body.part, 'all');
    const steps = all.body.steps as { name: string; completed: number }[];
    assert.deepEqual(
      steps.map((step) => step.name),
      [
        'settlement_close',
        'settlement_submit',
        'psp_reports',
        'bank_statements',
        'availability',
        'reserve_releases',
        'payouts_create',
        'payouts_send',
      ],
    );
    // Nothing was captured: nothing to do.
    assert.ok(
      steps.every((step) => step.completed === 0),
      JSON.stringify(steps),
    );
    const payouts = await run({ part: 'payouts' });
    assert.deepEqual(
      (payouts.body.steps as { name: string }[]).map((step) => step.name),
      ['payouts_create', 'payouts_send'],
    );
  });

  test('bad input names the field; a merchant key is refused', async () => {
    const bad = await run({ part: 'everything' });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    const error = bad.body.error as { param?: string };
    assert.equal(error.param, 'part');
    const extra = await run({ part: 'all', now: 1 });
    assert.equal(extra.status, 400, JSON.stringify(extra.body));
    const merchant = await run({}, merchantKey);
    assert.ok([401, 403, 404].includes(merchant.status), `merchant key got ${merchant.status}`);
  });
});
