import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrate } from './migrations.ts';
import { openPglite } from './pglite.ts';
import { checkReadiness } from './readiness.ts';

test('not ready before the migrations, naming them; ready after; not ready once closed', async () => {
  const database = await openPglite('memory://');
  const before = await checkReadiness(database);
  assert.equal(before.ready, false);
  assert.match(before.ready ? '' : before.reason, /^migrations not applied: 001_merchants\.sql, /);
  await migrate(database);
  assert.deepEqual(await checkReadiness(database), { ready: true, database: 'pglite' });
  await database.close();
  const closed = await checkReadiness(database);
  assert.equal(closed.ready, false);
  assert.ok(!closed.ready && closed.error !== undefined, 'the failure is kept for the log');
});
