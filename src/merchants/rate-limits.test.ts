import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../storage/database.ts';
import { migrate, readMigrations } from '../storage/migrations.ts';
import { openPglite } from '../storage/pglite.ts';
import { RateLimitOverrides } from './rate-limits.ts';

describe('RateLimitOverrides (PGlite)', () => {
  let database: Database;
  const merchant = 'mch_ratelimit001';

  before(async () => {
    database = await openPglite('memory://');
    // Only what this table needs, so unrelated migrations in progress cannot break this test.
    await migrate(
      database,
      readMigrations().filter((migration) =>
        ['001_merchants.sql', '038_rate_limit_overrides.sql'].includes(migration.name),
      ),
    );
    await database.query("INSERT INTO merchants (id, name) VALUES ($1, 'Busy shop')", [merchant]);
  });
  after(() => database.close());

  test('nothing set: every default, no update time', async () => {
    const overrides = new RateLimitOverrides(database);
    assert.deepEqual(await overrides.get(merchant), { override: {}, updatedAt: null });
  });

  test('a patch sets the fields it gives, keeps the others, and null clears', async () => {
    const overrides = new RateLimitOverrides(database);
    await overrides.set(merchant, { livePerSecond: 500, concurrent: 40 });
    const kept = await overrides.set(merchant, { testPerSecond: 60, concurrent: null });
    assert.deepEqual(kept.override, { livePerSecond: 500, testPerSecond: 60 });
    assert.ok(kept.updatedAt instanceof Date);
    await assert.rejects(() => overrides.set(merchant, { endpointPerSecond: 0 }), /out of bounds/);
  });

  test("another process's change is seen once the cache entry is older than its TTL", async () => {
    let now = 1_000_000;
    const reader = new RateLimitOverrides(database, { ttlMs: 5_000, now: () => now });
    const writer = new RateLimitOverrides(database);
    await writer.set(merchant, { testPerSecond: 70 });
    assert.equal((await reader.get(merchant)).override.testPerSecond, 70);
    await writer.set(merchant, { testPerSecond: 80 });
    now += 4_999;
    assert.equal((await reader.get(merchant)).override.testPerSecond, 70, 'still cached');
    now += 2;
    assert.equal((await reader.get(merchant)).override.testPerSecond, 80);
  });
});
