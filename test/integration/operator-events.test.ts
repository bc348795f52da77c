// The operator's event channel (migration 029, src/merchants/platform.ts): the admin key reaches the
// platform account's events and webhook endpoints under /v1/admin; the platform account is no
// merchant (not listed, not retrievable, no keys), and no merchant key reaches its objects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';
import { createMerchantKey } from '../support/merchants.ts';

describe('operator events and webhook endpoints', () => {
  let server: TestServer;
  let merchantKey: string;
  before(async () => {
    server = await startTestServer();
    merchantKey = (await createMerchantKey(server, 'Shop')).key;
  });
  after(() => server.stop());

  test('the admin key manages the platform account webhook endpoints; a merchant sees none', async () => {
    const created = await call(server, 'POST', '/v1/admin/webhook_endpoints', {
      key: testAdminKey,
      body: {
        url: 'https://ops.example.com/payrail',
        enabled_events: ['reconciliation_exception.created'],
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.match(String(created.body.id), /^we_/);
    const listed = await call(server, 'GET', '/v1/admin/webhook_endpoints', { key: testAdminKey });
    assert.deepEqual(
      (listed.body.data as { id: string }[]).map((endpoint) => endpoint.id),
      [created.body.id],
    );
    assert.equal(listed.body.url, '/v1/admin/webhook_endpoints');
    const asMerchant = await call(
      server,
      'GET',
      `/v1/webhook_endpoints/${String(created.body.id)}`,
      {
        key: merchantKey,
      },
    );
    assert.equal(asMerchant.status, 404);
    const unknownEvent = await call(server, 'POST', '/v1/admin/webhook_endpoints', {
      key: testAdminKey,
      body: { url: 'https://ops.example.com/x', enabled_events: ['no_such.event'] },
    });
    assert.equal(unknownEvent.status, 400);
  });

  test('the admin events list is the platform account own, and needs the admin key', async () => {
    const events = await call(server, 'GET', '/v1/admin/events', { key: testAdminKey });
    assert.equal(events.status, 200, JSON.stringify(events.body));
    assert.deepEqual(events.body.data, []);
    const withMerchantKey = await call(server, 'GET', '/v1/admin/events', { key: merchantKey });
    assert.equal(withMerchantKey.status, 401);
  });

  test('the platform account is no merchant: not listed, not found, gets no keys', async () => {
    const listed = await call(server, 'GET', '/v1/admin/merchants?limit=100', {
      key: testAdminKey,
    });
    assert.ok(!(listed.body.data as { id: string }[]).some((m) => m.id === 'mch_platform'));
    const found = await call(server, 'GET', '/v1/admin/merchants/mch_platform', {
      key: testAdminKey,
    });
    assert.equal(found.status, 404);
    const keys = await call(server, 'POST', '/v1/admin/merchants/mch_platform/keys', {
      key: testAdminKey,
      body: {},
    });
    assert.equal(keys.status, 404);
  });
});
