// The operator's settlement routes over HTTP: cutoffs set and read back (with the next instant),
// batches listed and retrieved, a run on demand; bad input answers a 4xx naming the param and
// writes nothing; the routes are the operator's only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMerchantKey } from '../support/merchants.ts';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

describe('operator settlement routes', () => {
  let server: TestServer;
  let merchantKey: string;

  before(async () => {
    server = await startTestServer('pglite');
    merchantKey = (await createMerchantKey(server)).key;
  });
  after(() => server.stop());

  const admin = (method: string, path: string, body?: unknown) =>
    call(server, method, path, { key: testAdminKey, body });

  test('every connector has a cutoff (the default until set); a set one reads back', async () => {
    const listed = await admin('GET', '/v1/admin/settlement/cutoffs');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const data = listed.body.data as Record<string, unknown>[];
    assert.deepEqual(data.map((cutoff) => cutoff.connector).sort(), [
      'adyen',
      'paytm',
      'razorpay',
      'stripe',
    ]);
    assert.ok(
      data.every(
        (cutoff) =>
          cutoff.cutoff_time === '18:00:00' && cutoff.timezone === 'UTC' && cutoff.updated === null,
      ),
    );

    const set = await admin('PUT', '/v1/admin/settlement/cutoffs/adyen', {
      cutoff_time: '17:30',
      timezone: 'Europe/Berlin',
      capture_window_days: 10,
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.object, 'settlement_cutoff');
    assert.equal(set.body.cutoff_time, '17:30:00');
    assert.equal(set.body.capture_window_days, 10);
    const next = new Date(Number(set.body.next_cutoff_at) * 1000);
    assert.ok(next.getTime() > Date.now());
    assert.equal(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
      }).format(next),
      '17:30',
    );
    const read = await admin('GET', '/v1/admin/settlement/cutoffs/adyen');
    assert.deepEqual(read.body, set.body);
  });

  for (const [name, body, param] of [
    ['a time of day past 23:59', { cutoff_time: '24:00', timezone: 'UTC' }, 'cutoff_time'],
    ['no time of day', { cutoff_time: 'noon!', timezone: 'UTC' }, 'cutoff_time'],
    ['an unknown time zone', { cutoff_time: '18:00', timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    [
      'a capture window of 0 days',
      { cutoff_time: '18:00', timezone: 'UTC', capture_window_days: 0 },
      'capture_window_days',
    ],
    [
      'a capture window as text',
      { cutoff_time: '18:00', timezone: 'UTC', capture_window_days: '7' },
      'capture_window_days',
    ],
    ['no time zone', { cutoff_time: '18:00' }, 'timezone'],
    ['an unknown field', { cutoff_time: '18:00', timezone: 'UTC', extra: 1 }, 'extra'],
  ] as const)
    test(`PUT a cutoff with ${name}: 400 naming ${param}, nothing written`, async () => {
      const before = await admin('GET', '/v1/admin/settlement/cutoffs/stripe');
      const answer = await admin('PUT', '/v1/admin/settlement/cutoffs/stripe', body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      const error = answer.body.error as Record<string, unknown>;
      assert.equal(error.param, param, JSON.stringify(error));
      const afterwards = await admin('GET', '/v1/admin/settlement/cutoffs/stripe');
      assert.deepEqual(afterwards.body, before.body);
    });

  test('an unknown or malformed connector, batch or filter', async () => {
    const unknown = await admin('PUT', '/v1/admin/settlement/cutoffs/nopsp', {
      cutoff_time: '18:00',
      timezone: 'UTC',
    });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    assert.equal((await admin('GET', '/v1/admin/settlement/cutoffs/nopsp')).status, 404);
    assert.equal((await admin('GET', '/v1/admin/settlement/cutoffs/BAD!')).status, 400);
    const missing = await admin('GET', '/v1/admin/settlement/batches/sb_doesnotexist');
    assert.equal(missing.status, 404);
    assert.equal((missing.body.error as Record<string, unknown>).code, 'resource_missing');
    for (const query of [
      'status=done',
      'limit=0',
      'limit=101',
      `starting_after=sb_${'x'.repeat(100)}`,
      'color=red',
    ]) {
      const answer = await admin('GET', `/v1/admin/settlement/batches?${query}`);
      assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
    }
    const cursor = await admin(
      'GET',
      '/v1/admin/settlement/batches?starting_after=sb_doesnotexist',
    );
    assert.equal(cursor.status, 404);
  });

  test('a run with nothing due, and the empty list of batches', async () => {
    const run = await admin('POST', '/v1/admin/settlement/run');
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(
      [run.body.object, run.body.batches_opened, run.body.batches_submitted, run.body.more],
      ['settlement_run', 0, 0, false],
    );
    const listed = await admin(
      'GET',
      '/v1/admin/settlement/batches?status=closed&connector=stripe',
    );
    assert.equal(listed.status, 200);
    assert.deepEqual(
      [listed.body.object, listed.body.data, listed.body.has_more],
      ['list', [], false],
    );
  });

  test("the routes are the operator's: no key or a merchant's key is refused", async () => {
    for (const [method, path] of [
      ['GET', '/v1/admin/settlement/cutoffs'],
      ['PUT', '/v1/admin/settlement/cutoffs/stripe'],
      ['GET', '/v1/admin/settlement/batches'],
      ['GET', '/v1/admin/settlement/batches/sb_x'],
      ['POST', '/v1/admin/settlement/run'],
    ] as const) {
      assert.equal((await call(server, method, path)).status, 401, `${method} ${path}`);
      const asMerchant = await call(server, method, path, { key: merchantKey });
      assert.ok([401, 403].includes(asMerchant.status), `${method} ${path}: ${asMerchant.status}`);
    }
  });
});
