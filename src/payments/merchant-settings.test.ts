import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Database, Queryable } from '../storage/database.ts';
import { migrate, readMigrations } from '../storage/migrations.ts';
import { openPglite } from '../storage/pglite.ts';
import { secretBoxFor, secretBoxPurposes } from '../vault/secret-box.ts';
import {
  connectorsOf,
  MerchantSettings,
  sealPlaintextCredentials,
  setConnector,
  setDefaultPrices,
  type MerchantConnector,
} from './merchant-settings.ts';
import { setUpSimulatorConnectors, simulatorConnectors } from '../testmode/simulator.ts';

// Only what these tables need, so unrelated migrations in progress cannot break this test.
const beforeSealing = ['001_merchants.sql', '004_payments.sql'];
const withSealing = [...beforeSealing, '016_sealed_credentials.sql'];
const migrations = (names: readonly string[]) =>
  readMigrations().filter((migration) => names.includes(migration.name));

const box = secretBoxFor(crypto.randomBytes(32), secretBoxPurposes.connectorCredentials);

const live: MerchantConnector = {
  connector: 'stripe',
  enabled: true,
  priority: 1,
  credentials: {
    baseUrl: 'https://psp.example',
    apiKey: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    apiSecret: 'secret_Zq81xv',
    merchantAccount: 'acct_77x',
    webhookSecret: 'whsec_w3bh00k5ecret',
  },
};
const secretsOf = (setting: MerchantConnector) =>
  [
    setting.credentials.apiKey,
    setting.credentials.apiSecret,
    setting.credentials.merchantAccount,
    setting.credentials.webhookSecret,
  ].filter((value) => value !== undefined);

type StoredRow = {
  connector: string;
  credentials: unknown;
  credentials_sealed: string | null;
  row_text: string;
};

async function storedRows(database: Queryable, merchantId: string): Promise<StoredRow[]> {
  const result = await database.query<StoredRow>(
    'SELECT connector, credentials, credentials_sealed, row_to_json(c)::text AS row_text FROM merchant_connectors c WHERE merchant_id = $1 ORDER BY connector',
    [merchantId],
  );
  return result.rows;
}

/** The INSERT of the code before migration 016: credentials as plaintext JSON. */
async function insertLegacy(
  database: Queryable,
  merchantId: string,
  setting: MerchantConnector,
): Promise<void> {
  const { baseUrl, ...secrets } = setting.credentials;
  await database.query(
    'INSERT INTO merchant_connectors (merchant_id, connector, enabled, priority, base_url, credentials) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
    [
      merchantId,
      setting.connector,
      setting.enabled,
      setting.priority,
      baseUrl,
      JSON.stringify(secrets),
    ],
  );
}

async function addMerchants(database: Queryable, ids: readonly string[]): Promise<void> {
  for (const id of ids)
    await database.query("INSERT INTO merchants (id, name) VALUES ($1, 'Shop')", [id]);
}

