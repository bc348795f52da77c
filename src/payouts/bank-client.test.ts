// The bank client reads each answer the way the money rules need: 201 taken, 422 refused with the
// bank's code, 400 refused as unreadable (not executed: the payout fails), and everything that may
// hide an executed payout (409 for an id reused with other content, 5xx, 401, no answer) unknown,
// so the payout is sent again under the same id.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { httpBankClient } from './bank-client.ts';

const answers: Record<string, { status: number; body: unknown }> = {
  po_taken: {
    status: 201,
    body: {
      payout_id: 'po_taken',
      trace_id: '123456789012345',
      status: 'accepted',
      expected_on: '2026-12-07',
    },
  },
  po_refused: {
    status: 422,
    body: { payout_id: 'po_refused', status: 'rejected', failure_code: 'invalid_account_number' },
  },
  po_unreadable: { status: 400, body: { error: { code: 'invalid_request', field: 'account' } } },
  po_reused: { status: 409, body: { error: { code: 'payout_id_reused' } } },
  po_down: { status: 503, body: { error: { code: 'unavailable' } } },
};

let server: http.Server;
let baseUrl: string;

before(async () => {
  server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const id = (JSON.parse(text) as { payout_id: string }).payout_id;
      const answer = answers[id] ?? { status: 500, body: {} };
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bank`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const send = (payoutId: string, amount = 1_000n) =>
  httpBankClient({ baseUrl, apiKey: 'bank_test_sim' }).sendPayout({
    payoutId,
    amount,
    currency: 'usd',
    requestedAt: new Date('2026-12-07T10:00:00Z'),
    account: {
      holderName: 'Shop',
      accountNumber: '000123456789',
      routingNumber: null,
      country: 'US',
    },
  });

test('201 is taken with its trace id; 422 and 400 are refusals; 409, 5xx are unknown', async () => {
  assert.deepEqual(await send('po_taken'), {
    kind: 'accepted',
    traceId: '123456789012345',
    expectedOn: '2026-12-07',
  });
  assert.deepEqual(await send('po_refused'), {
    kind: 'rejected',
    failureCode: 'invalid_account_number',
  });
  assert.deepEqual(await send('po_unreadable'), {
    kind: 'rejected',
    failureCode: 'could_not_process',
  });
  assert.equal((await send('po_reused')).kind, 'unknown');
  assert.equal((await send('po_down')).kind, 'unknown');
});

test('an amount JSON cannot carry exactly is refused before anything is sent', async () => {
  await assert.rejects(send('po_taken', 2n ** 53n), /not exact as JSON/);
});
