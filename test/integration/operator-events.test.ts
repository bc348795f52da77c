// The operator's event channel (migration 029, src/merchants/platform.ts): the admin key reaches the
// platform account's events and webhook endpoints under /v1/admin; the platform account is no
// merchant (not listed, not retrievable, no keys), and no merchant key reaches its objects.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { call, startTestServer, testAdminKey, type TestServer } from '../support/server.ts';
import { createMerchantKey } from '../support/merchants.ts';
import { waitFor } from '../support/wait.ts';

describe('operator events and webhook endpoints', () => {
  let server: TestServer;
  let merchantKey: string;
  before(async () => {
    server = await startTestServer('pglite', { PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1' });
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

  test("a new reconciliation exception reaches the operator's endpoint, signed", async () => {
    const received: { type: string; object: Record<string, unknown> }[] = [];
    let secret = '';
    const receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          const event = new Webhook(secret).verify(
            Buffer.concat(chunks).toString('utf8'),
            request.headers as Record<string, string>,
          ) as { type: string; data: { object: Record<string, unknown> } };
          received.push({ type: event.type, object: event.data.object });
          response.writeHead(200).end();
        } catch {
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const endpoint = await call(server, 'POST', '/v1/admin/webhook_endpoints', {
        key: testAdminKey,
        body: {
          url: `http://127.0.0.1:${port}/ops`,
          enabled_events: ['reconciliation_exception.created'],
        },
      });
      assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
      secret = String(endpoint.body.secret);
      // A PSP report of payments this platform never had: each line is unexpected.
      const report = await readFile('src/settlement/reports/fixtures/adyen_batch_42.csv');
      const uploaded = await fetch(`${server.url}/v1/reconciliation/files?name=adyen.csv`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'text/csv' },
        body: report,
      });
      assert.equal(uploaded.status, 201);
      const run = await call(server, 'POST', '/v1/reconciliation/runs', {
        key: testAdminKey,
        body: {},
      });
      assert.equal(run.status, 201, JSON.stringify(run.body));
      const exceptions = await call(server, 'GET', '/v1/reconciliation/exceptions?limit=100', {
        key: testAdminKey,
      });
      const ids = (exceptions.body.data as { id: string }[]).map((exception) => exception.id);
      assert.ok(ids.length > 0);
      const delivered = await waitFor('the exceptions delivered to the operator', () =>
        received.length >= ids.length ? received : undefined,
      );
      assert.deepEqual(
        delivered.map((event) => event.type),
        ids.map(() => 'reconciliation_exception.created'),
      );
      assert.deepEqual(delivered.map((event) => event.object.id).sort(), [...ids].sort());
      const merchantEvents = await call(server, 'GET', '/v1/events?limit=100', {
        key: merchantKey,
      });
      assert.deepEqual(merchantEvents.body.data, [], 'a merchant sees none of them');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test('an upload that stalls holds no transaction: other requests are answered meanwhile', async () => {
    const url = new URL('/v1/reconciliation/files?name=slow.xml', server.url);
    const request = http.request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/xml' },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
    });
    const report = await readFile('src/banking/fixtures/statement_2026-12-08.xml', 'utf8');
    const cut = report.indexOf('\n') + 1;
    request.write(report.slice(0, cut));
    // The client has sent the header and stops. On the embedded database (one session), a
    // transaction open for the upload would make this wait until the upload ends.
    const listed = await call(server, 'GET', '/v1/reconciliation/runs', { key: testAdminKey });
    assert.equal(listed.status, 200);
    request.end(report.slice(cut));
    const done = await answered;
    assert.equal(done.status, 201, done.body);
    assert.equal((JSON.parse(done.body) as { status: string }).status, 'ingested');
  });
});