describe('MerchantSettings: credentials sealed at rest', () => {
  let database: Database;

  before(async () => {
    database = await openPglite('memory://');
    await migrate(database, migrations(withSealing));
    await addMerchants(database, ['mch_Sealed01', 'mch_Sealed02', 'mch_Sealed03', 'mch_NoBox001']);
  });
  after(() => database.close());

  test('a connector set through the settings is stored sealed; reading it gives the credentials back', async () => {
    const settings = new MerchantSettings(database, { secretBox: box });
    await settings.setConnector('mch_Sealed01', live);
    const [row] = await storedRows(database, 'mch_Sealed01');
    assert.equal(row?.credentials, null);
    assert.match(row?.credentials_sealed ?? '', /^v1\./);
    for (const secret of secretsOf(live))
      assert.ok(!(row?.row_text ?? '').includes(secret), `${secret} is in the row`);
    assert.deepEqual(await settings.credentials('mch_Sealed01', 'stripe'), live.credentials);
    assert.deepEqual(await connectorsOf(database, 'mch_Sealed01', box), [live]);
  });

  test('a sealed value moved to another connector or merchant does not open; without the box it is refused clearly', async () => {
    const copy = (from: [string, string], to: [string, string]) =>
      database.query(
        `UPDATE merchant_connectors SET credentials_sealed = (SELECT credentials_sealed FROM merchant_connectors WHERE merchant_id = $1 AND connector = $2)
       WHERE merchant_id = $3 AND connector = $4`,
        [...from, ...to],
      );
    // Another merchant's row for the same connector.
    await setConnector(
      database,
      'mch_Sealed02',
      { ...live, credentials: { ...live.credentials, apiKey: 'sk_live_other' } },
      box,
    );
    await copy(['mch_Sealed01', 'stripe'], ['mch_Sealed02', 'stripe']);
    await assert.rejects(connectorsOf(database, 'mch_Sealed02', box), /does not decrypt/);
    // The same merchant's row for another connector.
    await setConnector(database, 'mch_Sealed03', live, box);
    await setConnector(database, 'mch_Sealed03', { ...live, connector: 'razorpay' }, box);
    assert.equal((await connectorsOf(database, 'mch_Sealed03', box)).length, 2);
    await copy(['mch_Sealed03', 'stripe'], ['mch_Sealed03', 'razorpay']);
    await assert.rejects(connectorsOf(database, 'mch_Sealed03', box), /does not decrypt/);
  });

  test('rows written in plaintext before migration 016 are sealed by their first read', async () => {
    for (const setting of simulatorConnectors('http://127.0.0.1:8090'))
      await insertLegacy(database, 'mch_NoBox001', setting);
    assert.ok(
      (await storedRows(database, 'mch_NoBox001')).every(
        (row) => row.credentials !== null && row.credentials_sealed === null,
      ),
    );

    const settings = new MerchantSettings(database, { secretBox: box });
    assert.deepEqual(
      await settings.connectors('mch_NoBox001'),
      simulatorConnectors('http://127.0.0.1:8090'),
    );
    const rows = await storedRows(database, 'mch_NoBox001');
    assert.equal(rows.length, simulatorConnectors('http://127.0.0.1:8090').length);
    assert.ok(rows.every((row) => row.credentials === null && row.credentials_sealed !== null));
    assert.deepEqual(
      await connectorsOf(database, 'mch_NoBox001', box),
      simulatorConnectors('http://127.0.0.1:8090'),
    );
  });

  test('the database refuses a row with both forms, or neither', async () => {
    await assert.rejects(
      database.query(
        "UPDATE merchant_connectors SET credentials = '{}'::jsonb WHERE merchant_id = 'mch_Sealed01'",
      ),
      /merchant_connectors_one_credentials_form/,
    );
    await assert.rejects(
      database.query(
        "UPDATE merchant_connectors SET credentials_sealed = NULL WHERE merchant_id = 'mch_Sealed01'",
      ),
      /merchant_connectors_one_credentials_form/,
    );
  });
});

describe('MerchantSettings: a database written before sealing (migration 016)', () => {
  let database: Database;
  const merchants = ['mch_Legacy001', 'mch_Legacy002', 'mch_Legacy003'];
  // More rows than one sealing batch (100), so the sweep has to page.
  const extra = Array.from({ length: 60 }, (_, index) => ({
    ...live,
    connector: `psp_${String(index).padStart(2, '0')}`,
    priority: 100 + index,
  }));
  /** One row per simulated PSP of the registry (three when this test was written). */
  const simulated = simulatorConnectors('http://127.0.0.1:8090').length;

  before(async () => {
    database = await openPglite('memory://');
    await migrate(database, migrations(beforeSealing));
    await addMerchants(database, merchants);
    for (const merchantId of merchants) {
      for (const setting of [...simulatorConnectors('http://127.0.0.1:8090'), ...extra])
        await insertLegacy(database, merchantId, setting);
    }
    await insertLegacy(database, 'mch_Legacy001', { ...live, connector: 'live_psp' });
    assert.deepEqual(await migrate(database, migrations(withSealing)), [
      '016_sealed_credentials.sql',
    ]);
  });
  after(() => database.close());

  test('plaintext rows keep working after the migration, and the first read seals that merchant', async () => {
    const settings = new MerchantSettings(database, { secretBox: box });
    assert.deepEqual(await settings.credentials('mch_Legacy001', 'live_psp'), live.credentials);
    assert.equal((await settings.credentials('mch_Legacy001', 'razorpay')).apiSecret, 'sim_secret');
    const rows = await storedRows(database, 'mch_Legacy001');
    assert.equal(rows.length, simulated + extra.length + 1);
    assert.ok(rows.every((row) => row.credentials === null && row.credentials_sealed !== null));
    for (const secret of secretsOf(live))
      assert.ok(rows.every((row) => !row.row_text.includes(secret)));
    // The others are not touched by a read of mch_Legacy001.
    assert.ok(
      (await storedRows(database, 'mch_Legacy002')).every((row) => row.credentials_sealed === null),
    );
  });

  test('the start-up sweep seals every other row, page by page, and has nothing left to do after', async () => {
    assert.equal(await sealPlaintextCredentials(database, box), 2 * (simulated + extra.length));
    assert.equal(await sealPlaintextCredentials(database, box), 0);
    const left = await database.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM merchant_connectors WHERE credentials IS NOT NULL OR credentials_sealed IS NULL',
    );
    assert.equal(left.rows[0]?.n, 0);
    const settings = new MerchantSettings(database, { secretBox: box });
    assert.deepEqual(await settings.connectors('mch_Legacy003'), [
      ...simulatorConnectors('http://127.0.0.1:8090'),
      ...extra,
    ]);
  });
});

