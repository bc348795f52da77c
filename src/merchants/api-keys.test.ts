import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OffsetClock } from '../clock.ts';
import type { Database } from '../storage/database.ts';
import {
  databaseKinds,
  openTestDatabase,
  type TestDatabase,
} from '../../test/support/databases.ts';
import { ApiKeys, ApiKeyError, ROLL_EXPIRY_HOURS_MAX, type ApiKeyView } from './api-keys.ts';
import { Merchants } from './merchants.ts';

const hour = 3_600_000;
// Time stands still unless a test moves it; an hour ahead of the database's now() (which stamps
// the keys a merchant is created with), as a test clock is: clocks only move forward.
const standing = Date.now() + hour;
const realNow = () => standing;

function refused(reason: ApiKeyError['reason']) {
  return (error: unknown) => {
    assert.ok(error instanceof ApiKeyError, String(error));
    assert.equal(error.reason, reason);
    return true;
  };
}

/** Nothing secret in a snapshot: only the hint, never a whole key or its hash. */
function assertNoSecret(value: unknown): void {
  const text = JSON.stringify(value);
  assert.doesNotMatch(text, /[sp]k_(test|live)_[A-Za-z0-9]{20,}/);
  assert.doesNotMatch(text, /[0-9a-f]{64}/);
}

