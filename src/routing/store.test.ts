import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../storage/database.ts';
import { migrate, readMigrations } from '../storage/migrations.ts';
import { openPglite } from '../storage/pglite.ts';
import { parseRoutingConfig } from './config.ts';
import { RoutingStore } from './store.ts';

describe('RoutingStore (PGlite)', () => {
  let database: Database;
  const merchant = 'mch_routing0001';
  const other = 'mch_routing0002';

  before(async () => {
    database = await openPglite('memory://');
    // Only what this table needs, so unrelated migrations in progress cannot break this test.
    await migrate(
      database,
      readMigrations().filter((migration) =>
        ['001_merchants.sql', '008_routing.sql'].includes(migration.name),
      ),
    );
    await database.query(
      "INSERT INTO merchants (id, name) VALUES ($1, 'Routing shop'), ($2, 'Other shop')",
      [merchant, other],
    );
  });
  after(() => database.close());

  const config = parseRoutingConfig({
    rules: [
      {
        name: 'eur',
        conditions: { currency: ['eur'], amount: { min: 1, max: 99_999_999_999 } },
        action: { type: 'priority', connectors: ['stripe'] },
      },
      {
        action: {
          type: 'volume_split',
          splits: [
            { connector: 'stripe', weight: 3 },
            { connector: 'razorpay', weight: 1 },
          ],
        },
      },
    ],
  });

  test('no row: no rules and no update time', async () => {
    const store = new RoutingStore(database);
    assert.deepEqual(await store.get(merchant), { config: { rules: [] }, updatedAt: null });
  });

  test('put then get, exact amounts, per merchant', async () => {
    const writer = new RoutingStore(database);
    const written = await writer.put(merchant, config);
    assert.ok(written.updatedAt instanceof Date);
    const reader = new RoutingStore(database);
    const read = await reader.get(merchant);
    assert.deepEqual(read.config, config);
    assert.equal(read.updatedAt?.getTime(), written.updatedAt?.getTime());
    assert.deepEqual((await reader.get(other)).config, { rules: [] });
  });

  test('put replaces; the writing process sees it at once, another within the ttl', async () => {
    const cached = new RoutingStore(database, 60_000);
    const uncached = new RoutingStore(database, 0);
    const writer = new RoutingStore(database);
    await writer.put(merchant, config);
    assert.equal((await cached.get(merchant)).config.rules.length, 2);
    await writer.put(merchant, { rules: [] });
    assert.deepEqual((await writer.get(merchant)).config, { rules: [] });
    assert.deepEqual((await uncached.get(merchant)).config, { rules: [] });
    assert.equal((await cached.get(merchant)).config.rules.length, 2, 'still cached');
    cached.invalidate(merchant);
    assert.deepEqual((await cached.get(merchant)).config, { rules: [] });
  });

  test('an unknown merchant is refused by the foreign key', async () => {
    await assert.rejects(new RoutingStore(database).put('mch_nobody0000', config), /foreign key/);
  });

  test('the table refuses a config without a rules list; a stored config that no longer parses fails loudly', async () => {
    await assert.rejects(
      database.query(
        "INSERT INTO merchant_routing (merchant_id, config) VALUES ($1, '{}'::jsonb)",
        [other],
      ),
      /check constraint/,
    );
    await database.query(
      `INSERT INTO merchant_routing (merchant_id, config) VALUES ($1, '{"rules":[{"action":{"type":"teleport"}}]}'::jsonb)`,
      [other],
    );
    await assert.rejects(
      new RoutingStore(database).get(other),
      /stored routing configuration of merchant mch_routing0002 is invalid/,
    );
  });
});
