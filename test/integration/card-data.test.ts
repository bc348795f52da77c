// Card numbers sent everywhere a client plausibly could (vaulting, with and without an
// Idempotency-Key, JSON and form-encoded; as a payment method id in a URL, a create or a confirm;
// as an unknown parameter) reach no plaintext column and no log line (architecture §1 rule 8), on real
// PostgreSQL: every text, varchar, json, jsonb and array column of every table is scanned for
// each number, and the harness's stop() checks every log line.
//
// Metadata is not scanned or scrubbed by Payrail (Stripe does not either: its documentation tells
// merchants not to put card data there), so no card number is put into metadata here.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger, maskLine } from '../../src/observability/logger.ts';
import type { Database } from '../../src/storage/database.ts';
import { cardNumberMask } from '../../src/vault/card.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';
import { waitUntil } from '../support/wait.ts';
import {
  call,
  findCardNumberInLogs,
  knownTestCardNumbers,
  type TestServer,
} from '../support/server.ts';

/** Every column that can hold text, as `table.column`, in every table of the database's own schemas. */
async function textColumns(database: Database): Promise<{ table: string; column: string }[]> {
  const result = await database.query<{
    table_schema: string;
    table_name: string;
    column_name: string;
  }>(
    `SELECT c.table_schema, c.table_name, c.column_name
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
        AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
      ORDER BY 1, 2, 3`,
  );
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  return result.rows.map((row) => ({
    table: `${quote(row.table_schema)}.${quote(row.table_name)}`,
    column: quote(row.column_name),
  }));
}

/** `table.column` for each column where one of the numbers appears (digits, optionally spaced or dashed). */
async function columnsHolding(database: Database, numbers: readonly string[]): Promise<string[]> {
  const patterns = numbers.map((number) => [...number.replace(/\D/g, '')].join('[ -]?'));
  const found: string[] = [];
  for (const { table, column } of await textColumns(database)) {
    const hit = await database.query<{ pattern: string }>(
      `SELECT DISTINCT p AS pattern FROM ${table} t, unnest($1::text[]) p WHERE t.${column}::text ~ p`,
      [patterns],
    );
    for (const row of hit.rows)
      found.push(`${table}.${column}: ${row.pattern.replaceAll('[ -]?', '').slice(-4)}`);
  }
  return found;
}

type Receiver = { url: string; bodies: string[]; close(): Promise<void> };

/** A merchant's webhook endpoint that keeps every body it receives. */
async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Numbers outside the test-card tables (the harness knows those), each used on one path, so a
// leak names its path. All Luhn-valid except `incorrect`, which the logger's mask does not cover.
const pans = {
  vaulted: '5105105105105100',
  vaultedWithKey: '6011111111111117',
  vaultedByForm: '371449635398431',
  vaultedSpaced: '3566 0020 2036 0505',
  incorrect: '4242424242424241',
  createIntent: '6205500000000000004',
  confirm: '3056930009020004',
  unknownParameter: '4111111111111111',
  malformedJson: '4012888888881881',
  paid: '2223003122003222',
} as const;
/** Test cards used as ids in URLs and bodies (the harness checks them in the logs by itself). */
const testCardsUsed = ['4242424242424242', '4000056655665556', '5555555555554444'];
const cardLooksMessage = /looks like a card number/;