describe('MerchantSettings: cache lifetime', () => {
  let database: Database;
  const merchantId = 'mch_Cache0001';

  before(async () => {
    database = await openPglite('memory://');
    await migrate(database, migrations(withSealing));
    await addMerchants(database, [merchantId]);
    await setUpSimulatorConnectors(database, merchantId, 'http://127.0.0.1:8090', box);
    await setDefaultPrices(database, merchantId);
  });
  after(() => database.close());

  test('a change through the same settings applies at once; one through another process within ttlMs', async () => {
    let now = 1_000_000;
    const here = new MerchantSettings(database, { secretBox: box, ttlMs: 5_000, now: () => now });
    const elsewhere = new MerchantSettings(database, { secretBox: box });
    assert.deepEqual(await here.price(merchantId, 'eur'), { percentBps: 290n, fixedAmount: 0n });

    await here.setPrice(merchantId, 'eur', { percentBps: 150n, fixedAmount: 10n });
    assert.deepEqual(await here.price(merchantId, 'eur'), { percentBps: 150n, fixedAmount: 10n });

    await elsewhere.setPrice(merchantId, 'eur', { percentBps: 99n, fixedAmount: 1n });
    await elsewhere.setConnector(merchantId, { ...live, connector: 'stripe' });
    now += 4_999;
    assert.deepEqual(
      await here.price(merchantId, 'eur'),
      { percentBps: 150n, fixedAmount: 10n },
      'still cached',
    );
    assert.equal(
      (await here.credentials(merchantId, 'stripe')).apiKey,
      'sk_test_sim',
      'still cached',
    );
    now += 1;
    assert.deepEqual(await here.price(merchantId, 'eur'), { percentBps: 99n, fixedAmount: 1n });
    assert.equal((await here.credentials(merchantId, 'stripe')).apiKey, live.credentials.apiKey);
  });

  test('a read that started before a change does not cache what it read', async () => {
    let hold: { reached: () => void; released: Promise<void> } | undefined;
    const slow: Queryable = {
      exec: (sql) => database.exec(sql),
      async query(sql, parameters) {
        const result = await database.query(sql, parameters);
        const held = hold;
        if (held !== undefined && sql.includes('FROM merchant_prices')) {
          hold = undefined;
          held.reached();
          await held.released;
        }
        return result as never;
      },
    };
    const settings = new MerchantSettings(slow, { secretBox: box, ttlMs: 60_000 });
    await settings.setPrice(merchantId, 'gbp', { percentBps: 100n, fixedAmount: 0n });
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      hold = {
        reached: resolve,
        released: new Promise((resolveRelease) => {
          release = resolveRelease;
        }),
      };
    });
    const early = settings.price(merchantId, 'gbp');
    await reached; // the read has the old price and is held before caching it
    await settings.setPrice(merchantId, 'gbp', { percentBps: 200n, fixedAmount: 0n });
    release();
    assert.deepEqual(await early, { percentBps: 100n, fixedAmount: 0n });
    assert.deepEqual(await settings.price(merchantId, 'gbp'), {
      percentBps: 200n,
      fixedAmount: 0n,
    });
  });
});