for (const kind of databaseKinds) {
  describe(`API keys (${kind})`, () => {
    let handle: TestDatabase;
    let database: Database;
    let clock: OffsetClock;
    let merchants: Merchants;
    let keys: ApiKeys;

    before(async () => {
      handle = await openTestDatabase(kind);
      database = handle.database;
      clock = new OffsetClock(realNow);
      merchants = new Merchants(database, { clock });
      keys = new ApiKeys({ database, merchants, clock });
    });
    after(() => handle.drop());

    test('list shows hints and status; create shows the secret once, named', async () => {
      const { merchant, secretKey } = await merchants.create({ name: 'Keys shop' });
      const listed = await keys.listKeys(merchant.id);
      assert.deepEqual(listed.map((key) => [key.kind, key.status, key.livemode]).sort(), [
        ['publishable', 'active', false],
        ['secret', 'active', false],
      ]);
      const secret = listed.find((key) => key.kind === 'secret') as ApiKeyView;
      assert.equal(secret.hint, `sk_test_…${secretKey.slice(-4)}`);
      assertNoSecret(listed);

      const created = await keys.createKey(merchant.id, { kind: 'secret', name: '  CI deploys ' });
      assert.match(created.secret, /^sk_test_[A-Za-z0-9]{43}$/);
      assert.equal(created.key.name, 'CI deploys');
      assert.equal(created.key.status, 'active');
      assert.equal(created.change.before, null);
      assert.deepEqual(created.change.after, created.key);
      assertNoSecret(created.change);
      assert.deepEqual(await merchants.authenticate(created.secret), {
        merchantId: merchant.id,
        livemode: false,
        kind: 'secret',
      });
      assert.equal((await keys.listKeys(merchant.id))[0]?.id, created.key.id, 'newest first');
      await assert.rejects(
        keys.createKey(merchant.id, { kind: 'publishable' as 'secret' }),
        refused('invalid'),
      );
      await assert.rejects(
        keys.createKey(merchant.id, { kind: 'secret', name: 'x'.repeat(101) }),
        refused('invalid'),
      );
      await assert.rejects(
        keys.createKey('mch_doesNotExist1', { kind: 'secret' }),
        refused('not_found'),
      );
    });

    test('a rolled key works until its expiry by the clock, then is refused', async () => {
      const shopClock = new OffsetClock(realNow);
      const shopMerchants = new Merchants(database, { clock: shopClock });
      const shopKeys = new ApiKeys({ database, merchants: shopMerchants, clock: shopClock });
      const { merchant, secretKey } = await shopMerchants.create({ name: 'Roll shop' });
      const old = (await shopKeys.listKeys(merchant.id)).find((key) => key.kind === 'secret');
      assert.ok(old !== undefined);
      // Cached before the roll: the cache must not keep it alive past its expiry.
      assert.ok((await shopMerchants.authenticate(secretKey)) !== undefined);
      const rolled = await shopKeys.rollKey(merchant.id, old.id, { expiresInHours: 2 });
      assertNoSecret([rolled.created, rolled.rolled, rolled.key]);
      assert.equal(rolled.rolled.before?.status, 'active');
      assert.equal(rolled.rolled.after.status, 'expiring');
      assert.equal(
        rolled.rolled.after.expiresAt?.getTime(),
        (rolled.key.createdAt.getTime() as number) + 2 * hour,
      );
      assert.equal(rolled.key.kind, 'secret');
      assert.equal(rolled.created.before, null);
      assert.ok((await shopMerchants.authenticate(secretKey)) !== undefined, 'still works');
      assert.ok((await shopMerchants.authenticate(rolled.secret)) !== undefined);
      await assert.rejects(
        shopKeys.rollKey(merchant.id, old.id, { expiresInHours: 1 }),
        refused('already_rolled'),
      );
      shopClock.advance(2 * hour - 1);
      assert.ok((await shopMerchants.authenticate(secretKey)) !== undefined, 'a millisecond left');
      shopClock.advance(1);
      assert.equal(await shopMerchants.authenticate(secretKey), undefined, 'expired, cache or not');
      assert.equal(
        await new Merchants(database, { clock: shopClock }).authenticate(secretKey),
        undefined,
      );
      assert.ok((await shopMerchants.authenticate(rolled.secret)) !== undefined);
      const listed = await shopKeys.listKeys(merchant.id);
      assert.equal(listed.find((key) => key.id === old.id)?.status, 'expired');
      await assert.rejects(shopKeys.rollKey(merchant.id, old.id), refused('not_active'));
    });

    test('rolled with no delay (the default), the old key stops at once', async () => {
      const { merchant, secretKey, publishableKey } = await merchants.create({ name: 'Now shop' });
      const listed = await keys.listKeys(merchant.id);
      const secret = listed.find((key) => key.kind === 'secret') as ApiKeyView;
      const publishable = listed.find((key) => key.kind === 'publishable') as ApiKeyView;
      assert.ok((await merchants.authenticate(secretKey)) !== undefined);
      const rolled = await keys.rollKey(merchant.id, secret.id, { name: 'main' });
      assert.equal(rolled.rolled.after.status, 'expired');
      assert.equal(rolled.key.name, 'main');
      assert.equal(await merchants.authenticate(secretKey), undefined);
      assert.ok((await merchants.authenticate(rolled.secret)) !== undefined);
      // A publishable key rolls the same way, into a publishable key.
      const rolledPublishable = await keys.rollKey(merchant.id, publishable.id);
      assert.match(rolledPublishable.secret, /^pk_test_/);
      assert.equal(await merchants.authenticate(publishableKey), undefined);
      assert.equal((await merchants.authenticate(rolledPublishable.secret))?.kind, 'publishable');
      for (const hours of [-1, 1.5, ROLL_EXPIRY_HOURS_MAX + 1, Number.NaN])
        await assert.rejects(
          keys.rollKey(merchant.id, rolled.key.id, { expiresInHours: hours }),
          refused('invalid'),
        );
      await keys.rollKey(merchant.id, rolled.key.id, { expiresInHours: ROLL_EXPIRY_HOURS_MAX });
    });

    test('revoke: refused at once; never the last key that keeps working', async () => {
      const { merchant, secretKey } = await merchants.create({ name: 'Revoke shop' });
      const first = (await keys.listKeys(merchant.id)).find(
        (key) => key.kind === 'secret',
      ) as ApiKeyView;
      await assert.rejects(keys.revokeKey(merchant.id, first.id), (error: unknown) => {
        assert.ok(error instanceof ApiKeyError);
        assert.equal(error.reason, 'last_active_key');
        assert.equal(error.category, 'conflict');
        assert.match(error.message, /only secret key that keeps working/);
        return true;
      });
      const second = await keys.createKey(merchant.id, { kind: 'secret' });
      assert.ok((await merchants.authenticate(secretKey)) !== undefined, 'cached');
      const revoked = await keys.revokeKey(merchant.id, first.id);
      assert.equal(revoked.change.before?.status, 'active');
      assert.equal(revoked.change.after.status, 'revoked');
      assert.ok(revoked.change.after.revokedAt instanceof Date);
      assertNoSecret(revoked);
      assert.equal(
        await merchants.authenticate(secretKey),
        undefined,
        'at once, despite the cache',
      );
      await assert.rejects(keys.revokeKey(merchant.id, first.id), refused('not_active'));
      // A rolled (expiring) key is no lasting key: the one it was rolled into must stay.
      const rolled = await keys.rollKey(merchant.id, second.key.id, { expiresInHours: 24 });
      await assert.rejects(keys.revokeKey(merchant.id, rolled.key.id), refused('last_active_key'));
      const early = await keys.revokeKey(merchant.id, second.key.id);
      assert.equal(early.change.before?.status, 'expiring');
      assert.equal(await merchants.authenticate(second.secret), undefined);
    });

    test("a merchant cannot see or act on another merchant's key", async () => {
      const mine = await merchants.create({ name: 'Mine' });
      const theirs = await merchants.create({ name: 'Theirs' });
      const theirKeys = await keys.listKeys(theirs.merchant.id);
      const extra = await keys.createKey(theirs.merchant.id, { kind: 'secret' });
      for (const key of [...theirKeys, extra.key]) {
        assert.equal(await keys.getKey(mine.merchant.id, key.id), undefined);
        await assert.rejects(keys.rollKey(mine.merchant.id, key.id), refused('not_found'));
        await assert.rejects(keys.revokeKey(mine.merchant.id, key.id), refused('not_found'));
      }
      assert.ok(
        (await keys.listKeys(mine.merchant.id)).every(
          (key) => !theirKeys.some((their) => their.id === key.id) && key.id !== extra.key.id,
        ),
      );
      assert.ok((await merchants.authenticate(theirs.secretKey)) !== undefined, 'untouched');
      assert.ok((await merchants.authenticate(extra.secret)) !== undefined);
      await assert.rejects(
        keys.revokeKey(mine.merchant.id, "key_' OR 1=1 --"),
        refused('not_found'),
      );
    });

    test("`within` runs in the change's transaction: if it throws, nothing changed", async () => {
      const { merchant, secretKey } = await merchants.create({ name: 'Within shop' });
      const secret = (await keys.listKeys(merchant.id)).find(
        (key) => key.kind === 'secret',
      ) as ApiKeyView;
      const failing = async () => {
        throw new Error('audit failed');
      };
      await assert.rejects(
        keys.createKey(merchant.id, { kind: 'secret', within: failing }),
        /audit failed/,
      );
      await assert.rejects(
        keys.rollKey(merchant.id, secret.id, { within: failing }),
        /audit failed/,
      );
      await keys.createKey(merchant.id, { kind: 'secret' });
      const before = await keys.listKeys(merchant.id);
      await assert.rejects(
        keys.revokeKey(merchant.id, secret.id, { within: failing }),
        /audit failed/,
      );
      assert.deepEqual(await keys.listKeys(merchant.id), before);
      assert.equal(before.length, 3, 'the failed create and roll left no key');
      assert.ok((await merchants.authenticate(secretKey)) !== undefined);
      const seen: string[] = [];
      await keys.revokeKey(merchant.id, secret.id, {
        within: async (tx, answer) => {
          const row = await tx.query<{ revoked: boolean }>(
            'SELECT revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = $1',
            [answer.key.id],
          );
          seen.push(
            `${answer.change.before?.status}->${answer.change.after.status}:${row.rows[0]?.revoked}`,
          );
        },
      });
      assert.deepEqual(seen, ['active->revoked:true']);
    });

    if (kind === 'postgres')
      test('two revokes at once never leave a merchant without a working secret key', async () => {
        for (let round = 0; round < 5; round++) {
          const { merchant } = await merchants.create({ name: `Race ${round}` });
          await keys.createKey(merchant.id, { kind: 'secret' });
          const secrets = (await keys.listKeys(merchant.id)).filter((key) => key.kind === 'secret');
          assert.equal(secrets.length, 2);
          const results = await Promise.allSettled(
            secrets.map((key) => keys.revokeKey(merchant.id, key.id)),
          );
          assert.deepEqual(results.map((result) => result.status).sort(), [
            'fulfilled',
            'rejected',
          ]);
          const left = (await keys.listKeys(merchant.id)).filter(
            (key) => key.kind === 'secret' && key.status === 'active',
          );
          assert.equal(left.length, 1);
        }
      });
  });
}