describe('card numbers never reach a column or a log line (PostgreSQL)', () => {
  let server: TestServer;
  let stack: SimulatedStack;
  let receiver: Receiver;
  let key: string;

  before(async () => {
    stack = await startSimulatedStack({
      database: 'postgres',
      env: {
        PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1', // the webhook receiver is on 127.0.0.1
      },
    });
    ({ server } = stack);
    server.forbidInLogs(...Object.values(pans));
    receiver = await startReceiver();
    key = (await stack.merchant('Card shop')).key;
    const endpoint = await call(server, 'POST', '/v1/webhook_endpoints', {
      key,
      body: { url: receiver.url, enabled_events: ['*'] },
    });
    assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
  });
  after(async () => {
    try {
      await receiver?.close();
    } finally {
      // The harness: stop() fails if a log line holds any of the numbers above or a test card;
      // it stops the simulator even then (left running, it would keep this file from ending).
      await stack?.stop();
    }
  });

  const card = (number: string, cvc = '123') => ({
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2031, cvc },
  });

  test('vaulting a card, with and without an Idempotency-Key, JSON and form-encoded, shows only last4', async () => {
    const plain = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.vaulted),
    });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal((plain.body.card as { last4: string }).last4, '5100');

    const first = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.vaultedWithKey),
      idempotencyKey: 'vault-1',
    });
    const replayed = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.vaultedWithKey),
      idempotencyKey: 'vault-1',
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, first.body);
    const otherCvc = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.vaultedWithKey, '124'),
      idempotencyKey: 'vault-1',
    });
    assert.equal(otherCvc.status, 400, 'another CVC under the same key is other parameters');
    assert.equal(otherCvc.body.error?.code, 'idempotency_error');

    const form = await call(server, 'POST', '/v1/payment_methods', {
      key,
      idempotencyKey: 'vault-form',
      rawBody: `type=card&card[number]=${pans.vaultedByForm}&card[exp_month]=12&card[exp_year]=2031&card[cvc]=1234`,
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 200, JSON.stringify(form.body));
    assert.equal((form.body.card as { brand: string }).brand, 'amex');

    const spaced = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.vaultedSpaced),
      idempotencyKey: 'vault-spaced',
    });
    assert.equal(spaced.status, 200, JSON.stringify(spaced.body));

    const incorrect = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.incorrect),
      idempotencyKey: 'vault-incorrect',
    });
    assert.equal(incorrect.status, 402, JSON.stringify(incorrect.body));
    assert.equal(incorrect.body.error?.code, 'incorrect_number');
    for (const response of [plain, first, form, spaced, incorrect]) {
      assert.equal(
        findCardNumberInLogs([JSON.stringify(response.body)], Object.values(pans)),
        undefined,
        'no number in a response',
      );
    }
  });

  test('GET /v1/payment_methods/<card number> is a 404 that does not echo it, however it is written', async () => {
    for (const written of [
      '4242424242424242',
      '4242%204242%204242%204242',
      '4242-4242-4242-4242',
      '4000056655665556',
    ]) {
      const response = await call(server, 'GET', `/v1/payment_methods/${written}`, { key });
      assert.equal(response.status, 404, JSON.stringify(response.body));
      assert.equal(response.body.error?.code, 'resource_missing');
      assert.equal(response.body.error?.param, 'id');
      assert.match(String(response.body.error?.message), cardLooksMessage);
      assert.equal(findCardNumberInLogs([JSON.stringify(response.body)], testCardsUsed), undefined);
    }
    const notACard = await call(server, 'GET', '/v1/payment_methods/pm_doesNotExist1', { key });
    assert.equal(
      notACard.body.error?.message,
      "No such PaymentMethod: 'pm_doesNotExist1'",
      'other ids are still echoed',
    );
    // The request log keeps the path with the number masked.
    assert.ok(
      server.logs.some((line) => line.includes('"url":"/v1/payment_methods/[redacted]"')),
      'the GET was logged, masked',
    );
  });

  test('a card number as payment_method of a create (with an Idempotency-Key) is a 404 that does not echo it, stored that way', async () => {
    const body = {
      amount: 1500,
      currency: 'usd',
      payment_method: pans.createIntent,
      confirm: true,
    };
    const first = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body,
      idempotencyKey: 'intent-pan',
    });
    assert.equal(first.status, 404, JSON.stringify(first.body));
    assert.equal(first.body.error?.param, 'payment_method');
    assert.match(String(first.body.error?.message), cardLooksMessage);
    const replayed = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body,
      idempotencyKey: 'intent-pan',
    });
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, first.body);
    const spaced = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { ...body, payment_method: '4242 4242 4242 4242' },
      idempotencyKey: 'intent-spaced',
    });
    assert.equal(spaced.status, 404);
    assert.match(String(spaced.body.error?.message), cardLooksMessage);
  });

  test('a card number as payment_method of a confirm is a 404 that does not echo it; the intent is untouched', async () => {
    const created = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 900, currency: 'usd' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const confirmed = await call(server, 'POST', `/v1/payment_intents/${created.body.id}/confirm`, {
      key,
      body: { payment_method: pans.confirm },
      idempotencyKey: 'confirm-pan',
    });
    assert.equal(confirmed.status, 404, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.error?.param, 'payment_method');
    assert.match(String(confirmed.body.error?.message), cardLooksMessage);
    const reread = await call(server, 'GET', `/v1/payment_intents/${created.body.id}`, { key });
    assert.equal(reread.body.status, created.body.status);
    assert.equal(reread.body.payment_method ?? null, null);
  });

  test('a card number where no card belongs (an unknown parameter, a path, a malformed body) is refused, not echoed and not logged', async () => {
    const unknown = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: { ...card(pans.vaulted), [pans.unknownParameter]: 'x' },
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error?.code, 'parameter_unknown');
    // The answer names the parameter, masked: a card number is never sent back either.
    assert.equal(unknown.body.error?.param, cardNumberMask);
    assert.ok(
      !JSON.stringify(unknown.body).includes(pans.unknownParameter),
      JSON.stringify(unknown.body),
    );
    const route = await call(server, 'GET', `/v1/nothing/${pans.unknownParameter}`, { key });
    assert.equal(route.status, 404);
    assert.ok(
      !JSON.stringify(route.body).includes(pans.unknownParameter),
      JSON.stringify(route.body),
    );
    const malformed = await call(server, 'POST', '/v1/payment_methods', {
      key,
      rawBody: `{"type":"card","card":{"number":${pans.malformedJson} x`,
    });
    assert.equal(malformed.status, 400);
    // The refusal is logged with its parameter, the number masked by the logger.
    assert.ok(
      server.logs.some(
        (line) =>
          line.includes('"code":"parameter_unknown"') &&
          line.includes(`"param":"${cardNumberMask}"`),
      ),
      'the refusal was logged, masked',
    );
  });

  test('a payment with a stored card: events, webhook deliveries and their payloads carry last4 only', async () => {
    const method = await call(server, 'POST', '/v1/payment_methods', {
      key,
      body: card(pans.paid),
    });
    assert.equal(method.status, 200, JSON.stringify(method.body));
    const paid = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 2500, currency: 'usd', payment_method: method.body.id, confirm: true },
      idempotencyKey: 'pay-stored',
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.status, 'succeeded');
    const database = server.context.database;
    const events = await database.query<{ data: unknown }>(
      'SELECT data FROM events WHERE object_id = $1',
      [paid.body.id],
    );
    assert.ok(events.rows.length >= 2, 'the payment wrote its events');
    await waitUntil(
      'the succeeded webhook',
      () =>
        receiver.bodies.some(
          (body) =>
            body.includes(String(paid.body.id)) && body.includes('payment_intent.succeeded'),
        ),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitUntil(
      'a delivery recorded',
      async () =>
        (await database.query("SELECT 1 FROM webhook_deliveries WHERE status = 'succeeded'")).rows
          .length > 0,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    assert.equal(
      findCardNumberInLogs(receiver.bodies, [pans.paid, ...testCardsUsed]),
      undefined,
      'no card number in a webhook payload',
    );
    assert.deepEqual(await columnsHolding(database, [pans.paid]), []);
  });

  test('no column of any table holds any of the numbers sent above', async () => {
    const database = server.context.database;
    // The scan is not vacuous: the tables it must cover have rows, and it finds a number that is stored.
    for (const [table, least] of [
      ['payment_methods', 5],
      ['idempotency_keys', 7],
      ['events', 2],
      ['webhook_deliveries', 1],
      ['payment_intents', 2],
    ] as const) {
      const count = await database.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${table}`,
      );
      assert.ok((count.rows[0]?.count ?? 0) >= least, `${table} has at least ${least} rows`);
    }
    const marker = '9000000000000001'; // not Luhn-valid; metadata is stored as given
    const marked = await call(server, 'POST', '/v1/payment_intents', {
      key,
      body: { amount: 100, currency: 'usd', metadata: { order: marker } },
      idempotencyKey: 'marker',
    });
    assert.equal(marked.status, 200, JSON.stringify(marked.body));
    const markerColumns = await columnsHolding(database, [marker]);
    assert.ok(
      markerColumns.some((found) => found.startsWith('"public"."payment_intents"."metadata"')),
      `the scan finds a stored number: ${markerColumns.join(', ')}`,
    );
    assert.ok(
      markerColumns.some((found) =>
        found.startsWith('"public"."idempotency_keys"."response_body"'),
      ),
      'and in stored responses',
    );

    assert.deepEqual(
      await columnsHolding(database, [
        ...Object.values(pans),
        ...testCardsUsed,
        ...knownTestCardNumbers,
      ]),
      [],
    );
  });

  test('bank account numbers (payouts) are sealed: in no text column, answer or log line', async () => {
    const accountNumbers = ['000123456789', '4111222233334444', '9876543210987'];
    server.forbidInLogs(...accountNumbers);
    const body = (accountNumber: string) => ({
      currency: 'usd',
      country: 'US',
      account_holder_name: 'Card data shop',
      account_number: accountNumber,
    });
    const [first, second, third] = accountNumbers as [string, string, string];
    const created = await call(server, 'POST', '/v1/bank_accounts', {
      key,
      body: body(first),
      idempotencyKey: 'bank-1',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const replayed = await call(server, 'POST', '/v1/bank_accounts', {
      key,
      body: body(first),
      idempotencyKey: 'bank-1',
    });
    const form = await call(server, 'POST', '/v1/bank_accounts', {
      key,
      rawBody: `currency=usd&country=US&account_holder_name=Form&account_number=${second}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 200, JSON.stringify(form.body));
    const duplicate = await call(server, 'POST', '/v1/bank_accounts', { key, body: body(first) });
    const refused = await call(server, 'POST', '/v1/bank_accounts', {
      key,
      body: { ...body(third), account_number: `${third}!` },
    });
    const unknownParameter = await call(server, 'POST', '/v1/bank_accounts', {
      key,
      body: { ...body(third), iban: third },
    });
    for (const answer of [created, replayed, form, duplicate, refused, unknownParameter])
      for (const number of accountNumbers)
        assert.equal(JSON.stringify(answer.body).includes(number), false);
    assert.equal(duplicate.status, 400);
    assert.equal(refused.status, 400);
    assert.equal(unknownParameter.status, 400);
    assert.deepEqual(await columnsHolding(server.context.database, accountNumbers), []);
  });

  test('no log line so far holds a card number (stop() checks again at the end)', () => {
    assert.ok(server.logs.length > 20, 'the server logged');
    assert.equal(
      findCardNumberInLogs(server.logs, [...Object.values(pans), ...knownTestCardNumbers]),
      undefined,
    );
  });
});

