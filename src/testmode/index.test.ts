import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Database } from '../storage/database.ts';
import { migrate, readMigrations } from '../storage/migrations.ts';
import { openPglite } from '../storage/pglite.ts';
import { connectorsOf } from '../payments/merchant-settings.ts';
import { secretBoxFor, secretBoxPurposes } from '../vault/secret-box.ts';
import { createTestMode, noFaults, sameServer } from './index.ts';
import { simulatorConnectors } from './simulator.ts';

const secretBox = secretBoxFor(crypto.randomBytes(32), secretBoxPurposes.connectorCredentials);
const simulatorUrl = 'http://127.0.0.1:8090';
let database: Database;

before(async () => {
  database = await openPglite('memory://');
  const needed = [
    '001_merchants.sql',
    '004_payments.sql',
    '016_sealed_credentials.sql',
    '018_test_clocks.sql',
  ];
  await migrate(
    database,
    readMigrations().filter((migration) => needed.includes(migration.name)),
  );
  await database.query(
    "INSERT INTO merchants (id, name) VALUES ('mch_TestShop01', 'Test'), ('mch_LiveShop01', 'Live')",
  );
});
after(() => database.close());

test('a test merchant gets the simulated PSPs, a live merchant none', async () => {
  const testMode = createTestMode({ simulatorUrl, secretBox });
  await testMode.setUpMerchant(database, { id: 'mch_TestShop01', livemode: false });
  await testMode.setUpMerchant(database, { id: 'mch_LiveShop01', livemode: true });
  assert.deepEqual(
    await connectorsOf(database, 'mch_TestShop01', secretBox),
    simulatorConnectors(simulatorUrl),
  );
  assert.deepEqual(await connectorsOf(database, 'mch_LiveShop01', secretBox), []);
});

test('no fault point configured: no faults', () => {
  assert.equal(createTestMode({ simulatorUrl, secretBox }).faults, noFaults);
  assert.notEqual(
    createTestMode({ simulatorUrl, secretBox, faultPoint: 'after_psp_capture' }).faults,
    noFaults,
  );
});

test('a live connector may not be the simulator, under any loopback name', () => {
  const testMode = createTestMode({ simulatorUrl, secretBox });
  for (const url of [
    'http://127.0.0.1:8090/stripe',
    'http://localhost:8090/razorpay',
    'http://LOCALHOST:8090',
    'http://127.1.2.3:8090/x',
    'http://[::1]:8090/x',
    'http://[::ffff:127.0.0.1]:8090/x',
    'http://0.0.0.0:8090/x',
    'http://2130706433:8090/x',
    'https://127.0.0.1:8090/stripe',
  ])
    assert.match(testMode.liveConnectorRefusal(url) ?? '', /simulator/, url);
  for (const url of ['https://api.stripe.com', 'http://127.0.0.1:8091/stripe', 'not a url'])
    assert.equal(testMode.liveConnectorRefusal(url), undefined, url);
});

test('sameServer: default ports count', () => {
  assert.ok(sameServer('https://psp.example', 'https://psp.example:443/x'));
  assert.ok(sameServer('http://localhost', 'http://127.0.0.1:80'));
  assert.ok(!sameServer('http://psp.example', 'https://psp.example'));
});
