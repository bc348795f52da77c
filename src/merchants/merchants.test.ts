import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../storage/database.ts';
import { migrate, readMigrations } from '../storage/migrations.ts';
import { openPglite } from '../storage/pglite.ts';
import { hashSecret, newSecret, secretHint } from './keys.ts';
import { Merchants, type Merchant } from './merchants.ts';

// Only what these tables need, so unrelated migrations in progress cannot break this test.
const needed = [
  '001_merchants.sql',
  '017_merchant_mode.sql',
  '033_keys_publishable.sql',
  '043_api_keys_expiry.sql',
];

describe('merchants: test and live mode', () => {
  let database: Database;
  const setUps: Merchant[] = [];
  let merchants: Merchants;

  before(async () => {
    database = await openPglite('memory://');
    await migrate(
      database,
      readMigrations().filter((migration) => needed.includes(migration.name)),
    );
    merchants = new Merchants(database, {
      setUp: async (_tx, merchant) => {
        setUps.push(merchant);
        if (merchant.name === 'Broken') throw new Error('set-up failed');
      },
    });
  });
  after(() => database.close());

  test('a merchant is a test merchant unless created live; its keys have its mode', async () => {
    const testShop = await merchants.create({ name: 'Test shop' });
    const liveShop = await merchants.create({ name: 'Live shop', livemode: true });
    assert.equal(testShop.merchant.livemode, false);
    assert.equal(liveShop.merchant.livemode, true);
    assert.match(testShop.secretKey, /^sk_test_/);
    assert.match(liveShop.secretKey, /^sk_live_/);
    assert.deepEqual(await merchants.authenticate(liveShop.secretKey), {
      merchantId: liveShop.merchant.id,
      livemode: true,
      kind: 'secret',
    });
    assert.deepEqual(await merchants.authenticate(testShop.secretKey), {
      merchantId: testShop.merchant.id,
      livemode: false,
      kind: 'secret',
    });
    assert.match(
      await merchants.issueKey(liveShop.merchant.id, { revokeOthers: false }),
      /^sk_live_/,
    );
    assert.match(
      await merchants.issueKey(testShop.merchant.id, { revokeOthers: false }),
      /^sk_test_/,
    );
    assert.equal((await merchants.get(liveShop.merchant.id))?.livemode, true);
    const fresh = new Merchants(database);
    assert.equal(await fresh.livemodeOf(liveShop.merchant.id), true);
    assert.equal(await fresh.livemodeOf(testShop.merchant.id), false);
    assert.equal(await fresh.livemodeOf('mch_NoSuchOne01'), undefined);
  });

  test('the set-up sees the new merchant with its mode, and a failed set-up leaves no merchant', async () => {
    const created = await merchants.create({ name: 'Seen', livemode: true });
    assert.deepEqual(setUps.at(-1), created.merchant);
    await assert.rejects(merchants.create({ name: 'Broken' }), /set-up failed/);
    const left = await database.query("SELECT 1 FROM merchants WHERE name = 'Broken'");
    assert.equal(left.rows.length, 0);
  });

  test('the database refuses a key of the other mode than its merchant, or a hint of the other mode', async () => {
    const { merchant } = await merchants.create({ name: 'Strict' });
    const insertKey = (secret: string, livemode: boolean) =>
      database.query(
        'INSERT INTO api_keys (id, merchant_id, key_hash, key_hint, livemode) VALUES ($1, $2, $3, $4, $5)',
        [
          `key_${hashSecret(secret).slice(0, 16)}`,
          merchant.id,
          hashSecret(secret),
          secretHint(secret),
          livemode,
        ],
      );
    await assert.rejects(insertKey(newSecret('sk_live_'), true), /api_keys_merchant_mode/);
    await assert.rejects(insertKey(newSecret('sk_live_'), false), /api_keys_hint_mode/);
    await database.query('UPDATE merchants SET livemode = true WHERE id = $1', [merchant.id]).then(
      () => assert.fail('a merchant with keys changed its mode'),
      (error: unknown) => assert.match(String(error), /api_keys_merchant_mode/),
    );
  });

  test('a merchant and key written before modes existed are a test merchant and a working test key', async () => {
    const secret = newSecret('sk_test_');
    await database.query("INSERT INTO merchants (id, name) VALUES ('mch_Earlier0001', 'Earlier')");
    await database.query(
      "INSERT INTO api_keys (id, merchant_id, key_hash, key_hint) VALUES ('key_Earlier0001', 'mch_Earlier0001', $1, $2)",
      [hashSecret(secret), secretHint(secret)],
    );
    assert.deepEqual(await merchants.authenticate(secret), {
      merchantId: 'mch_Earlier0001',
      livemode: false,
      kind: 'secret',
    });
    assert.equal((await merchants.get('mch_Earlier0001'))?.livemode, false);
  });

  test('a merchant starts with a publishable key of its mode; rolling it retires the earlier one', async () => {
    const testShop = await merchants.create({ name: 'Browser shop' });
    const liveShop = await merchants.create({ name: 'Live browser shop', livemode: true });
    assert.match(testShop.publishableKey, /^pk_test_[A-Za-z0-9]{43}$/);
    assert.match(liveShop.publishableKey, /^pk_live_[A-Za-z0-9]{43}$/);
    assert.deepEqual(await merchants.authenticate(testShop.publishableKey), {
      merchantId: testShop.merchant.id,
      livemode: false,
      kind: 'publishable',
    });
    const rolled = await merchants.rollPublishableKey(testShop.merchant.id);
    assert.equal(rolled.livemode, false);
    assert.match(rolled.key, /^pk_test_/);
    assert.equal(await merchants.authenticate(testShop.publishableKey), undefined, 'rolled away');
    assert.equal((await merchants.authenticate(rolled.key))?.kind, 'publishable');
    assert.equal((await merchants.authenticate(testShop.secretKey))?.kind, 'secret', 'kept');
    // Only the hash is kept; a key named with the other kind's prefix is no key.
    const stored = await database.query<{ key_hash: string; key_hint: string }>(
      "SELECT key_hash, key_hint FROM api_keys WHERE merchant_id = $1 AND kind = 'publishable' AND revoked_at IS NULL",
      [testShop.merchant.id],
    );
    assert.equal(stored.rows[0]?.key_hash, hashSecret(rolled.key));
    assert.equal(stored.rows[0]?.key_hint, secretHint(rolled.key));
    assert.equal(await merchants.authenticate(`sk_${rolled.key.slice(3)}`), undefined);
    // Revoking the other secret keys leaves the publishable key alone.
    await merchants.issueKey(testShop.merchant.id, { revokeOthers: true });
    assert.equal((await merchants.authenticate(rolled.key))?.kind, 'publishable');
    await database
      .query(
        "UPDATE api_keys SET key_hint = 'sk_test_…abcd' WHERE merchant_id = $1 AND kind = 'publishable'",
        [testShop.merchant.id],
      )
      .then(
        () => assert.fail('a publishable key with a secret key hint'),
        (error: unknown) => assert.match(String(error), /api_keys_hint_mode/),
      );
  });

  test('strings that are no secret key are refused without a lookup', async () => {
    assert.equal(await merchants.authenticate('ak_something'), undefined);
    assert.equal(await merchants.authenticate('sk_other_abc'), undefined);
  });
});