describe('the logger masks card numbers in every field of every line', () => {
  test('message, error, nested field and child binding; the time field is left alone', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    logger
      .child({ lookup: '4242424242424242' })
      .info({ nested: { note: 'card 5555 5555 5555 4444' } }, 'paid with 378282246310005');
    logger.error({ err: new Error('bad card 6011-1111-1111-1117') }, 'failed');
    logger.info({ amount: 1000, id: 'pi_1234567890' }, 'a line without a card number');
    assert.equal(lines.length, 3);
    assert.equal(
      findCardNumberInLogs(lines, [
        '4242424242424242',
        '5555555555554444',
        '378282246310005',
        '6011111111111117',
      ]),
      undefined,
      lines.join(''),
    );
    for (const line of lines.slice(0, 2)) assert.ok(line.includes(cardNumberMask), line);
    for (const line of lines) JSON.parse(line);
    assert.ok(!lines[2]?.includes(cardNumberMask));
    // A millisecond time that happens to pass Luhn (4222222222222 does) stays a number.
    const line = '{"level":30,"time":4222222222222,"service":"payrail","msg":"4222222222222"}';
    assert.equal(
      maskLine(line),
      `{"level":30,"time":4222222222222,"service":"payrail","msg":"${cardNumberMask}"}`,
    );
  });
});
